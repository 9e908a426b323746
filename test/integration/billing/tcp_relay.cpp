#include "tcp_relay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace cms::test {

namespace {

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    auto w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0)
      return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

} // namespace

tcp_relay::tcp_relay(std::uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("tcp_relay: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

tcp_relay::~tcp_relay() {
  stop_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& t : pumps_)
    t.join();
}

void tcp_relay::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0)
      continue;
    ++connections;
    int server = connect_loopback(target_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    std::lock_guard<std::mutex> guard{mutex_};
    pumps_.emplace_back([this, client, server] { pump(client, server); });
  }
}

void tcp_relay::pump(int client, int server) {
  using clock = std::chrono::steady_clock;
  char buf[65536];
  bool swallowing = false;
  clock::time_point cut_at;
  while (!stop_) {
    if (swallowing && clock::now() >= cut_at)
      break;
    pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(p, 2, 20) <= 0)
      continue;
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      auto size = static_cast<std::size_t>(n);
      if (size >= batch_chunk) {
        ++batches;
        if (corrupt_batches.fetch_sub(1) > 0)
          buf[size / 2] ^= 0x5a;
        else
          corrupt_batches.fetch_add(1);
        if (!swallowing && swallow_acks.fetch_sub(1) > 0) {
          // Give the RKS time to commit, then cut without passing its ack on.
          swallowing = true;
          cut_at = clock::now() + std::chrono::milliseconds{500};
        } else if (!swallowing) {
          swallow_acks.fetch_add(1);
        }
      }
      if (!send_all(server, buf, size))
        break;
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto n = ::recv(server, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      if (!swallowing && !send_all(client, buf, static_cast<std::size_t>(n)))
        break;
    }
  }
  ::shutdown(client, SHUT_RDWR);
  ::shutdown(server, SHUT_RDWR);
  ::close(client);
  ::close(server);
}

} // namespace cms::test
