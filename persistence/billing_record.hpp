#pragma once
// One PacketCable-style billing event record. Plain data: written to the SQLite outbox in the same
// transaction as the call's state change, replicated to the standby over the node link, forwarded
// to the Record Keeping Server and shown over HTTP.

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace cms::billing {

struct billing_record {
  std::string record_id;            ///< node-independent unique id: "<call_id>:<event>"
  std::uint64_t sequence = 0;       ///< monotonic per pair, assigned by the outbox owner
  std::string event;                ///< "signaling_start", "call_answer", "signaling_stop"
  std::string call_id;
  std::string calling_number;
  std::string called_number;
  std::string originating;          ///< endpoint name or trunk channel
  std::string terminating;          ///< endpoint name or trunk channel
  std::string route;                ///< "on-net" or the route/trunk group used
  std::string carrier;              ///< carrier of the facility used, empty on-net
  std::int64_t timestamp_ms = 0;    ///< UTC, milliseconds since the epoch
  int release_cause = 0;            ///< Q.850 cause value; 0 before release
  std::string connection_stats;     ///< DLCX "P:" parameters of both legs
  friend bool operator==(const billing_record&, const billing_record&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, billing_record& x) {
  return f(caf::meta::type_name("billing_record"), x.record_id, x.sequence, x.event, x.call_id,
           x.calling_number, x.called_number, x.originating, x.terminating, x.route, x.carrier,
           x.timestamp_ms, x.release_cause, x.connection_stats);
}

} // namespace cms::billing
