#pragma once
// One actor per call: the NCS basic call (docs/calls.md, "Call state machine").
//
// Spawned by the call manager when a line goes off hook (originate_call). It asks the originating
// endpoint for dial tone, checks the reported digits against the digit map, routes through the
// dial plan, seizes the called line, creates both connections (originating recvonly, terminating
// sendrecv with the originating SDP, then MDCX of the originating leg with the terminating SDP),
// rings the called line with ringback on the caller, connects both legs sendrecv on answer, and
// on any end deletes both connections (collecting P:), writes signaling_stop with the cause and
// releases both lines. It monitors both endpoint actors: a leg whose actor dies ends the call with
// cause 41. Handles:
//   line_event -> bool   (true when the call acted on it and will send the line's next request)
//   call_timeout         (dial / no-answer timers, generation-checked)
//   (atom::clock_stepped, adjustment_ms, at_ms)   the wall clock was stepped while the call is up:
//                        a time_change record (Time_Change EMs on both halves), once per step

#include "actors/calls/call_context.hpp"
#include "actors/calls/call_protocol.hpp"
#include "actors/calls/endpoint_protocol.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>

namespace cms::actors {

struct call_actor_state {
  call_state data;
  std::shared_ptr<call_context> ctx;
  caf::actor orig;
  caf::actor term;
  std::uint64_t timer_generation = 0;
  caf::actor_clock::time_point dialled_at;
  int pending_deletes = 0;
  bool term_alerted = false;   ///< the called line rings (it may answer before ringback is on)
  bool answered_early = false; ///< off hook reported before the ringing request was confirmed
  std::string orig_tone;       ///< tone the caller hears after the release (busy, reorder, none)
  std::string gate_reason = "overload"; ///< emergency window: which gate refused the attempt
  static inline const char* name = "call";
};

caf::behavior call_actor(caf::stateful_actor<call_actor_state>* self,
                         std::shared_ptr<call_context> ctx, originate_call origin);

/// A call taken over from the replicated image: its lines are looked up in the
/// directory and re-attached (attach_call), earlier billing events re-billed (deduplicated by
/// record id), and the call continues from its phase: dialling, alerting and connected go on
/// (no DLCX, same start time); routing/setting_up, whose step in flight was not replicated, end
/// with cause 41 (cms_ha_calls_ended_on_takeover_total); releasing finishes its release.
caf::behavior call_actor_resume(caf::stateful_actor<call_actor_state>* self,
                                std::shared_ptr<call_context> ctx, call_state state);

} // namespace cms::actors
