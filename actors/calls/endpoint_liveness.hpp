#pragma once
// When each MTA (address:port) last proved it is alive: it answered one of our commands or sent
// us one. Lines in a call audit their MTA (AUEP every in_call_audit_interval) only when nothing
// was heard from it for a whole interval, so an MTA with many lines in calls costs about one
// AUEP per interval instead of one per line (100k calls = 200k lines: 6,700 AUEP/s before).
// Written and read by endpoint actors on any worker thread; times are the actor clock's, so the
// test scheduler's clock drives it in deterministic tests.

#include "actors/calls/endpoint_protocol.hpp"

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace cms::actors {

class endpoint_liveness {
public:
  /// The MTA at `peer` answered or sent a command at `now_ns` (actor clock, ns since its epoch).
  void heard(const mgcp_peer& peer, std::int64_t now_ns);
  /// Last time the MTA at `peer` was heard; INT64_MIN when never.
  std::int64_t last_heard(const mgcp_peer& peer) const;
  std::size_t size() const;

private:
  static std::string key(const mgcp_peer& peer);
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::atomic<std::int64_t>> last_;
};

} // namespace cms::actors
