#pragma once
// Paces the HTTP server's requests to a configured rate: the management budget. A status endpoint
// serves operators and scrapers (a few requests a second); answered as fast as a closed-loop client
// can ask (wrk: 50k requests/s) it takes CPU and loopback softirq time from call signalling that no
// thread priority can hold back (docs/performance.md "Traffic priority"). Making a request cheaper
// only lets such a client ask more often, so the bound is on the rate.
//
// The algorithm is ITU-T I.371's generic cell rate algorithm (GCRA), the one ATM policers use: a
// theoretical arrival time advances by 1/rate per admitted request; a request may run `burst`
// intervals ahead of it. A request beyond that is not refused at once but delayed until its slot
// (backpressure: a closed-loop client slows to the rate), unless its slot is more than `max_delay`
// away, when it is refused (429) and takes no slot. Thread-safe: sessions run on their own strands.

#include <chrono>
#include <cstddef>
#include <mutex>

namespace cms::http {

struct pacing_config {
  double requests_per_s = 0; ///< 0: unpaced
  std::size_t burst = 50;    ///< requests admitted back to back before pacing starts
  std::chrono::milliseconds max_delay{1000}; ///< a slot further away than this: 429
};

class request_pacer {
public:
  using clock = std::chrono::steady_clock;

  explicit request_pacer(pacing_config cfg);

  struct decision {
    bool admitted = true;
    clock::duration delay{}; ///< admitted: how long to wait before serving; refused: retry hint
  };

  /// Takes a slot for a request arriving at `now`.
  decision admit(clock::time_point now);
  bool enabled() const noexcept { return cfg_.requests_per_s > 0; }
  const pacing_config& config() const noexcept { return cfg_; }

private:
  pacing_config cfg_;
  clock::duration interval_{};
  clock::duration tolerance_{};
  std::mutex mutex_;
  clock::time_point tat_{}; ///< theoretical arrival time of the next request
};

} // namespace cms::http
