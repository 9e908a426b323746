#include "actors/calls/endpoint_liveness.hpp"

#include <limits>
#include <mutex>

namespace cms::actors {

std::string endpoint_liveness::key(const mgcp_peer& peer) {
  std::string k;
  k.reserve(peer.address.size() + 6);
  k += peer.address;
  k += ':';
  k += std::to_string(peer.port);
  return k;
}

void endpoint_liveness::heard(const mgcp_peer& peer, std::int64_t now_ns) {
  if (peer.empty())
    return;
  auto k = key(peer);
  {
    std::shared_lock guard{mutex_};
    if (auto it = last_.find(k); it != last_.end()) {
      // Only move forward: two threads may report the same MTA out of order.
      auto seen = it->second.load(std::memory_order_relaxed);
      while (seen < now_ns &&
             !it->second.compare_exchange_weak(seen, now_ns, std::memory_order_relaxed)) {}
      return;
    }
  }
  std::unique_lock guard{mutex_};
  auto [it, added] = last_.try_emplace(std::move(k), now_ns);
  if (!added && it->second.load(std::memory_order_relaxed) < now_ns)
    it->second.store(now_ns, std::memory_order_relaxed);
}

std::int64_t endpoint_liveness::last_heard(const mgcp_peer& peer) const {
  std::shared_lock guard{mutex_};
  auto it = last_.find(key(peer));
  return it == last_.end() ? std::numeric_limits<std::int64_t>::min()
                           : it->second.load(std::memory_order_relaxed);
}

std::size_t endpoint_liveness::size() const {
  std::shared_lock guard{mutex_};
  return last_.size();
}

} // namespace cms::actors
