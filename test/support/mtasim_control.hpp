#pragma once
// A client for mtasim's line-based TCP control port (test/tools/mtasim/control.hpp): one request line, one
// answer line. Tests drive the simulated phones and gateways through it (off-hook, dial, status...).

#include <boost/json.hpp>

#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace cms::test {

/// One persistent connection: many requests, answered in order.
class mtasim_control {
public:
  explicit mtasim_control(std::uint16_t port, int timeout_s = 10) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot connect to mtasim's control port");
    }
    timeval tv{timeout_s, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  mtasim_control(const mtasim_control&) = delete;
  mtasim_control& operator=(const mtasim_control&) = delete;
  ~mtasim_control() { ::close(fd_); }

  /// The answer line without its line end; empty when the connection failed or timed out.
  std::string request(const std::string& line) {
    auto out = line + "\n";
    if (::send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size()))
      return {};
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        auto answer = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!answer.empty() && answer.back() == '\r')
          answer.pop_back();
        return answer;
      }
      char chunk[65536];
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0)
        return {};
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// `status <line>` as JSON (empty object when the answer is not JSON).
  boost::json::object status(int line) {
    boost::system::error_code ec;
    auto v = boost::json::parse(request("status " + std::to_string(line)), ec);
    return !ec && v.is_object() ? v.as_object() : boost::json::object{};
  }

private:
  int fd_ = -1;
  std::string buffer_;
};

/// One request on a connection of its own; `on_error` when mtasim cannot be reached.
inline std::string mtasim_request(std::uint16_t port, const std::string& line, int timeout_s = 5,
                                  const std::string& on_error = {}) {
  try {
    mtasim_control c{port, timeout_s};
    return c.request(line);
  } catch (const std::runtime_error&) {
    return on_error;
  }
}

} // namespace cms::test
