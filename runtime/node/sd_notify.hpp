#pragma once
// The systemd notification protocol, by hand (one datagram on the unix socket named by
// NOTIFY_SOCKET; no libsystemd): READY=1 once the node serves, WATCHDOG=1 while its HA actor shows
// signs of life, STOPPING=1 at shutdown. Without NOTIFY_SOCKET (not under systemd) it does nothing.

#include <chrono>
#include <optional>
#include <string_view>

namespace cms::sd {

/// Sends `state` ("READY=1", "WATCHDOG=1"...) to the service manager. False when there is no
/// NOTIFY_SOCKET or the send failed.
bool notify(std::string_view state) noexcept;

/// The watchdog period systemd expects pings within (WatchdogSec=, given as WATCHDOG_USEC), when
/// it is meant for this process (WATCHDOG_PID absent or ours).
std::optional<std::chrono::microseconds> watchdog_period() noexcept;

} // namespace cms::sd
