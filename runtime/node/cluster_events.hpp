#pragma once
// Turns changes of what the node observes (cluster_view snapshots, data link states) into the
// events of the dashboard's "recent events" list (event_log). Pure functions: the management
// service polls every 500 ms and records what these return.

#include "runtime/base/cluster_view.hpp"

#include <map>
#include <string>
#include <vector>

namespace cms {

struct event_text {
  std::string kind;     ///< role_change | failover | peer | heartbeat_path | data_link
  std::string severity; ///< info | warning | critical
  std::string message;
};

std::vector<event_text> cluster_changes(const cluster_snapshot& before,
                                        const cluster_snapshot& now);

/// `before` and `now` map a data link name to "up" | "degraded" | "down" | "unknown".
std::vector<event_text> link_changes(const std::map<std::string, std::string>& before,
                                     const std::map<std::string, std::string>& now);

} // namespace cms
