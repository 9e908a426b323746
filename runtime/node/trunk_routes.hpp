#pragma once
// The management plane's view of trunks: GET /trunks (facilities paged, gateways and the segment
// preference alongside) and GET /routes, answered from the trunks' saved states (no actor round
// trip), with the operator's administrative state of each gateway merged into its rows.

#include "actors/trunks/trunk_control.hpp"
#include "runtime/http/server.hpp"
#include "runtime/node/admin_state.hpp"

namespace cms {

void add_trunk_routes(http::server& server, const trunks::trunk_control& trunks,
                      const admin_state_registry& admin);

} // namespace cms
