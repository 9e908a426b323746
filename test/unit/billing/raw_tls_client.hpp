#pragma once
// A deliberately dumb TLS client for the RKS tests: writes whatever bytes it is given (corrupted,
// truncated, oversized frames) and reads raw replies, with a deadline on every step.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace cms::test {

class raw_tls_client {
public:
  /// cert/key empty: connect without a client certificate.
  raw_tls_client(const std::string& ca, const std::string& cert, const std::string& key);

  /// TCP connect to 127.0.0.1:port and TLS handshake. Returns an error text, empty on success.
  std::string connect(std::uint16_t port);
  std::string write(const std::string& bytes);
  /// Reads one reply frame and checks its digest; nullopt (and `error`) when none arrives.
  std::optional<boost::json::object> read_reply(std::string& error);
  /// True when the peer closes the connection within the deadline (EOF or reset on read).
  bool closed_by_peer();
  /// Closes the TCP connection abruptly (no TLS close_notify).
  void abort();

private:
  /// Runs the io_context until `done` or the deadline; returns false on timeout.
  bool run_until(const bool& done);

  boost::asio::io_context io_;
  boost::asio::ssl::context tls_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  std::chrono::milliseconds deadline_{5000};
};

} // namespace cms::test
