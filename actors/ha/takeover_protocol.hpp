#pragma once
// Local messages with which the replicator hands the replicated image to call processing when
// this node takes over (and quiets it when it stops being active). Never cross the node link.
//
//   adopt_line       -> endpoint actor: take this replicated state (registration, MTA address,
//                       call id, connection id) and claim the line: AUEP, then RQNT with N: = us
//   quiesce_line     -> endpoint actor: this node is standby now; forget the call without a
//                       DLCX (the active owns the line), send nothing
//   attach_call -> bool  call actor -> endpoint actor: a resumed call takes its line back
//   resume_call      -> call manager: re-spawn the call actor from its replicated state
//   quiesce_calls    -> call manager: stop every call actor silently (no billing, no DLCX)
//   mgcp_fence       -> MGCP edge: closed = refuse outbound commands (a standby never speaks
//                       to MTAs: a stray RQNT would move a line's notified entity back to us)

#include "actors/calls/call_protocol.hpp"
#include "actors/calls/endpoint_protocol.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <string>

namespace cms::actors {

struct adopt_line {
  endpoint_state state;
  /// The standby followed the stream up to the takeover: an idle line in it is idle now unless its
  /// subscriber just lifted the handset (a stale image would start calls on lines in calls).
  bool image_current = false;
};

struct quiesce_line {};

struct attach_call {
  std::string call_id;
  caf::actor call;
};

struct resume_call {
  call_state state;
};

struct quiesce_calls {};

struct mgcp_fence {
  bool closed = false;
};

} // namespace cms::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::adopt_line)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::quiesce_line)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::attach_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::resume_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::quiesce_calls)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::mgcp_fence)
