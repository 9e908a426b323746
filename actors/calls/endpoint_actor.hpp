#pragma once
// One actor per provisioned line: NCS line control (docs/calls.md, "Endpoint state machine").
//
// Inbound (from the MGCP edge, high priority): inbound_command with RSIP or NTFY.
//   - Commands from an address that is not the line's MTA are refused with 500 "endpoint unknown"
//     (the refusal tells a spoofer nothing about which lines exist) and counted in
//     cms_mgcp_spoofed_total. NTFY must come from exactly the address:port the MTA registered
//     from; RSIP must come from the provisioned MTA address when one is provisioned, and may move
//     an idle line to a new port, never a line in a call.
//   - RSIP restart/disconnected: record the MTA, audit it (AUEP), arm L/hd (RQNT, N: = us).
//     forced: out of service at once (a call is told). graceful: out of service after RD seconds,
//     or when the call ends. cancel-graceful undoes it.
//   - NTFY: its X: must be the armed request id (a stale one is answered 200 and ignored); events
//     are then handed to the line's call, or start a call (off hook while idle).
// From its call (endpoint_protocol.hpp): seize_line, apply_treatment, create/modify/delete
// connection -> line_reply; release_line. The endpoint monitors its call: when the call actor
// dies without releasing the line (a crash), the endpoint deletes its own connection and re-arms.

#include "actors/calls/call_context.hpp"
#include "actors/calls/endpoint_protocol.hpp"
#include "persistence/provisioning.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cms::actors {

/// What the line is armed for now, so it can be armed again with a fresh X.
struct armed_request {
  std::string signals;
  std::string events;
  bool digit_map = false;
  /// D: other than the configured map (the emergency window's); empty: the configured one.
  std::string map_text;
};

struct endpoint_actor_state {
  endpoint_state data;
  std::shared_ptr<call_context> ctx;
  caf::actor call; ///< the call using this line (monitored), if any
  armed_request armed;
  bool suspended = false; ///< provisioning status "suspended": never in service
  std::uint64_t audit_generation = 0;
  std::uint64_t graceful_generation = 0;
  std::uint32_t id_base = 0;      ///< random prefix of our X: values, distinct across restarts
  std::string adopted_request_id; ///< takeover: the old active's X:, accepted once (NTFY in flight)
  int hook_mismatches =
    0; ///< 401/402 in a row told to the call; bounded so a confused MTA cannot loop us
  /// Claimed at takeover (or back from RSIP disconnected) as idle: a 401 to the idle request means
  /// the subscriber went off hook while no node listened (the NTFY went to the dead node), so
  /// the attempt starts now instead of leaving the caller without dial tone.
  bool offhook_while_unheard_originates = false;
  /// A registration audit (AUEP) is on its way: an NTFY meanwhile does not start another.
  bool registering = false;
  /// What the line heard while its call was not attached yet, told to the call in order when it
  /// attaches: a hook change learnt (401/402) at takeover (lines are claimed before their calls
  /// resume), or the digits and hang-up of a caller whose call's handle is still on its way from
  /// the manager (its dial-tone request can overtake that reply under load).
  std::vector<std::pair<line_event_kind, std::string>> events_for_call;
  /// RQNTs sent (their order) and the newest of them answered. Answers can come back out of
  /// order (a lost first copy is retransmitted), and the MTA then applied the older request last.
  std::uint64_t requests_sent = 0;
  std::uint64_t newest_request_answered = 0;
  std::uint64_t rest_generation = 0; ///< requests arming the line with no call (arm_rest)
  /// splitmix64 state for call ids. Not std::mt19937_64: its 2.5 kB of state per line was a
  /// quarter of an idle line's memory at 100k lines, and seeding each one from random_device
  /// cost a system call per line at start-up.
  std::uint64_t rng = 0;
  static inline const char* name = "endpoint";
};

caf::behavior endpoint_actor(caf::stateful_actor<endpoint_actor_state>* self,
                             std::shared_ptr<call_context> ctx, persistence::subscriber line);

} // namespace cms::actors
