#pragma once
// What mtasim measured: signalling counters, call outcomes by cause, setup latency percentiles and
// RTP totals, printed for a human or as one JSON object (format in docs/mtasim.md).

#include "test/tools/mtasim/rtp.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cms::sim {

/// Exact percentiles over every sample (a run has at most a few hundred thousand calls).
class latency_samples {
public:
  void add(double ms) { samples_.push_back(ms); }
  std::size_t count() const noexcept { return samples_.size(); }
  /// Nearest-rank percentile, p in [0, 100]; 0 when empty.
  double percentile(double p) const;
  double max() const;

private:
  std::vector<double> samples_;
};

/// NCS signalling seen from the MTA side.
struct signalling_counters {
  std::uint64_t rsip_sent = 0;
  std::uint64_t rsip_acked = 0;
  std::uint64_t rsip_failed = 0; ///< no answer (transaction failure) or an error code
  std::uint64_t ntfy_sent = 0;
  std::uint64_t ntfy_acked = 0;
  std::uint64_t ntfy_failed = 0;   ///< no answer
  std::uint64_t ntfy_rejected = 0; ///< answered with an error code
  std::uint64_t failovers = 0;     ///< moves to the next call agent (disconnected procedure)
  std::uint64_t commands_received = 0;
  std::uint64_t commands_refused = 0; ///< answered with an error code by us
  std::map<std::string, std::uint64_t> commands_by_verb;
};

/// Outcomes of the calls placed by the scenario.
struct call_counters {
  std::uint64_t attempts = 0;
  std::uint64_t answered = 0;
  std::uint64_t completed = 0;                   ///< answered, held, released by the call agent
  std::uint64_t release_timeouts = 0;            ///< hung up but the connections were never deleted
  std::uint64_t skipped = 0;                     ///< no idle pair of lines when a call was due
  std::map<std::string, std::uint64_t> failures; ///< busy, reorder, no_answer, timeout, ...
  latency_samples setup_latency_ms;              ///< off-hook -> ringback or answer
  latency_samples answer_latency_ms;             ///< off-hook -> answer (both legs sendrecv)
};

/// The PSTN side of the simulated trunking gateways (sums over every gateway).
struct trunk_counters {
  std::uint64_t seizures = 0;          ///< CRCX with X-TR/sup: outgoing PSTN calls placed
  std::uint64_t alerted = 0;           ///< X-TR/alt notified
  std::uint64_t answered = 0;          ///< X-TR/ans notified
  std::uint64_t busy = 0;              ///< released at once with cause 17 (--pstn-answer busy)
  std::uint64_t released_by_ca = 0;    ///< X-TR/rel signal from the call agent
  std::uint64_t released_by_pstn = 0;  ///< X-TR/rel event sent to the call agent
  std::uint64_t incoming_offered = 0;  ///< NTFY X-TR/sup sent (PSTN call toward a line)
  std::uint64_t incoming_accepted = 0; ///< ... answered 200
  std::uint64_t incoming_refused = 0;  ///< ... answered with an error or not at all
  std::uint64_t refused = 0;           ///< commands answered with an error code
  std::uint64_t dropped_silent = 0;    ///< datagrams swallowed while a gateway stopped answering
};

struct report_data {
  std::string mode; ///< "answer", "calls", "gateway"
  double elapsed_s = 0;
  std::size_t lines = 0;
  std::size_t lines_registered = 0;
  std::size_t lines_off_hook = 0; ///< when the report was taken (0 after a settled scenario)
  std::size_t gateways = 0;
  trunk_counters trunks;
  signalling_counters signalling;
  call_counters calls;
  rtp_counters rtp;              ///< sum over every connection, open and released
  std::uint64_t rtp_streams = 0; ///< connections that carried media
};

boost::json::object to_json(const report_data& r);
std::string to_text(const report_data& r);

} // namespace cms::sim
