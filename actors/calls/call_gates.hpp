#pragma once
// The call's side of DQoS (docs/qos.md): before a line's CRCX the call asks the gate controller of
// that MTA's CMTS for a gate (Gate-Set, both directions, billed under the half-call's BCID); the
// Gate ID goes into the CRCX's L: as dq-gi. An MTA behind no CMTS, or behind one provisioned with
// dqos = false, and a trunk leg, proceed best effort. At release the gates are deleted; at
// takeover the resumed call hands its gates to the new active's controllers (audit).

#include "actors/calls/call_actor.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace cms::actors {

using call_self = caf::stateful_actor<call_actor_state>*;

/// Authorises the media of one leg. `granted(gate_id)` runs with 0 for a best-effort leg;
/// `refused(cause, tone)` when the CMTS refused (Set-Err: 47) or could not be asked (41).
/// `remote_sdp`: the far end's session description when known (narrows the classifiers).
void reserve_gate(call_self self, bool is_orig, const std::string& remote_sdp,
                  std::function<void(std::uint32_t gate_id)> granted,
                  std::function<void(int cause)> refused);

/// Gate-Delete for every gate the call holds (again after a takeover: a duplicate is harmless).
void release_gates(call_self self);

/// A resumed call: its gates now belong to this node's controllers, which audit them.
void adopt_gates(call_self self);

} // namespace cms::actors
