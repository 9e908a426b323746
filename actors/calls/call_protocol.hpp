#pragma once
// The call actor's state and protocol. One call actor per call, spawned by the call manager when a
// line goes off hook and stopped when the call has released everything it took. It drives the two
// endpoint actors (endpoint_protocol.hpp) and reports every change of its `call_state` to the
// manager, which publishes it (GET /calls, replication hook).

#include <boost/json/object.hpp>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace cms::actors {

enum class call_phase : std::uint8_t {
  dialling,   ///< dial tone, waiting for the MTA to report a number
  routing,    ///< number complete, finding and seizing the called line
  setting_up, ///< CRCX/MDCX on both legs
  alerting,   ///< called line rings, caller hears ringback
  connected,  ///< answered, both legs sendrecv
  releasing,  ///< DLCX on both legs, collecting P:
  ended       ///< billing written, lines released; the actor is about to stop
};
const char* to_string(call_phase p) noexcept;

/// Q.850 release causes the call actors use (docs/calls.md).
namespace cause {
constexpr int unallocated_number = 1; ///< on-net number that is not assigned: reorder
constexpr int no_route = 3;           ///< not on-net and the off-net router has no route: reorder
constexpr int normal_clearing = 16;   ///< hang-up, including a caller who abandons before answer
constexpr int user_busy = 17;         ///< called line busy: busy tone
constexpr int no_answer = 19;         ///< no answer within the configured time
constexpr int subscriber_absent = 20; ///< called line not registered / out of service: reorder
constexpr int invalid_number = 28;    ///< partial dial (incomplete number, dial timeout): reorder
constexpr int temporary_failure = 41; ///< an MTA stopped answering, a leg failed or crashed
/// Switching equipment congestion: an attempt the overload gate or a drain refused, given only
/// the emergency window, dialled something else (or nothing) there: reorder, not billed.
constexpr int congestion = 42;
} // namespace cause

struct call_state {
  std::string call_id; ///< also the MGCP C: of both connections
  call_phase phase = call_phase::dialling;
  std::string calling_number;  ///< directory number of the originating line
  std::string called_number;   ///< dialled digits (without a trailing T)
  std::string originating;     ///< endpoint name
  std::string terminating;     ///< endpoint name, empty until routed on-net
  std::string route;           ///< "on-net", "unallocated", "no-route", "incomplete"
  std::string orig_connection; ///< I: on the originating line
  std::string term_connection; ///< I: on the terminating line
  std::string orig_sdp;
  std::string term_sdp;
  std::int64_t started_ms = 0;  ///< off-hook (wall clock)
  std::int64_t dialled_ms = 0;  ///< digits received
  std::int64_t alerting_ms = 0; ///< ringback applied
  std::int64_t answered_ms = 0;
  std::int64_t ended_ms = 0;
  int cause = 0;          ///< Q.850, set when the release starts
  std::string orig_stats; ///< DLCX P: of the originating leg
  std::string term_stats; ///< DLCX P: of the terminating leg
  /// Emergency call (an emergency code was dialled): admitted whatever the load, routed to the
  /// emergency trunk group, under network hold once answered (docs/services.md).
  bool emergency = false;
  /// Started in the emergency window of an attempt the overload gate or a drain refused: only
  /// an emergency code may follow; anything else ends it with reorder, unbilled.
  bool emergency_only = false;
  /// Network hold: the caller hung up an answered emergency call; the line rings again and the
  /// call stays up until the far end releases it.
  bool caller_on_hook = false;
  /// DQoS gates (docs/qos.md) of each half-call: Gate ID, CMTS name and the MTA it serves (the
  /// Subscriber ID); 0 / empty for a best-effort leg. Replicated, so a new active audits them.
  std::uint32_t orig_gate_id = 0;
  std::string orig_cmts;
  std::uint32_t orig_gate_subscriber = 0;
  std::uint32_t term_gate_id = 0;
  std::string term_cmts;
  std::uint32_t term_gate_subscriber = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_state& x) {
  return f(caf::meta::type_name("call_state"), x.call_id, x.phase, x.calling_number,
           x.called_number, x.originating, x.terminating, x.route, x.orig_connection,
           x.term_connection, x.orig_sdp, x.term_sdp, x.started_ms, x.dialled_ms, x.alerting_ms,
           x.answered_ms, x.ended_ms, x.cause, x.orig_stats, x.term_stats, x.emergency,
           x.emergency_only, x.caller_on_hook, x.orig_gate_id, x.orig_cmts, x.orig_gate_subscriber,
           x.term_gate_id, x.term_cmts, x.term_gate_subscriber);
}

boost::json::object to_json(const call_state& x);

// ---- endpoint -> call manager ------------------------------------------------------------------

/// A line went off hook while idle: start a call. Answered with the call actor's handle.
struct originate_call {
  std::string call_id;
  std::string endpoint;
  std::string directory_number;
  caf::actor line;
  /// The admission gate refused the attempt (overload, drain): dial tone for the emergency
  /// window only, with the emergency codes' digit map.
  bool emergency_only = false;
  std::string gate_reason; ///< emergency_only: "overload" or "drain"
};

// ---- call -> call manager ----------------------------------------------------------------------

/// Every change of the call's state (the last one has phase ended).
struct call_update {
  call_state state;
};

/// Internal timers of a call; `generation` makes a timer that was cancelled by a later event
/// harmless when it fires anyway.
enum class call_timer_kind : std::uint8_t { dial, no_answer };
struct call_timeout {
  call_timer_kind kind = call_timer_kind::dial;
  std::uint64_t generation = 0;
};

// ---- node stop (standalone: no peer takes the calls over) --------------------------------------

/// To the call manager: refuse new calls and end every call in progress with `cause`. Answered
/// with the number of calls ended once each has deleted its connections and its signaling_stop
/// record is durable, so the billing outbox can close after it without losing a stop record.
struct end_all_calls {
  int cause = 0;
};

/// To a call: release now with `cause` (DLCX both legs, bill signaling_stop, free the lines).
struct end_call {
  int cause = 0;
};

} // namespace cms::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::end_all_calls)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::end_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::originate_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::call_update)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::call_timeout)
