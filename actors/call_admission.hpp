#pragma once
// Overload control of call processing (issue 9 item 2): every new call attempt (a line goes off
// hook while idle) asks admit() before a call actor is spawned. Above the configured capacity the
// attempt is shed at once with reorder (L/ro) to the MTA: it costs the node one RQNT instead of
// the ~20 MGCP transactions of a call, so established calls and their signalling keep the CPU and
// the throughput of completed calls stays near capacity (the telecom overload rule: >= 90% of
// capacity at 130% offered load). Also honours the operator's drain switch (runtime/admission.hpp)
// when one is attached.
//
// The limit is a token bucket in call attempts per second (`[calls] max_call_rate` in the node
// config; 0 = unlimited). Thread-safe: endpoint actors on every scheduler thread call admit().

#include "runtime/admission.hpp"
#include "runtime/metrics/metrics.hpp"

#include <atomic>
#include <chrono>
#include <mutex>

namespace cms::actors {

class call_admission {
public:
  enum class verdict { admitted, shed_rate, shed_drain };

  /// rate: attempts per second (0 = no limit); burst: bucket depth in attempts (0 = rate / 5,
  /// at least 1: a 200 ms burst is absorbed, a sustained excess is not).
  call_admission(double rate, double burst, metrics::registry& registry);

  /// Consumes a token when the attempt is admitted. `now` is injectable for tests.
  verdict admit(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  /// The operator's drain switch, consulted first; null detaches it. Must outlive the calls.
  void attach_drain(const cms::admission* drain) noexcept { drain_.store(drain, std::memory_order_release); }

  double rate() const noexcept { return rate_; }
  double burst() const noexcept { return burst_; }

private:
  const double rate_;
  const double burst_;
  std::atomic<const cms::admission*> drain_{nullptr};
  std::mutex mutex_; ///< guards the bucket (one short critical section per call attempt)
  double tokens_;
  std::chrono::steady_clock::time_point last_{};
  metrics::counter& admitted_;
  metrics::counter& shed_rate_;
  metrics::counter& shed_drain_;
};

} // namespace cms::actors
