#include "runtime/node/cluster_events.hpp"

namespace cms {

std::vector<event_text> cluster_changes(const cluster_snapshot& before,
                                        const cluster_snapshot& now) {
  std::vector<event_text> out;
  if (before.role != now.role) {
    bool failover = now.role == "active" && before.role != "starting" &&
                    now.last_failover_reason.find("lost") != std::string::npos;
    std::string msg =
      "role " + before.role + " -> " + now.role + " (epoch " + std::to_string(now.epoch);
    if (!now.last_failover_reason.empty())
      msg += ", " + now.last_failover_reason;
    msg += ")";
    out.push_back({failover ? "failover" : "role_change", failover ? "critical" : "warning", msg});
  } else if (before.epoch != now.epoch && before.epoch != 0) { // 0: not read from the store yet
    out.push_back({"epoch", "info",
                   "epoch " + std::to_string(before.epoch) + " -> " + std::to_string(now.epoch)});
  }
  if (before.promotion_gap_ms != now.promotion_gap_ms && !now.promotion_gap.empty())
    out.push_back(
      {"promotion_gap", "critical",
       "promoted with a replication image behind the old active: " + now.promotion_gap});
  if (before.peer_state != now.peer_state)
    out.push_back({"peer", now.peer_state == "down" ? "critical" : "info",
                   "peer " + before.peer_state + " -> " + now.peer_state});
  if (before.peer_link != now.peer_link && before.peer_link != "unknown")
    out.push_back({"heartbeat_path", now.peer_link == "down" ? "warning" : "info",
                   "heartbeat path node link " + before.peer_link + " -> " + now.peer_link});
  if (before.peer_udp != now.peer_udp && before.peer_udp != "unknown")
    out.push_back({"heartbeat_path", now.peer_udp == "down" ? "warning" : "info",
                   "heartbeat path udp " + before.peer_udp + " -> " + now.peer_udp});
  return out;
}

std::vector<event_text> link_changes(const std::map<std::string, std::string>& before,
                                     const std::map<std::string, std::string>& now) {
  std::vector<event_text> out;
  for (auto& [name, state] : now) {
    auto it = before.find(name);
    auto old = it == before.end() ? std::string("unknown") : it->second;
    if (old == state)
      continue;
    out.push_back({"data_link",
                   state == "down"       ? "critical"
                   : state == "degraded" ? "warning"
                                         : "info",
                   "data link " + name + " " + old + " -> " + state});
  }
  return out;
}

} // namespace cms
