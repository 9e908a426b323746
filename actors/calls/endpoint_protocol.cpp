#include "actors/calls/endpoint_protocol.hpp"

namespace cms::actors {

const char* to_string(line_state s) noexcept {
  switch (s) {
  case line_state::unregistered:
    return "unregistered";
  case line_state::idle:
    return "idle";
  case line_state::off_hook:
    return "off_hook";
  case line_state::dialling:
    return "dialling";
  case line_state::ringing:
    return "ringing";
  case line_state::in_call:
    return "in_call";
  case line_state::out_of_service:
    return "out_of_service";
  case line_state::disconnected:
    return "disconnected";
  }
  return "unknown";
}

bool is_registered(line_state s) noexcept {
  switch (s) {
  case line_state::idle:
  case line_state::off_hook:
  case line_state::dialling:
  case line_state::ringing:
  case line_state::in_call:
    return true;
  default:
    return false;
  }
}

const char* to_string(treatment t) noexcept {
  switch (t) {
  case treatment::dial_tone:
    return "dial_tone";
  case treatment::ringback:
    return "ringback";
  case treatment::ringing:
    return "ringing";
  case treatment::connected:
    return "connected";
  case treatment::emergency_dial_tone:
    return "emergency_dial_tone";
  }
  return "unknown";
}

const char* to_string(line_event_kind k) noexcept {
  switch (k) {
  case line_event_kind::off_hook:
    return "off_hook";
  case line_event_kind::on_hook:
    return "on_hook";
  case line_event_kind::digits:
    return "digits";
  case line_event_kind::failed:
    return "failed";
  case line_event_kind::out_of_service:
    return "out_of_service";
  }
  return "unknown";
}

boost::json::object to_json(const endpoint_state& x) {
  boost::json::object o;
  o["name"] = x.name;
  o["directory_number"] = x.directory_number;
  o["mta"] = x.mta;
  o["state"] = to_string(x.state);
  o["mta_address"] = x.peer.address;
  o["mta_port"] = x.peer.port;
  o["provisioned_address"] = x.provisioned_address;
  o["restart_method"] = x.restart_method;
  o["restart_delay"] = x.restart_delay;
  o["graceful_pending"] = x.graceful_pending;
  o["request_id"] = x.request_id;
  o["requested_events"] = x.requested_events;
  o["signals"] = x.signals;
  o["off_hook"] = x.hook_off;
  o["call_id"] = x.call_id;
  o["connection_id"] = x.connection_id;
  o["registered_ms"] = x.registered_ms;
  o["changed_ms"] = x.changed_ms;
  o["spoofed"] = x.spoofed;
  o["stale_notifies"] = x.stale_notifies;
  return o;
}

} // namespace cms::actors
