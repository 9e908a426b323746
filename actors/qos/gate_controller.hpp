#pragma once
// The DQoS Gate Controller toward one CMTS (PKT-SP-DQOS): owns the COPS session to it, sets and
// deletes the gates of the calls, and keeps the list of the gates it knows so that nothing leaks
// and nothing live is deleted.
//
// Role: only the active node speaks to the CMTS. The controller follows the HA actor
// (atom::role_changed): active -> opens the session (the session reconnects on its own, with
// back-off); anything else -> closes it and forgets its gates (the new active owns them now and
// learns them from the calls it adopts, gate_adopt).
//
// Audit: at every connection that reaches ready (the first one, each reconnect, after a
// takeover), every known gate is checked: a gate whose half-call ended while the CMTS was away is
// deleted (Gate-Delete), the others are asked for (Gate-Info); a gate the CMTS no longer knows is
// reported to its call (gate_closed, "lost"). A gate is deleted only when its call asked for it
// or its call actor is gone (the controller monitors it): never under a live call.
//
// Protocol: gate_protocol.hpp; internal messages below come from the session's io thread.

#include "actors/qos/gate_parameters.hpp"
#include "actors/qos/gate_protocol.hpp"
#include "runtime/base/metrics.hpp"
#include "runtime/cops/gate_controller_session.hpp"

#include <boost/asio/io_context.hpp>

#include <caf/all.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace cms::qos {

struct controller_settings {
  std::string cmts;             ///< provisioned name
  cops::session_config session; ///< address, port, Keep-Alive, timeouts, back-off
  gate_parameters gates;
};

/// One gate as the controller knows it.
struct known_gate {
  std::string call_id;
  half_call half = half_call::originating;
  std::uint32_t subscriber = 0;
  caf::actor call;
  bool committed = false; ///< Gate-Open seen
  bool deleting = false;  ///< the call is over; Gate-Delete sent or due at the next connection
};

// ---- session -> controller (posted from the io thread) -----------------------------------------
struct session_ready {
  std::uint64_t generation = 0;
};
struct session_lost {
  std::uint64_t generation = 0;
  std::string reason;
};
struct session_gate_event {
  std::uint64_t generation = 0;
  cops::gate_command event;
};
struct command_done {
  std::uint64_t token = 0;
  cops::command_outcome outcome;
};

struct gate_controller_state {
  controller_settings settings;
  boost::asio::io_context* io = nullptr;
  metrics::registry* metrics = nullptr;
  std::shared_ptr<cops::gate_controller_session> session;
  std::uint64_t generation = 0; ///< of the current session; events of older ones are ignored
  bool active = false;
  bool ready = false;
  std::uint64_t epoch = 0;
  std::map<std::uint32_t, known_gate> gates;
  std::uint64_t next_token = 1;
  struct pending_set {
    caf::response_promise promise;
    gate_set_request request;
  };
  std::map<std::uint64_t, pending_set> pending_sets; ///< by token, until the session answers
  struct gate_request {
    std::uint32_t gate_id = 0;
    cops::gate_command_type kind = cops::gate_command_type::gate_info;
    bool audit = false;
  };
  std::map<std::uint64_t, gate_request> gate_requests; ///< Gate-Info / Gate-Delete in flight
  std::uint64_t audits = 0;
  std::uint64_t audit_deletes = 0; ///< gates deleted at an audit (their call had ended)
  std::uint64_t audit_lost = 0;    ///< gates the CMTS no longer knew at an audit
  std::uint64_t closes = 0;        ///< unsolicited Gate-Close
  static inline const char* name = "gate_controller";
  ~gate_controller_state();
};

caf::behavior gate_controller(caf::stateful_actor<gate_controller_state>* self,
                              controller_settings settings, boost::asio::io_context* io,
                              metrics::registry* metrics);

} // namespace cms::qos

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::session_ready)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::session_lost)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::session_gate_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::command_done)
