#include "runtime/node/event_log.hpp"

#include "runtime/base/wall_clock.hpp"

#include <chrono>

namespace cms {

void event_log::set_reporter(std::string node, std::function<std::string()> role) {
  std::lock_guard guard{mutex_};
  node_ = std::move(node);
  role_ = std::move(role);
}

std::uint64_t event_log::record(std::string kind, std::string severity, std::string message) {
  auto now = utc_ms();
  std::lock_guard guard{mutex_};
  auto seq = next_seq_++;
  ring_.push_back({seq, now, std::move(kind), std::move(severity), std::move(message), node_,
                   role_ ? role_() : std::string{}});
  while (ring_.size() > capacity_)
    ring_.pop_front();
  return seq;
}

std::vector<node_event> event_log::since(std::uint64_t after, std::size_t limit) const {
  std::lock_guard guard{mutex_};
  std::vector<node_event> out;
  for (auto& e : ring_)
    if (e.seq > after)
      out.push_back(e);
  if (out.size() > limit)
    out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  return out;
}

std::uint64_t event_log::last_seq() const {
  std::lock_guard guard{mutex_};
  return next_seq_ - 1;
}

} // namespace cms
