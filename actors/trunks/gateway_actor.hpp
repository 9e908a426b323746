#pragma once
// The gateway actor: one per provisioned trunking gateway (active and cold spare), under the
// "gateways" supervisor. It decides whether the gateway is healthy:
//   - AUEP "*@<gateway>" every keepalive interval; `keepalive_misses` unanswered in a row (no
//     final response within one interval) -> failed ("keepalive");
//   - RSIP "*@<gateway>" RM: forced (relayed by a trunk actor) -> failed at once ("rsip forced");
//     it stays failed until the gateway announces itself again with RM: restart/disconnected;
//   - a failed gateway that answers its keepalive again (and is not in forced state) -> healthy.
// Every change is logged, counted (cms_trunk_gateway_transitions_total{gateway,to}), exposed
// (cms_trunk_gateway_up{gateway}), saved in the trunk context and sent to the router, which moves
// facilities (cold-spare promotion, revert).
//
// Protocol: gateway_rsip; (atom::status) -> JSON. Restart: resumes from the saved gateway_view.

#include "actors/trunks/trunk_context.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>

namespace cms::trunks {

struct gateway_actor_state {
  std::shared_ptr<trunk_context> ctx;
  std::string gateway;
  actors::mgcp_peer peer;
  std::uint64_t probe = 0; ///< sequence number of the keepalive in flight
  bool answered = true;    ///< the keepalive in flight was answered
  static inline const char* name = "gateway";
};

caf::behavior gateway_actor(caf::stateful_actor<gateway_actor_state>* self,
                            std::shared_ptr<trunk_context> ctx, std::string gateway);

} // namespace cms::trunks
