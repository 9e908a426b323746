#pragma once
// The management plane's view of lines and calls: GET /endpoints and GET /calls, paged and filtered,
// answered by the state catalogue (the owner of the snapshots) through a short-lived actor so the
// connection's thread never waits.

#include "actors/calls/call_context.hpp"
#include "runtime/http/server.hpp"

#include <caf/actor_system.hpp>

#include <memory>

namespace cms {

/// Registers GET /endpoints and GET /calls. `sys` must outlive the server's handlers.
void add_call_routes(http::server& server, caf::actor_system& sys,
                     std::shared_ptr<actors::call_context> calls);

} // namespace cms
