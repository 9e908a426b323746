#pragma once
// One PacketCable-style billing event record. Plain data: written to the SQLite outbox in the same
// transaction as the call's state change, replicated to the standby over the node link, forwarded
// to the Record Keeping Server and shown over HTTP.

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <tuple>

namespace cms::billing {

struct billing_record {
  std::string record_id;      ///< node-independent unique id: "<call_id>:<event>"
  std::uint64_t sequence = 0; ///< monotonic per pair, assigned by the outbox owner
  std::string event;          ///< "signaling_start", "call_answer", "signaling_stop"
  std::string call_id;
  std::string calling_number;
  std::string called_number;
  std::string originating;       ///< endpoint name or trunk channel
  std::string terminating;       ///< endpoint name or trunk channel
  std::string route;             ///< "on-net" or the route/trunk group used
  std::string carrier;           ///< carrier of the facility used, empty on-net
  std::int64_t timestamp_ms = 0; ///< UTC, milliseconds since the epoch
  int release_cause = 0;         ///< Q.850 cause value; 0 before release
  std::string connection_stats;  ///< DLCX "P:" parameters of both legs
  /// time_change only: how far the wall clock was stepped (ms, negative when set back).
  std::int64_t time_adjustment_ms = 0;
  /// Field-wise equality (written out: defaulted comparisons are C++20 and we build as C++17).
  friend bool operator==(const billing_record& a, const billing_record& b) {
    return std::tie(a.record_id, a.sequence, a.event, a.call_id, a.calling_number, a.called_number,
                    a.originating, a.terminating, a.route, a.carrier, a.timestamp_ms,
                    a.release_cause, a.connection_stats, a.time_adjustment_ms) ==
           std::tie(b.record_id, b.sequence, b.event, b.call_id, b.calling_number, b.called_number,
                    b.originating, b.terminating, b.route, b.carrier, b.timestamp_ms,
                    b.release_cause, b.connection_stats, b.time_adjustment_ms);
  }
  friend bool operator!=(const billing_record& a, const billing_record& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, billing_record& x) {
  return f(caf::meta::type_name("billing_record"), x.record_id, x.sequence, x.event, x.call_id,
           x.calling_number, x.called_number, x.originating, x.terminating, x.route, x.carrier,
           x.timestamp_ms, x.release_cause, x.connection_stats, x.time_adjustment_ms);
}

} // namespace cms::billing
