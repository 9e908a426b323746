#include "runtime/mgcp/flood_guard.hpp"

#include <algorithm>

namespace cms::mgcp {

flood_guard::flood_guard(flood_limits limits) : limits_(limits) {
  if (limits_.datagrams_per_second > 0 && limits_.datagram_burst <= 0)
    limits_.datagram_burst = 2 * limits_.datagrams_per_second;
  if (limits_.datagrams_per_second <= 0)
    limits_.datagram_burst = 0;
}

void flood_guard::refill(bucket& b, clock::time_point now) const {
  if (now <= b.updated)
    return;
  std::chrono::duration<double> elapsed = now - b.updated;
  b.malformed = std::min(limits_.burst, b.malformed + elapsed.count() * limits_.per_second);
  b.total =
    std::min(limits_.datagram_burst, b.total + elapsed.count() * limits_.datagrams_per_second);
  b.updated = now;
}

bool flood_guard::quiet(const bucket& b) const noexcept {
  return b.malformed >= limits_.burst && b.total >= limits_.datagram_burst;
}

flood_guard::bucket* flood_guard::find_or_track(const source& from, clock::time_point now) {
  auto it = buckets_.find(from);
  if (it != buckets_.end()) {
    refill(it->second, now);
    return &it->second;
  }
  if (buckets_.size() >= limits_.max_sources) {
    if (now - last_sweep_ < std::chrono::milliseconds{100})
      return nullptr;
    last_sweep_ = now;
    // Forget the sources that are quiet again (full buckets: as if never seen).
    for (auto i = buckets_.begin(); i != buckets_.end();) {
      refill(i->second, now);
      i = quiet(i->second) ? buckets_.erase(i) : std::next(i);
    }
    if (buckets_.size() >= limits_.max_sources)
      return nullptr;
  }
  return &buckets_.emplace(from, bucket{limits_.burst, limits_.datagram_burst, now}).first->second;
}

flood_guard::verdict flood_guard::check(const source& from, clock::time_point now) {
  if (limits_.datagram_burst <= 0)
    return verdict::admit;
  auto* b = find_or_track(from, now);
  if (!b)
    return verdict::admit; // no room to track it: not limited
  if (b->total < 1.0)
    return verdict::limited;
  b->total -= 1.0;
  return verdict::admit;
}

bool flood_guard::malformed_limited(const source& from, clock::time_point now) {
  if (limits_.burst <= 0)
    return false;
  auto it = buckets_.find(from);
  if (it == buckets_.end())
    return false; // never malformed: nothing spent
  refill(it->second, now);
  return it->second.malformed < 1.0;
}

bool flood_guard::malformed(const source& from, clock::time_point now) {
  if (limits_.burst <= 0)
    return false;
  auto* b = find_or_track(from, now);
  if (!b)
    return false;
  bool had = b->malformed >= 1.0;
  b->malformed = std::max(0.0, b->malformed - 1.0);
  return had && b->malformed < 1.0;
}

std::size_t flood_guard::limited_now(clock::time_point now) {
  std::size_t n = 0;
  for (auto& [from, b] : buckets_) {
    refill(b, now);
    if (b.malformed < 1.0 || (limits_.datagram_burst > 0 && b.total < 1.0))
      ++n;
  }
  return n;
}

} // namespace cms::mgcp
