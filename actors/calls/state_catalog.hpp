#pragma once
// The state catalogue: the latest state of every line and every call, fed by the endpoint actors
// (endpoint_state on each change) and the call manager (call_update, call_removed). It answers the
// HTTP listings (GET /endpoints, GET /calls) and is THE replication hook: every change is pushed
// to each subscriber as a state_change (kind, key, CAF-serialized state), in the order it
// happened. With no subscriber the hook costs nothing.
//
// Protocol:
//   endpoint_state                       update of one line (from its endpoint actor)
//   call_update                          update of one call (from the call manager)
//   call_removed                         a call ended and left the listing
//   state_subscribe{actor}               add a subscriber (monitored; dropped when it dies)
//   list_query -> std::string            JSON {"items":[...],"total":N,"offset":..,"limit":..}

#include "actors/calls/call_protocol.hpp"
#include "actors/calls/call_context.hpp"
#include "actors/calls/endpoint_protocol.hpp"
#include "actors/ha/state_change.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cms::actors {

struct state_subscribe {
  caf::actor subscriber;
};

/// Listing filters. kind: "endpoints" or "calls". state: line_state / call_phase name, empty =
/// any. mta: FQDN or address of the MTA (endpoints) or of either leg's MTA (calls), empty = any.
struct list_query {
  std::string kind;
  std::string state;
  std::string mta;
  std::size_t offset = 0;
  std::size_t limit = 100;
};

struct state_catalog_state {
  std::map<std::string, endpoint_state> endpoints;
  std::map<std::string, call_state> calls;
  std::vector<caf::actor> subscribers;
  static inline const char* name = "state_catalog";
};

/// `seed`: line snapshots to start from (after a restart of the catalogue).
caf::behavior state_catalog(caf::stateful_actor<state_catalog_state>* self,
                            std::vector<endpoint_state> seed);

/// Decodes a state_change image (for subscribers and tests); false on a bad image.
bool decode_state(caf::actor_system& sys, const std::vector<char>& image, endpoint_state& out);
bool decode_state(caf::actor_system& sys, const std::vector<char>& image, call_state& out);

} // namespace cms::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::state_subscribe)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::list_query)
