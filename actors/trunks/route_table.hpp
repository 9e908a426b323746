#pragma once
// Off-net routing as pure rules (no actors): dialled number -> the ordered facilities to hunt.
//
//   1. Route lists by prefix: the longest provisioned prefix that starts the number wins ("" is
//      the default). Its trunk groups are taken in route priority order.
//   2. Segments: while the primary data link is up, partner-segment groups come first and local
//      ones follow as overflow; while it is down, partner groups are dropped (they are reached over
//      that link). When that leaves the list empty, the next shorter matching prefix is used.
//   3. Inside a group, members by priority; members of equal priority share the load (the start of
//      each equal block rotates with every call); then each member's backup facility (another
//      carrier's) as overflow. Facilities appear once, at their first place.
// Which of those facilities has an idle channel is the trunk actors' business.

#include "persistence/provisioning.hpp"

#include <boost/json/array.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::trunks {

struct hunt_candidate {
  std::string facility;
  std::string trunk_group;
  std::string prefix;
};

class route_table {
public:
  route_table() = default;
  explicit route_table(const persistence::provisioning& prov);

  /// Longest matching prefix, or nullopt ("no route to destination", cause 3).
  std::optional<std::string> match(const std::string& number) const;

  std::vector<hunt_candidate> candidates(const std::string& number, bool primary_up,
                                         std::uint64_t rotation) const;

  /// GET /routes: [{prefix, trunk_groups:[{id, segment, priority, members:[...]}]}].
  boost::json::array to_json() const;

private:
  struct list {
    std::string prefix;
    std::vector<persistence::route> routes; ///< by priority
  };
  const persistence::trunk_group* group(const std::string& id) const;
  const persistence::facility* facility(const std::string& id) const;

  std::vector<list> lists_; ///< longest prefix first
  std::vector<persistence::trunk_group> groups_;
  std::vector<persistence::facility> facilities_;
};

} // namespace cms::trunks
