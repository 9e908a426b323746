#pragma once
// Assembly of the trunks: the off-net router for the dial plan and the supervision tree of the
// trunk actors. Wiring in the node (runtime/node/node.cpp), in this order:
//
//   auto prov = cms::persistence::provisioning_store{db}.load_all();
//   auto offnet = cms::trunks::make_offnet_router(prov);
//   call_opts.offnet = offnet;                                   // before make_call_control
//   auto calls = cms::actors::make_call_control(agent, std::move(call_opts), metrics);
//   cms::trunks::trunk_options topts;                            // defaults: keepalive 500 ms x 2
//   topts.primary_link = [&] { return <current handle of the primary data link actor>; };
//   auto trunks = cms::trunks::make_trunk_control(calls.context, offnet, prov, topts, metrics);
//   children.push_back(trunks.child);                            // after the call children
//   add_trunk_routes(http, trunks);                 // runtime/node: GET /trunks, GET /routes
//   ... on shutdown, after the supervisor was told to exit: trunks.shutdown();
//
// The child "trunks" is a supervisor over: "trunk-router", "gateways" (a supervisor with one
// gateway actor per gateway, "gateway:<name>") and "facilities" (a supervisor with one trunk actor
// per facility, "facility:<id>"). Restarted children resume from the trunk context.

#include "actors/calls/call_context.hpp"
#include "actors/supervision/supervisor.hpp"
#include "actors/trunks/trunk_context.hpp"
#include "actors/trunks/trunk_router.hpp"
#include "persistence/provisioning.hpp"

#include <functional>
#include <memory>

namespace cms::trunks {

struct trunk_options {
  trunk_settings settings;
  /// The primary data link's current actor; empty: the partner segment is always preferred.
  std::function<caf::actor()> primary_link;
  actors::restart_intensity intensity{50, std::chrono::seconds{10}};
};

struct trunk_control {
  std::shared_ptr<trunk_context> context;
  std::shared_ptr<trunk_offnet_router> offnet;
  actors::child_spec child;
  void shutdown() const;
};

std::shared_ptr<trunk_offnet_router> make_offnet_router(const persistence::provisioning& prov);

trunk_control make_trunk_control(std::shared_ptr<actors::call_context> calls,
                                 std::shared_ptr<trunk_offnet_router> offnet,
                                 persistence::provisioning prov, trunk_options options,
                                 metrics::registry& registry);

/// The JSON bodies of the two listings (tests read them directly too).
std::string trunks_json(const trunk_context& ctx);
std::string routes_json(const trunk_offnet_router& offnet);

} // namespace cms::trunks
