#include "test/tools/linkpeer/probe_responder.hpp"

#include "runtime/base/logging.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <stdexcept>
#include <string_view>

namespace cms::links {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;

class probe_responder::impl : public std::enable_shared_from_this<probe_responder::impl> {
public:
  impl(asio::io_context& io, const std::string& host, std::uint16_t port, int dscp,
       metrics::registry& reg)
    : socket_(io),
      answered_(
        reg.get_counter("cms_link_peer_probes_total", "Link probes", {{"result", "answered"}})),
      ignored_(
        reg.get_counter("cms_link_peer_probes_total", "Link probes", {{"result", "ignored"}})) {
    if (dscp < 0 || dscp > 63)
      throw std::runtime_error("probe responder: DSCP must be 0..63");
    error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec)
      throw std::runtime_error("probe responder: bad address '" + host + "'");
    const udp::endpoint ep{addr, port};
    socket_.open(ep.protocol(), ec);
    if (!ec) {
      const int tos = dscp << 2;
      if (ep.protocol() == udp::v6())
        ::setsockopt(socket_.native_handle(), IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
      else
        ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
      socket_.bind(ep, ec);
    }
    if (ec)
      throw std::runtime_error("probe responder: cannot bind " + host + ":" + std::to_string(port) +
                               ": " + ec.message());
  }

  void start() { receive(); }

  std::uint16_t port() const { return socket_.local_endpoint().port(); }

  void stop() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->socket_.close(ignored);
    });
  }

private:
  void receive() {
    socket_.async_receive_from(
      asio::buffer(in_), from_, [self = shared_from_this()](const error_code& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted || !self->socket_.is_open())
          return;
        if (!ec)
          self->answer(n);
        self->receive();
      });
  }

  /// Echoes probe datagrams only: the responder must not be usable as a generic UDP reflector.
  void answer(std::size_t n) {
    constexpr std::string_view magic = "CMSPROBE1 ";
    if (n < magic.size() || n > 128 || std::string_view{in_.data(), magic.size()} != magic) {
      ignored_.inc();
      return;
    }
    answered_.inc();
    error_code ignored;
    socket_.send_to(asio::buffer(in_.data(), n), from_, 0, ignored);
  }

  udp::socket socket_;
  udp::endpoint from_;
  std::array<char, 512> in_{};
  metrics::counter& answered_;
  metrics::counter& ignored_;
};

probe_responder::probe_responder(asio::io_context& io, const std::string& host, std::uint16_t port,
                                 int dscp, metrics::registry& metrics)
  : impl_(std::make_shared<impl>(io, host, port, dscp, metrics)) {
  impl_->start();
}

probe_responder::~probe_responder() { impl_->stop(); }

std::uint16_t probe_responder::port() const { return impl_->port(); }

void probe_responder::stop() { impl_->stop(); }

} // namespace cms::links
