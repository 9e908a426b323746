#pragma once
// The dial plan: dialled number -> what to do with it. Directory numbers of provisioned lines are
// on-net; a number inside one of the operator's on-net number blocks that no line holds is
// unallocated (cause 1); everything else is handed to the off-net router, which for now has no
// routes (cause 3) until the trunk actors provide one. Immutable after construction, so
// call actors on any thread share one instance without locks.

#include "persistence/provisioning.hpp"

#include <caf/actor.hpp>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cms::actors {

/// Where off-net numbers go. Thread-safe: called from call actors.
class offnet_router {
public:
  virtual ~offnet_router() = default;
  /// The route (trunk group) to use, or nullopt when there is none ("no route to destination").
  virtual std::optional<std::string> route(const std::string& number) const = 0;
  /// The actor that seizes PSTN legs for off-net calls (trunks::seize_trunk); none: the call
  /// gets "no route" (actors/trunks/trunk_router.hpp).
  virtual caf::actor trunk_router() const { return {}; }
};

/// The router until trunks exist: every off-net number has no route.
class no_offnet_routes final : public offnet_router {
public:
  std::optional<std::string> route(const std::string&) const override { return std::nullopt; }
};

struct route_decision {
  enum class kind { on_net, unallocated, off_net, no_route };
  kind what = kind::no_route;
  std::string endpoint; ///< on_net: the called line
  std::string route;    ///< off_net: the route chosen by the off-net router
  caf::actor via;       ///< off_net: the off-net router's trunk router (seize_trunk)
  int cause = 0;        ///< unallocated: 1, no_route: 3
};

class dial_plan {
public:
  dial_plan() = default;
  /// Suspended subscribers stay in the plan (they answer "absent", not "unallocated").
  dial_plan(const std::vector<persistence::subscriber>& lines,
            std::vector<std::string> on_net_prefixes, std::shared_ptr<const offnet_router> router);

  route_decision resolve(const std::string& number) const;
  /// Endpoint name of a directory number, empty when unknown.
  std::string endpoint_of(const std::string& directory_number) const;
  std::size_t size() const noexcept { return lines_.size(); }

private:
  std::unordered_map<std::string, std::string> lines_; ///< directory number -> endpoint name
  std::vector<std::string> on_net_prefixes_;
  std::shared_ptr<const offnet_router> router_;
};

} // namespace cms::actors
