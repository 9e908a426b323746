#pragma once
// The endpoint actor's state and protocol. One endpoint actor per provisioned line
// ("aaln/1@mta-0001.cable.example") owns everything MGCP about that line: the MTA's address,
// the request identifier (X:) of the armed RQNT, the line's connection. Call actors never speak
// MGCP themselves; they ask the endpoint for treatments and connections (messages below) and the
// endpoint translates them into RQNT/CRCX/MDCX/DLCX.
//
// State is data: `endpoint_state` is plain, inspectable (CAF 0.17 `inspect`) and has a JSON view,
// so the same struct is listed over HTTP, kept as a snapshot for restarts and replicated.

#include "runtime/base/q850.hpp"
#include "runtime/mgcp/message.hpp"
#include "runtime/mgcp/parameters.hpp"

#include <boost/json/object.hpp>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace cms::actors {

/// Line states. Registered states are idle .. in_call.
enum class line_state : std::uint8_t {
  unregistered,   ///< provisioned, no RSIP seen yet (or the MTA restarted and is being audited)
  idle,           ///< on hook, L/hd armed
  off_hook,       ///< off hook outside a call (after a release, or waiting for a call to start)
  dialling,       ///< dial tone played, digits being collected by the MTA's digit map
  ringing,        ///< ringing (called line) or hearing ringback (calling line)
  in_call,        ///< answered, media both ways
  out_of_service, ///< RSIP forced/graceful, or suspended in provisioning
  disconnected    ///< the MTA stopped answering our commands; back on its next RSIP
};

const char* to_string(line_state s) noexcept;
/// True for idle, off_hook, dialling, ringing and in_call.
bool is_registered(line_state s) noexcept;

