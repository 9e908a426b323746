#pragma once
// Messages between the calls and the gate controllers (one per CMTS, gate_controller.hpp). All
// local to a node: what the pair replicates are the gate ids in the call's own state.
//
//   call -> controller   gate_set_request      -> gate_outcome   authorise one half-call's media
//   call -> controller   gate_delete_request                     the half-call ended (no answer)
//   call -> controller   gate_adopt                              takeover: this gate is mine now
//   controller -> call   gate_closed                             the CMTS closed or lost the gate
//   role follower        (atom::role_changed, role, epoch)       connect only while active
//   anyone               (atom::status) -> std::string           JSON: session, gates, counters

#include "runtime/cops/dqos.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <string>

namespace cms::qos {

enum class half_call : std::uint8_t { originating = 0, terminating = 1 };

/// Gate-Set for one half-call: both directions' Gate Specs for the MTA `subscriber`, billed under
/// `bcid`. `remote_ip`/`remote_port` (host order) narrow the classifiers to the far end's media
/// when known; 0 leaves them wildcard (the caller's half, set before the far end is known).
struct gate_set_request {
  std::string call_id;
  half_call half = half_call::originating;
  std::uint32_t subscriber = 0;
  std::uint32_t remote_ip = 0;
  std::uint16_t remote_port = 0;
  bool emergency = false; ///< high-priority session class
  cops::bcid bcid{};
  caf::actor call; ///< told of a Gate-Close; monitored so a vanished call's gate is deleted
};

/// The answer: `gate_id` on ack; otherwise `status` ("err", "timeout", "not_ready",
/// "connection_lost", "stopped", "not_active") and for "err" the PacketCable Error code.
struct gate_outcome {
  bool ok = false;
  std::uint32_t gate_id = 0;
  std::string status;
  std::uint16_t error_code = 0;
  std::uint16_t error_subcode = 0;
};

/// The half-call is over: Gate-Delete now, or at the next connection if the CMTS is away.
struct gate_delete_request {
  std::string call_id;
  std::uint32_t gate_id = 0;
};

/// A call resumed at takeover holds this gate: the controller audits it (Gate-Info) and keeps
/// it until the call deletes it.
struct gate_adopt {
  std::string call_id;
  half_call half = half_call::originating;
  std::uint32_t gate_id = 0;
  std::uint32_t subscriber = 0;
  caf::actor call;
};

/// The gate of this call is gone on the CMTS: closed on its own (unsolicited Gate-Close, `why`
/// "gate_close" with the PacketCable Reason subcode) or not found at an audit ("lost").
struct gate_closed {
  std::string call_id;
  std::uint32_t gate_id = 0;
  std::string why;
  std::uint16_t subcode = 0;
};

} // namespace cms::qos

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::gate_set_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::gate_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::gate_delete_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::gate_adopt)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::qos::gate_closed)
