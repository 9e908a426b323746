#pragma once
// The data link's state machine as pure rules: probe outcomes in, state transitions out. No
// actors, no clocks, no sockets; the data-link actor feeds it and the unit tests drive it directly.
//
//   consecutive losses >= misses           -> down
//   down and no answer since               -> down  (also at start, before the first answer)
//   otherwise any loss in the last window  -> degraded
//   otherwise                              -> up
// So a dead link goes down after `misses` probes, and a link that comes back passes through
// degraded until its losses have left the window (hysteresis against flapping).

#include "actors/links/data_link_protocol.hpp"

#include <optional>

namespace cms::links {

class link_monitor {
public:
  /// Starts from `snapshot` (a fresh one for a new link, the last saved one after a restart).
  link_monitor(probe_settings settings, link_snapshot snapshot);

  /// Records one probe outcome; returns the new state when it changed. `now_ms` stamps since_ms.
  std::optional<link_state> record(bool answered, std::int64_t now_ms);

  /// Sequence number for the next probe (and counts it as sent).
  std::uint64_t next_probe();

  const link_snapshot& snapshot() const noexcept { return snap_; }
  const probe_settings& settings() const noexcept { return settings_; }
  link_state state() const noexcept { return snap_.status.state; }
  /// Lost probes among the last `window` outcomes.
  int losses_in_window() const noexcept;

private:
  link_state evaluate() const noexcept;

  probe_settings settings_;
  link_snapshot snap_;
};

} // namespace cms::links
