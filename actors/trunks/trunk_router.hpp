#pragma once
// The trunk router: one per node, under the "trunks" supervisor.
//
//   Routing   seize_trunk -> trunk_seizure. The route table (route_table.hpp) gives the ordered
//             facilities for the number and the current segment preference; an outgoing trunk
//             leg is started with them and hunts (actors/trunks/trunk_leg.hpp). No route: cause 3;
//             nothing to hunt or every facility full / out of service: cause 34.
//   Segments  subscribes to the primary data link ((atom::subscribe, self) to its actor) and
//             prefers the partner segment while it is up or degraded, the local segment while
//             it is down. New calls only: legs already up are not touched.
//   Spares    gets every gateway_health change. A failed active gateway's facilities go out of
//             service (carrier_health) and are moved at once to a healthy cold spare configured
//             for it (spare_for = its name, or no spare_for and the same segment): the spare is
//             promoted. When the home gateway is healthy again, the facilities move back at their
//             next idle moment (revert_policy::when_idle) and the spare returns to cold once it
//             carries nothing.
//
// The off-net router of the dial plan (trunk_offnet_router) answers "is there a route" without a
// round trip (route table, immutable) and hands the call actor this actor's handle.

#include "actors/calls/dial_plan.hpp"
#include "actors/trunks/route_table.hpp"
#include "actors/trunks/trunk_context.hpp"

#include <caf/all.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cms::trunks {

class trunk_offnet_router final : public actors::offnet_router {
public:
  explicit trunk_offnet_router(const persistence::provisioning& prov) : table_(prov) {}
  /// "offnet:<longest matching prefix>", or nullopt (cause 3).
  std::optional<std::string> route(const std::string& number) const override;
  caf::actor trunk_router() const override;
  void set_trunk_router(caf::actor h);
  const route_table& table() const noexcept { return table_; }

private:
  route_table table_;
  mutable std::mutex mutex_;
  caf::actor router_;
};

struct trunk_router_state {
  std::shared_ptr<trunk_context> ctx;
  route_table table;
  std::uint64_t rotation = 0;
  std::map<std::string, std::string> carried_by; ///< facility -> gateway carrying it
  static inline const char* name = "trunk_router";
};

/// `primary_link` returns the primary data link's actor (empty function or handle: the partner
/// segment is always preferred).
caf::behavior trunk_router(caf::stateful_actor<trunk_router_state>* self,
                           std::shared_ptr<trunk_context> ctx,
                           std::function<caf::actor()> primary_link);

} // namespace cms::trunks
