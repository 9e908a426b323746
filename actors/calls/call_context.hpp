#pragma once
// What the endpoint, call, manager and edge actors of one node share: settings, the endpoint
// directory, the dial plan, metrics, and the current handles of the singleton actors. Handles
// change when the supervisor restarts an actor, so actors read them at the moment they send
// (edge(), manager()...) instead of keeping a copy.

#include "runtime/base/wall_clock.hpp"
#include "actors/calls/call_admission.hpp"
#include "actors/calls/dial_plan.hpp"
#include "actors/calls/endpoint_directory.hpp"
#include "actors/calls/endpoint_liveness.hpp"
#include "actors/calls/endpoint_protocol.hpp"
#include "runtime/base/metrics.hpp"
#include "runtime/mgcp/digit_map.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cms::qos {
class gate_directory;
} // namespace cms::qos

namespace cms::actors {

/// Call processing knobs. Defaults follow NCS practice; tests shorten the timers.
struct call_settings {
  /// N: in every RQNT: where the MTA sends NTFYs ("ca@cms-a.example:2727").
  std::string notified_entity = "ca@localhost:2727";
  /// D: sent with dial tone (NCS/North American numbering: 7 digits, 1+10, 911, 0, 00, 011...).
  std::string digit_map = "(0T|00T|[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx|011x.T|911)";
  /// Off hook without a complete number within this time: reorder, cause 28 (partial dial).
  std::chrono::milliseconds dial_timeout{20000};
  /// Ringing without an answer for this long: cause 19.
  std::chrono::milliseconds no_answer_timeout{60000};
  /// call -> endpoint requests; must exceed the MGCP retransmission budget below.
  std::chrono::milliseconds line_request_timeout{60000};
  /// endpoint -> edge requests: the agent always answers (response or Max2 timeout) before this.
  std::chrono::milliseconds mgcp_request_timeout{50000};
  /// AUEP keepalive of lines in a call (an MTA that dies mid-call is noticed); 0 disables it.
  std::chrono::milliseconds in_call_audit_interval{30000};
  /// Billing group commit: records arriving within this window share one SQLite transaction.
  std::chrono::milliseconds billing_batch_window{5};
  std::size_t billing_batch_max = 256;
  /// Records held in memory while the store refuses writes (disk full, locked). At this many new
  /// calls are refused (call_admission: shed reason "billing_backlog") until the backlog is
  /// written down to half of it; records of calls already up are still taken, never dropped.
  std::size_t billing_queue_max = 50000;
  /// Delivered billing records (acknowledged by the RKS) are kept locally this long, then pruned;
  /// 0 keeps them for ever. Undelivered records are never pruned.
  std::chrono::milliseconds billing_retention{0};
  std::chrono::milliseconds billing_prune_interval{60000};
  std::size_t billing_prune_chunk = 20000;
  /// A line adopted at takeover (or at start from the node's own store) in a call that does not
  /// resume within this time (the call ended with the old active, or its record never reached the
  /// image) releases its connection and returns to rest instead of staying busy for good.
  std::chrono::milliseconds adopted_call_grace{30000};
  /// How often the call manager compares the wall clock with the monotonic clock, and the step
  /// that makes every call up bill a Time_Change (clock_watch.hpp). 0 interval: never.
  std::chrono::milliseconds clock_watch_interval{1000};
  std::int64_t clock_step_threshold_ms = 200;
  /// Number blocks that belong to this switch: unassigned numbers in them get cause 1.
  std::vector<std::string> on_net_prefixes;
  /// L: of our CRCX (packetization period, codec).
  std::string local_connection_options = "p:20, a:PCMU";
  /// Q: of our RQNTs. NCS lockstep: after each NTFY the MTA waits for our next RQNT and keeps
  /// (quarantines) what happens meanwhile; we always send the next RQNT, so "process,step".
  std::string quarantine_handling = "process,step";
  /// Overload control (call_admission.hpp): new attempts per second, 0 = no limit; bucket depth.
  double max_call_rate = 0;
  double call_rate_burst = 0;
  /// Numbers admitted whatever the load or a drain, routed like any number (the provisioned
  /// routes send them to the emergency trunk group), under network hold once answered. Codes the
  /// digit map above does not complete are added to it.
  std::vector<std::string> emergency_codes{"911"};
  /// How long an attempt refused by the overload gate or a drain hears dial tone for an
  /// emergency code (digit map of the codes only); 0: refused at once with reorder.
  std::chrono::milliseconds emergency_window{10000};
};

/// Metric handles, created once (the registry returns stable references).
struct call_metrics {
  explicit call_metrics(metrics::registry& r);
  metrics::registry& registry;
  metrics::gauge& calls_active;
  metrics::counter& call_attempts;
  metrics::counter& call_completions;
  metrics::counter& calls_crashed;
  metrics::histogram& setup_latency_ms;
  metrics::gauge& endpoints_registered;
  metrics::gauge& endpoints_total;
  metrics::counter& spoofed;
  metrics::counter& stale_notifies;
  metrics::counter& audits_spared;
  metrics::counter& billing_records;
  metrics::counter& billing_batches;
  metrics::counter& billing_errors;
  metrics::counter& emergency_calls;
  /// cms_emergency_window_total{reason="overload|drain"}: refused attempts given the window.
  metrics::counter& emergency_window(const char* reason);
  /// cms_emergency_calls_past_gate_total{reason}: emergency calls dialled in such a window.
  metrics::counter& emergency_past_gate(const char* reason);
  /// cms_call_failures_total{cause="17"}.
  metrics::counter& failures(int cause);
};

class call_context {
public:
  /// Throws std::invalid_argument when settings.digit_map is not a digit map.
  call_context(call_settings settings, metrics::registry& registry, dial_plan plan);

