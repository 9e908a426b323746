#pragma once
// Test support: loopback ports handed to child processes (cmsd, mtasim, witnesses) in their
// config files.
//
// Why not "bind port 0, read it, close it": that port comes from the kernel's ephemeral range,
// so between the close and the child's bind any connect() or bind(0) on the machine (another
// test under `ctest -j`, an outgoing TCP connection) may take it, and the child fails with
// EADDRINUSE. CI saw exactly that. Here a port comes from a fixed block below the ephemeral range
// (the kernel never hands those out on its own), and the test process holds an flock on
// /tmp/cms-test-ports/<port> for its lifetime, so no other test process picks it meanwhile.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

namespace cms::test {

namespace port_detail {

/// First port of the kernel's ephemeral range (where port-0 binds land); the block ends below it.
inline int ephemeral_low() {
  std::ifstream in{"/proc/sys/net/ipv4/ip_local_port_range"};
  int low = 32768, high = 60999;
  in >> low >> high;
  return low;
}

/// True when a socket of `type` can bind 127.0.0.1:port right now.
inline bool bindable(int type, std::uint16_t port) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

/// Takes the machine-wide claim on `port` for the rest of this process: the lock file's
/// descriptor stays open on purpose (the kernel drops the lock when the process exits, even on
/// a crash). A second claim from this same process fails too (flock is per open file).
inline bool claim(std::uint16_t port) {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = "/tmp/cms-test-ports";
    std::error_code ignored;
    std::filesystem::create_directories(d, ignored);
    std::filesystem::permissions(d, std::filesystem::perms::all, ignored);
    return d;
  }();
  auto file = dir / (std::to_string(port) + ".lock");
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    return false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  return true; // fd kept: the claim lasts as long as this process
}

} // namespace port_detail

/// A loopback port that is free for both TCP and UDP and that no other test process will be
/// given while this one runs. `type` is kept for callers that say which one they need.
inline std::uint16_t free_port(int type = SOCK_STREAM) {
  (void)type;
  static std::mutex mutex;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard lock{mutex};
  // 10000-19999, below the ephemeral range: the bench, soak and drill scripts put their MTA port
  // blocks at 20000 and up, so a test run beside one of them does not take its ports.
  const int high = std::min(19999, port_detail::ephemeral_low() - 1);
  const int low = std::min(10000, high - 1000);
  std::uniform_int_distribution<int> pick{low, high};
  for (int attempt = 0; attempt < 2000; ++attempt) {
    auto port = static_cast<std::uint16_t>(pick(rng));
    if (!port_detail::bindable(SOCK_STREAM, port) || !port_detail::bindable(SOCK_DGRAM, port))
      continue;
    if (port_detail::claim(port))
      return port;
  }
  throw std::runtime_error("no free loopback port below the ephemeral range");
}

} // namespace cms::test
