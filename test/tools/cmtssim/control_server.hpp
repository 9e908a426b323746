#pragma once
// The simulator's control interface: JSON over UDP on loopback. One datagram carries one request
// object (e.g. {"cmd":"gates"}); the answer is one datagram back to the sender, always an object
// with "ok": true plus data, or "ok": false and "error". UDP keeps the test side to a few lines
// of socket code and needs no framing; answers stay far below the 64 KiB datagram limit for the
// gate counts tests use.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <functional>
#include <string>

namespace cms::cmtssim {

class control_server {
public:
  using executor = std::function<boost::json::value(const boost::json::object& request)>;

  control_server(boost::asio::io_context& io, const std::string& address, std::uint16_t port,
                 executor exec);

  std::uint16_t port() const;
  void stop();

private:
  void receive();

  boost::asio::ip::udp::socket socket_;
  executor exec_;
  boost::asio::ip::udp::endpoint from_;
  std::array<char, 65536> buffer_{};
};

} // namespace cms::cmtssim
