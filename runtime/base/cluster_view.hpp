#pragma once
// What this node currently knows about its place in the pair: role, epoch, peer health. Written by
// the HA actor (one owner), read by HTTP, SNMP and logs from any thread. Copy-out snapshots keep
// readers from ever holding the lock while formatting.

#include <cstdint>
#include <mutex>
#include <string>

namespace cms {

struct cluster_snapshot {
  std::string role = "starting"; ///< starting | active | standby | stepping-down | standalone
  std::uint64_t epoch = 0;
  std::string peer_state = "unknown"; ///< up | down | unknown
  std::string peer_link = "unknown";  ///< heartbeat path 1 (CAF node link)
  std::string peer_udp = "unknown";   ///< heartbeat path 2 (UDP)
  std::uint64_t replication_lag_records = 0;
  double replication_lag_ms = 0;
  /// A standby whose image is not (yet) what the active has: no snapshot taken, or records
  /// announced by the active and not applied. Promoting it now would lose what it lacks.
  bool replication_behind = false;
  /// What the node may lack, recorded when it was promoted with an image behind; empty otherwise.
  std::string promotion_gap;
  std::int64_t promotion_gap_ms = 0; ///< UTC ms of that promotion; 0 if never
  std::string last_failover_reason;
  std::int64_t last_failover_ms = 0; ///< UTC ms; 0 if never
};

class cluster_view {
public:
  cluster_snapshot get() const {
    std::lock_guard guard{mutex_};
    return snapshot_;
  }
  template <class F>
  void update(F&& f) {
    std::lock_guard guard{mutex_};
    f(snapshot_);
  }

private:
  mutable std::mutex mutex_;
  cluster_snapshot snapshot_;
};

} // namespace cms
