#include "runtime/node/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace cms::sd {

bool notify(std::string_view state) noexcept {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path)
    return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  auto len = std::strlen(path);
  if (len >= sizeof addr.sun_path)
    return false;
  std::memcpy(addr.sun_path, path, len);
  // "@name" is an abstract socket: its first byte is NUL on the wire.
  if (path[0] == '@')
    addr.sun_path[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  auto sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> watchdog_period() noexcept {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (!usec || !*usec)
    return std::nullopt;
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid) {
    if (std::strtol(pid, nullptr, 10) != static_cast<long>(::getpid()))
      return std::nullopt;
  }
  char* end = nullptr;
  auto n = std::strtoll(usec, &end, 10);
  if (end == usec || *end != '\0' || n <= 0)
    return std::nullopt;
  return std::chrono::microseconds{n};
}

} // namespace cms::sd
