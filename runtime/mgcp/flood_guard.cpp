#include "runtime/mgcp/flood_guard.hpp"

#include <algorithm>

namespace cms::mgcp {

void flood_guard::refill(bucket& b, clock::time_point now) const {
  if (now <= b.updated)
    return;
  std::chrono::duration<double> elapsed = now - b.updated;
  b.tokens = std::min(limits_.burst, b.tokens + elapsed.count() * limits_.per_second);
  b.updated = now;
}

flood_guard::bucket* flood_guard::find_or_track(const boost::asio::ip::address& source,
                                                clock::time_point now) {
  auto it = buckets_.find(source);
  if (it != buckets_.end()) {
    refill(it->second, now);
    return &it->second;
  }
  if (buckets_.size() >= limits_.max_sources) {
    // Forget the sources that are quiet again (full bucket: as if never seen).
    for (auto i = buckets_.begin(); i != buckets_.end();) {
      refill(i->second, now);
      i = i->second.tokens >= limits_.burst ? buckets_.erase(i) : std::next(i);
    }
    if (buckets_.size() >= limits_.max_sources)
      return nullptr;
  }
  return &buckets_.emplace(source, bucket{limits_.burst, now}).first->second;
}

flood_guard::verdict flood_guard::check(const boost::asio::ip::address& source,
                                        clock::time_point now) {
  if (limits_.burst <= 0)
    return verdict::admit;
  auto it = buckets_.find(source);
  if (it == buckets_.end())
    return verdict::admit; // never malformed: nothing to track
  refill(it->second, now);
  return it->second.tokens >= 1.0 ? verdict::admit : verdict::limited;
}

bool flood_guard::malformed(const boost::asio::ip::address& source, clock::time_point now) {
  if (limits_.burst <= 0)
    return false;
  auto* b = find_or_track(source, now);
  if (!b)
    return false;
  bool had = b->tokens >= 1.0;
  b->tokens = std::max(0.0, b->tokens - 1.0);
  return had && b->tokens < 1.0;
}

std::size_t flood_guard::limited_now(clock::time_point now) {
  std::size_t n = 0;
  for (auto& [address, b] : buckets_) {
    refill(b, now);
    if (b.tokens < 1.0)
      ++n;
  }
  return n;
}

} // namespace cms::mgcp
