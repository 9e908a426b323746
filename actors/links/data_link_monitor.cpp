#include "actors/links/data_link_monitor.hpp"

#include <algorithm>
#include <bitset>

namespace cms::links {

const char* to_string(link_state s) noexcept {
  switch (s) {
  case link_state::down:
    return "down";
  case link_state::degraded:
    return "degraded";
  case link_state::up:
    return "up";
  }
  return "unknown";
}

link_monitor::link_monitor(probe_settings settings, link_snapshot snapshot)
  : settings_(settings),
    snap_(std::move(snapshot)) {
  // The window lives in one 64-bit history word; misses beyond it are counted separately.
  settings_.window = std::clamp(settings_.window, 1, 64);
  settings_.misses = std::max(settings_.misses, 1);
  snap_.history_len = std::clamp(snap_.history_len, 0, 64);
}

std::uint64_t link_monitor::next_probe() {
  ++snap_.probes_sent;
  return snap_.next_seq++;
}

int link_monitor::losses_in_window() const noexcept {
  const int n = std::min(snap_.history_len, settings_.window);
  const std::uint64_t mask = n >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1);
  return static_cast<int>(std::bitset<64>(snap_.history & mask).count());
}

link_state link_monitor::evaluate() const noexcept {
  if (snap_.history_len == 0 || snap_.consecutive_misses >= settings_.misses)
    return link_state::down;
  // A down link needs an answer to leave down: a lone loss must not lift it to degraded.
  if (snap_.status.state == link_state::down && snap_.consecutive_misses > 0)
    return link_state::down;
  if (losses_in_window() > 0)
    return link_state::degraded;
  return link_state::up;
}

std::optional<link_state> link_monitor::record(bool answered, std::int64_t now_ms) {
  snap_.history = (snap_.history << 1) | (answered ? 0u : 1u);
  snap_.history_len = std::min(snap_.history_len + 1, 64);
  if (answered) {
    ++snap_.probes_answered;
    snap_.consecutive_misses = 0;
  } else {
    ++snap_.probes_lost;
    ++snap_.consecutive_misses;
  }
  const auto next = evaluate();
  if (next == snap_.status.state)
    return std::nullopt;
  snap_.status.state = next;
  ++snap_.status.transitions;
  snap_.status.since_ms = now_ms;
  return next;
}

} // namespace cms::links
