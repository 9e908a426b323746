#pragma once
// A scriptable RKS for the client tests: a UDP socket on 127.0.0.1 port 0 that records every
// datagram and answers (or not) as the test decides. Runs on the test's io_context.

#include "runtime/radius/packet.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace cms::radius::test {

namespace asio = boost::asio;
using udp = asio::ip::udp;

struct received {
  udp::endpoint from;
  bytes data;
  packet p;
};

class fake_rks {
public:
  fake_rks(asio::io_context& io, std::string secret)
    : socket_(io, udp::endpoint{asio::ip::address_v4::loopback(), 0}),
      secret_(std::move(secret)) {
    // The window test puts 1024 datagrams in flight in one burst, before this socket (same thread)
    // reads any: the default 208 KiB buffer would drop most of them. The kernel caps this at
    // net.core.rmem_max (4 MiB on Debian 12's default).
    socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20));
    receive();
  }
  /// Effective receive buffer (the kernel may have capped the request).
  int receive_buffer() const {
    asio::socket_base::receive_buffer_size size;
    socket_.get_option(size);
    return size.value();
  }
  udp::endpoint endpoint() const { return socket_.local_endpoint(); }
  /// Decides per datagram whether to answer; answers everything by default.
  std::function<bool(const received&)> answer_if = [](const received&) { return true; };
  std::vector<received> log;

  /// A correct answer to `r`: Accounting-Response signed with the secret (Status-Server too,
  /// as FreeRADIUS does on an accounting socket).
  bytes answer_for(const received& r, code c = code::accounting_response) const {
    return encode_response(c, r.p.identifier, r.p.authenticator, {}, secret_,
                           r.p.packet_code == code::status_server);
  }
  void send_to(const udp::endpoint& to, const bytes& data) {
    socket_.send_to(asio::buffer(data), to);
  }
  void reply(const received& r) { send_to(r.from, answer_for(r)); }
  std::size_t count(code c) const {
    std::size_t n = 0;
    for (const auto& r : log)
      n += r.p.packet_code == c;
    return n;
  }

private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buffer_), from_, [this](auto ec, std::size_t n) {
      if (ec)
        return;
      received r{
        from_, bytes(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n)), {}};
      if (auto p = decode(byte_view{r.data.data(), r.data.size()}))
        r.p = *p;
      log.push_back(r);
      bool ok =
        r.p.packet_code == code::status_server
          ? verify_message_authenticator(byte_view{r.data.data(), r.data.size()}, secret_, true)
          : verify_accounting_request(byte_view{r.data.data(), r.data.size()}, secret_);
      if (ok && answer_if(log.back()))
        reply(log.back());
      receive();
    });
  }

  udp::socket socket_;
  std::string secret_;
  std::array<std::uint8_t, 4096> buffer_{};
  udp::endpoint from_;
};

/// Runs `io` until `done()` or `limit` passes; false on the limit.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return true;
}

} // namespace cms::radius::test
