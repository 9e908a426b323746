#pragma once
// Recent events of the node for the dashboard and GET /events: role changes, peer and heartbeat
// path changes, data link transitions, admin actions. An in-memory ring (the last `capacity`
// events); the durable record is the log (and audit.log for admin actions). Thread-safe.
// Every event carries the node that recorded it and that node's role at the time: both nodes of
// the pair keep a log, and a standby's view of a link is not a second fault.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace cms {

struct node_event {
  std::uint64_t seq = 0;    ///< 1, 2, 3... since start: clients ask for events after a seq
  std::int64_t time_ms = 0; ///< UTC ms
  std::string kind;         ///< role_change, failover, peer, heartbeat_path, data_link, admin, ...
  std::string severity;     ///< info | warning | critical
  std::string message;      ///< one line for humans
  std::string node;         ///< node id of the reporter ("" until set_reporter)
  std::string role;         ///< the reporter's role when it recorded the event
};

class event_log {
public:
  explicit event_log(std::size_t capacity = 256) : capacity_(capacity == 0 ? 1 : capacity) {}

  /// Who records: `role` is asked at every record (any thread; must not block).
  void set_reporter(std::string node, std::function<std::string()> role);

  /// Appends an event stamped now; returns its seq.
  std::uint64_t record(std::string kind, std::string severity, std::string message);

  /// Events with seq > after, oldest first, at most `limit` (the newest ones when more match).
  std::vector<node_event> since(std::uint64_t after, std::size_t limit) const;
  /// Seq of the newest event (0 when none).
  std::uint64_t last_seq() const;

private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<node_event> ring_;
  std::uint64_t next_seq_ = 1;
  std::string node_;
  std::function<std::string()> role_;
};

} // namespace cms
