#pragma once
// The control interface: a line-based TCP server on the bind address, so a test (or an operator)
// can command single subscriber actions and read a line's state. One request line in, one
// response line out; the commands are documented in docs/mtasim.md and implemented by the
// simulator's `execute` callback.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>

namespace cms::sim {

class control_server {
public:
  using executor = std::function<std::string(const std::string& request)>;

  /// Binds address:port (0 = any free port); throws std::system_error on failure.
  control_server(boost::asio::io_context& io, const std::string& address, std::uint16_t port,
                 executor exec);
  ~control_server();
  std::uint16_t port() const;
  void stop();

private:
  class session;
  void accept();
  boost::asio::ip::tcp::acceptor acceptor_;
  executor exec_;
};

} // namespace cms::sim
