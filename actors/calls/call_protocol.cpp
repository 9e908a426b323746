#include "actors/calls/call_protocol.hpp"

namespace cms::actors {

const char* to_string(call_phase p) noexcept {
  switch (p) {
  case call_phase::dialling:
    return "dialling";
  case call_phase::routing:
    return "routing";
  case call_phase::setting_up:
    return "setting_up";
  case call_phase::alerting:
    return "alerting";
  case call_phase::connected:
    return "connected";
  case call_phase::releasing:
    return "releasing";
  case call_phase::ended:
    return "ended";
  }
  return "unknown";
}

boost::json::object to_json(const call_state& x) {
  boost::json::object o;
  o["call_id"] = x.call_id;
  o["phase"] = to_string(x.phase);
  o["calling_number"] = x.calling_number;
  o["called_number"] = x.called_number;
  o["originating"] = x.originating;
  o["terminating"] = x.terminating;
  o["route"] = x.route;
  o["orig_connection"] = x.orig_connection;
  o["term_connection"] = x.term_connection;
  o["started_ms"] = x.started_ms;
  o["dialled_ms"] = x.dialled_ms;
  o["alerting_ms"] = x.alerting_ms;
  o["answered_ms"] = x.answered_ms;
  o["ended_ms"] = x.ended_ms;
  o["cause"] = x.cause;
  o["orig_stats"] = x.orig_stats;
  o["term_stats"] = x.term_stats;
  o["emergency"] = x.emergency;
  o["emergency_only"] = x.emergency_only;
  o["caller_on_hook"] = x.caller_on_hook;
  if (x.orig_gate_id != 0 || x.term_gate_id != 0) {
    boost::json::object gates;
    if (x.orig_gate_id != 0)
      gates["orig"] = {{"gate_id", x.orig_gate_id}, {"cmts", x.orig_cmts}};
    if (x.term_gate_id != 0)
      gates["term"] = {{"gate_id", x.term_gate_id}, {"cmts", x.term_cmts}};
    o["dqos_gates"] = std::move(gates);
  }
  return o;
}

} // namespace cms::actors