  const call_settings settings;
  call_metrics metrics;
  const dial_plan plan;
  /// settings.digit_map, compiled once; the calls check the MTA's report against it.
  const mgcp::digit_map digit_map;
  /// D: of the emergency window (settings.emergency_codes only); empty: no window.
  const std::string emergency_digit_map;
  endpoint_directory directory;
  /// When each MTA last answered or sent a command: spares in-call audits of live MTAs.
  endpoint_liveness liveness;
  /// Consulted by a line before it starts a call: sheds attempts above capacity (and on drain).
  call_admission admission;
  /// DQoS: which CMTS's gate controller authorises an MTA's media; null: every leg best effort.
  /// Set once before the actors start.
  std::shared_ptr<qos::gate_directory> gates;

  caf::actor edge() const { return get(edge_); }
  caf::actor manager() const { return get(manager_); }
  caf::actor catalog() const { return get(catalog_); }
  caf::actor outbox() const { return get(outbox_); }
  void set_edge(caf::actor h) { set(edge_, std::move(h)); }
  void set_manager(caf::actor h) { set(manager_, std::move(h)); }
  void set_catalog(caf::actor h) { set(catalog_, std::move(h)); }
  void set_outbox(caf::actor h) { set(outbox_, std::move(h)); }

  /// Last state of each line, kept so a restarted endpoint actor resumes its registration.
  void save(const endpoint_state& st);
  std::optional<endpoint_state> snapshot(const std::string& name) const;
  std::vector<endpoint_state> snapshots() const;

  /// Drops every handle (shutdown: they would keep actors alive).
  void clear();

private:
  caf::actor get(const caf::actor& h) const {
    std::lock_guard guard{mutex_};
    return h;
  }
  void set(caf::actor& slot, caf::actor h) {
    std::lock_guard guard{mutex_};
    slot = std::move(h);
  }
  mutable std::mutex mutex_;
  caf::actor edge_, manager_, catalog_, outbox_;
  mutable std::mutex snapshots_mutex_;
  std::map<std::string, endpoint_state> snapshots_;
};

} // namespace cms::actors
