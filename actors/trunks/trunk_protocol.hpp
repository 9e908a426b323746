#pragma once
// Trunks: the messages and plain state of the off-net side of call processing.
//
// Actors (docs/trunks.md):
//   trunk actor   one per facility (PRI span / SS7 circuit group); owns its DS0 channels
//                 "ds/ds1-<span>/<channel>@<gateway>" and their states; receives the gateway's
//                 commands for them (NTFY, RSIP) through the endpoint directory.
//   trunk leg     one per PSTN leg of a call; speaks the endpoint protocol (endpoint_protocol.hpp)
//                 towards the call actor as if it were a line, and MGCP (CRCX/MDCX/DLCX and the
//                 X-TR package of docs/trunks.md) towards the gateway.
//   gateway actor one per trunking gateway; AUEP keepalive, RSIP forced/restart -> health.
//   trunk router  one per node; route lists by prefix, segment choice from the primary data link,
//                 gateway health and cold-spare promotion.
//
// All of these types stay inside one node (they hold actor handles): none is in the type-ID block
// except through CAF_ALLOW_UNSAFE_MESSAGE_TYPE below.

#include "actors/calls/endpoint_protocol.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cms::trunks {

/// Q.850 causes specific to trunks (the others are in call_protocol.hpp).
namespace cause {
constexpr int no_circuit = 34;        ///< all circuits busy / out of service: reorder (fast busy)
constexpr int temporary_failure = 41; ///< the gateway failed while the leg depended on it
} // namespace cause

enum class channel_state : std::uint8_t {
  idle,          ///< available for hunting and for PSTN seizures
  seized,        ///< reserved for a call being set up (CRCX on its way or sent)
  in_call,       ///< connection confirmed by the gateway
  blocked,       ///< taken out of hunting by the operator (kept, not used)
  out_of_service ///< its gateway failed, or the facility was dropped (RSIP forced on its span)
};
const char* to_string(channel_state s) noexcept;
constexpr int channel_state_count = 5;

struct channel {
  int number = 0; ///< DS0 number on the span, 1-based
  channel_state state = channel_state::idle;
  std::string call_id; ///< while seized / in call
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, channel& x) {
  return f(caf::meta::type_name("channel"), x.number, x.state, x.call_id);
}

/// Everything a trunk actor knows; saved after every change so a restarted trunk actor resumes.
struct trunk_state {
  std::string facility;
  std::string kind; ///< "pri" | "ss7"
  std::string carrier;
  std::string segment; ///< of the home gateway: "partner" | "local"
  int span = 1;
  std::string home_gateway;    ///< provisioned gateway
  std::string gateway;         ///< gateway carrying the facility now (home, or a promoted spare)
  actors::mgcp_peer peer;      ///< where that gateway listens
  bool gateway_healthy = true; ///< false: every channel out of service
  bool facility_down = false;  ///< RSIP forced on this span alone ("drop a facility")
  bool revert_pending = false; ///< carried by a spare, move home at the next idle moment
  std::vector<channel> channels;
  std::uint64_t transitions = 0;
  std::uint64_t seizures = 0;     ///< outgoing hunts granted
  std::uint64_t incoming = 0;     ///< PSTN seizures accepted
  std::uint64_t hunt_refused = 0; ///< hunts refused (no idle channel or facility out)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trunk_state& x) {
  return f(caf::meta::type_name("trunk_state"), x.facility, x.kind, x.carrier, x.segment, x.span,
           x.home_gateway, x.gateway, x.peer, x.gateway_healthy, x.facility_down, x.revert_pending,
           x.channels, x.transitions, x.seizures, x.incoming, x.hunt_refused);
}

/// "ds/ds1-<span>/<channel>@<gateway>" (lower case).
std::string channel_endpoint(int span, int channel, const std::string& gateway);

// ---- call -> router ----------------------------------------------------------------------------

/// An off-net call wants a PSTN leg for `called`. Answered with trunk_seizure.
struct seize_trunk {
  std::string call_id;
  std::string called;
  std::string calling;
  caf::actor call;
};

/// ok: `leg` behaves as the terminating line of the call (endpoint protocol) on `endpoint`.
/// !ok: cause 3 (no route) or 34 (all circuits busy / out of service).
struct trunk_seizure {
  bool ok = false;
  int cause = 0;
  caf::actor leg;
  std::string endpoint;
  std::string route; ///< "offnet:<prefix>:<trunk group>/<facility>"
};

// ---- leg -> trunk actor ------------------------------------------------------------------------

/// Reserve an idle channel for `call_id`; answered with hunt_result.
struct hunt_channel {
  std::string call_id;
  caf::actor leg;
};

struct hunt_result {
  bool ok = false;
  int channel = 0;
  std::string endpoint;
  actors::mgcp_peer peer;
};

/// The leg's channel changed: in_call (connection confirmed) or idle (leg done with it).
struct channel_update {
  int channel = 0;
  std::string call_id;
  channel_state state = channel_state::idle;
};

// ---- trunk actor -> leg ------------------------------------------------------------------------

/// PSTN-side signal from the gateway for the leg's channel (an X-TR event of an NTFY).
struct pstn_signal {
  std::string event; ///< "alt", "ans", "rel"
  int cause = 0;     ///< rel: Q.850 cause
};

/// The carrying gateway failed (or the facility was dropped): the leg's channel is gone.
struct channel_lost {
  int channel = 0;
};

// ---- gateway actor / trunk actor -> router -----------------------------------------------------

struct gateway_health {
  std::string gateway;
  bool healthy = true;
  std::string why; ///< "keepalive", "rsip forced", "rsip restart", "audit answered"
};

/// A RSIP from a gateway for all of its endpoints, relayed by a trunk actor to the gateway actor.
struct gateway_rsip {
  std::string gateway;
  std::string method;
};

// ---- router -> trunk actor ---------------------------------------------------------------------

/// Health of the gateway that carries the facility now.
struct carrier_health {
  std::string gateway;
  bool healthy = true;
};

/// Carry the facility on another gateway (spare promotion: at once; revert: at the next idle
/// moment, i.e. when no channel is seized or in a call).
struct carry_facility {
  std::string gateway;
  actors::mgcp_peer peer;
  bool healthy = true;
  bool when_idle = false;
};

/// trunk actor -> router: the facility now runs on `gateway`.
struct facility_moved {
  std::string facility;
  std::string gateway;
};

} // namespace cms::trunks

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::seize_trunk)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::trunk_seizure)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::hunt_channel)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::hunt_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::channel_update)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::pstn_signal)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::channel_lost)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::gateway_health)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::gateway_rsip)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::carrier_health)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::carry_facility)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::facility_moved)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::trunks::trunk_state)