/// Where an MTA sends from (and where we send to): kept as text so it is plain data.
struct mgcp_peer {
  std::string address;
  std::uint16_t port = 0;
  bool empty() const noexcept { return address.empty(); }
  friend bool operator==(const mgcp_peer& a, const mgcp_peer& b) {
    return a.address == b.address && a.port == b.port;
  }
  friend bool operator!=(const mgcp_peer& a, const mgcp_peer& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mgcp_peer& x) {
  return f(caf::meta::type_name("mgcp_peer"), x.address, x.port);
}

struct endpoint_state {
  std::string name;                ///< lower-case endpoint name, the actor's key
  std::string directory_number;    ///< from provisioning
  std::string mta;                 ///< the MTA's FQDN (domain part of the name)
  std::string provisioned_address; ///< MTA IP from provisioning; empty: learnt from RSIP
  line_state state = line_state::unregistered;
  mgcp_peer peer;                  ///< where the MTA's RSIP came from; NTFY must come from here
  std::string restart_method;      ///< last RM: ("restart", "forced", ...)
  std::uint32_t restart_delay = 0; ///< last RD: seconds
  bool graceful_pending = false;   ///< RSIP graceful seen: out of service once the call ends
  std::string request_id;          ///< X: of the armed RQNT; NTFYs with another X are stale
  std::uint64_t request_counter = 0;
  std::string requested_events;     ///< R: of the armed RQNT
  std::string signals;              ///< S: of the armed RQNT
  bool hook_off = false;            ///< last hook state the MTA reported
  std::string call_id;              ///< C: of the current call, empty when none
  std::string connection_id;        ///< I: of this line's connection, empty when none
  std::int64_t registered_ms = 0;   ///< wall clock of the last successful registration
  std::int64_t changed_ms = 0;      ///< wall clock of the last state change
  std::uint64_t spoofed = 0;        ///< commands refused because they came from elsewhere
  std::uint64_t stale_notifies = 0; ///< NTFYs ignored because their X: was not the armed one
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoint_state& x) {
  return f(caf::meta::type_name("endpoint_state"), x.name, x.directory_number, x.mta,
           x.provisioned_address, x.state, x.peer, x.restart_method, x.restart_delay,
           x.graceful_pending, x.request_id, x.request_counter, x.requested_events, x.signals,
           x.hook_off, x.call_id, x.connection_id, x.registered_ms, x.changed_ms, x.spoofed,
           x.stale_notifies);
}

boost::json::object to_json(const endpoint_state& x);

// ---- edge -> endpoint ---------------------------------------------------------------------------

/// A command an MTA sent to this line (already de-duplicated by the agent). `respond` is false for
/// the copies of a wildcard command: the edge has answered it once for all lines.
struct inbound_command {
  mgcp_peer from;
  mgcp::command cmd;
  bool respond = true;
};

// ---- call -> endpoint (all are requests answered with line_reply) ------------------------------

/// Tones and event arming the call asks for; the endpoint builds the RQNT (S:, R:, D:).
enum class treatment : std::uint8_t {
  dial_tone, ///< S: L/dl, D: digit map, R: L/hu(N),D/[0-9#*T](D): collect a number
  ringback,  ///< S: L/rt, R: L/hu(N): caller waits for the answer
  ringing,   ///< S: L/rg, R: L/hd(N): called line rings
  connected, ///< no signal, R: L/hu(N),L/hf(N): talking
  /// S: L/dl, D: the emergency codes only, R: L/hu(N),D/[0-9#*T](D): the window an attempt
  /// refused by the overload gate or a drain still gets (services/emergency.hpp)
  emergency_dial_tone
};
const char* to_string(treatment t) noexcept;

/// The terminating side reserves the called line for a call. Refused with cause 17 (busy) or
/// 20 (subscriber absent: unregistered, disconnected, out of service).
struct seize_line {
  std::string call_id;
  caf::actor call;
};

struct apply_treatment {
  std::string call_id;
  treatment what = treatment::dial_tone;
};

/// CRCX on this line for the call (C: call_id, M: mode, remote SDP when known).
struct create_connection {
  std::string call_id;
  mgcp::connection_mode mode = mgcp::connection_mode::recvonly;
  std::string remote_sdp;
  std::uint32_t gate_id = 0; ///< DQoS gate authorising this line's media: L: dq-gi; 0 = none
};

/// MDCX of this line's connection (new mode, remote SDP when not empty).
struct modify_connection {
  std::string call_id;
  mgcp::connection_mode mode = mgcp::connection_mode::sendrecv;
  std::string remote_sdp;
};

/// DLCX of this line's connection; the reply carries its P: statistics.
struct delete_connection {
  std::string call_id;
};

/// Final word of the call to this line: the line leaves the call. When the line is still off hook
/// the endpoint plays `tone` ("L/bz", "L/ro" or empty) and waits for the hang-up; otherwise it goes
/// back to idle with L/hd armed. Any connection still open is deleted. Plain send, no reply.
struct release_line {
  std::string call_id;
  int cause = q850::normal_clearing;
  std::string tone;
};

/// Answer to every call -> endpoint request.
struct line_reply {
  bool ok = true;
  int cause = 0;             ///< Q.850 cause when !ok (17 busy, 20 absent, 41 failure...)
  int mgcp_code = 200;       ///< the MGCP response code, 0 when the transaction failed
  bool unreachable = false;  ///< the MTA did not answer (transaction timed out)
  std::string connection_id; ///< CRCX
  std::string sdp;           ///< CRCX/MDCX: the line's session description
  std::string stats;         ///< DLCX: P: connection parameters
};

// ---- endpoint -> call ---------------------------------------------------------------------------

enum class line_event_kind : std::uint8_t {
  off_hook,      ///< L/hd
  on_hook,       ///< L/hu
  digits,        ///< digits collected by the digit map (D/...)
  failed,        ///< the MTA stopped answering (transaction failure) or restarted
  out_of_service ///< RSIP forced
};
const char* to_string(line_event_kind k) noexcept;

struct line_event {
  std::string call_id;
  std::string endpoint;
  line_event_kind kind = line_event_kind::off_hook;
  std::string digits;
  /// on_hook from a trunk leg: the PSTN released with this Q.850 cause (lines: 0).
  int cause = 0;
};

} // namespace cms::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::inbound_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::seize_line)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::apply_treatment)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::create_connection)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::modify_connection)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::delete_connection)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::release_line)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::line_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::line_event)
