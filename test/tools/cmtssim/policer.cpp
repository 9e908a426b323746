#include "test/tools/cmtssim/policer.hpp"

#include <algorithm>

namespace cms::cmtssim {

namespace asio = boost::asio;

policer::policer(asio::io_context& io, const std::string& address, std::uint16_t port,
                 gate_table& gates, bool relay, std::function<void(gate&)> on_commit)
  : socket_(io, asio::ip::udp::endpoint{asio::ip::make_address(address), port}),
    gates_(gates),
    relay_(relay),
    on_commit_(std::move(on_commit)) {
  receive();
}

std::uint16_t policer::port() const { return socket_.local_endpoint().port(); }

void policer::stop() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void policer::receive() {
  socket_.async_receive_from(asio::buffer(buffer_), from_,
                             [this](const boost::system::error_code& e, std::size_t n) {
                               if (e == asio::error::operation_aborted || !socket_.is_open())
                                 return;
                               if (!e)
                                 on_packet(n);
                               receive();
                             });
}

void policer::on_packet(std::size_t size) {
  auto& counters = gates_.counters();
  if (!from_.address().is_v4()) {
    ++unmatched_;
    ++counters.policed_packets;
    return;
  }
  gate* g = gates_.match_upstream(from_.address().to_v4().to_uint(), from_.port());
  if (g == nullptr) {
    ++unmatched_;
    ++counters.policed_packets;
    return;
  }
  const cops::gate_spec& up = *g->upstream();
  bool admit = up.M == 0 || size <= up.M;
  if (admit && up.r > 0 && up.b > 0) {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - g->refilled).count();
    g->refilled = now;
    g->tokens = std::min<double>(up.b, g->tokens + elapsed * up.r);
    if (g->tokens >= static_cast<double>(size))
      g->tokens -= static_cast<double>(size);
    else
      admit = false;
  }
  if (!admit) {
    ++g->policed_packets;
    ++counters.policed_packets;
    return;
  }
  ++g->forwarded_packets;
  ++counters.forwarded_packets;
  if (relay_ && up.dst_ip != 0 && up.dst_port != 0) {
    boost::system::error_code ignored;
    socket_.send_to(asio::buffer(buffer_.data(), size),
                    asio::ip::udp::endpoint{asio::ip::address_v4{up.dst_ip}, up.dst_port}, 0,
                    ignored);
  }
  if (g->state == gate_state::authorized) {
    g->state = gate_state::committed;
    if (on_commit_)
      on_commit_(*g);
  }
}

} // namespace cms::cmtssim
