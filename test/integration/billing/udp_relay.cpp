#include "udp_relay.hpp"

#include <boost/asio/post.hpp>

#include <string_view>

namespace cms::test {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;

namespace {

constexpr std::uint32_t cablelabs_vendor = 4491;
constexpr std::size_t em_header_size = 76;
constexpr std::size_t em_sequence_offset = 46; // EM header octets 46..49

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

/// Offset of the EM header (CableLabs-Event-Message value) in an Accounting-Request, or 0.
std::size_t em_header_offset(const std::uint8_t* d, std::size_t size) {
  if (size < 20 || d[0] != 4) // Accounting-Request
    return 0;
  const std::size_t length = std::min<std::size_t>(size, (std::size_t{d[2]} << 8) | d[3]);
  for (std::size_t at = 20; at + 2 <= length;) {
    const std::size_t len = d[at + 1];
    if (len < 2 || at + len > length)
      return 0;
    if (d[at] == 26 && len >= 6 && be32(d + at + 2) == cablelabs_vendor) {
      for (std::size_t v = at + 6; v + 2 <= at + len;) {
        const std::size_t vlen = d[v + 1];
        if (vlen < 2 || v + vlen > at + len)
          break;
        if (d[v] == 1 && vlen - 2 == em_header_size)
          return v + 2;
        v += vlen;
      }
    }
    at += len;
  }
  return 0;
}

} // namespace

std::optional<std::uint32_t> em_sequence_of(const std::uint8_t* data, std::size_t size) {
  const auto at = em_header_offset(data, size);
  if (at == 0)
    return std::nullopt;
  return be32(data + at + em_sequence_offset);
}

struct udp_relay::flow {
  explicit flow(asio::io_context& io) : upstream(io) {}
  udp::socket upstream;
  udp::endpoint client;
  udp::endpoint from;
  std::array<std::uint8_t, 4096> buf{};
};

udp_relay::udp_relay(std::uint16_t target_port, std::uint16_t listen_port)
  : socket_(io_, udp::endpoint{asio::ip::address_v4::loopback(), listen_port}),
    target_(asio::ip::address_v4::loopback(), target_port) {
  port_ = socket_.local_endpoint().port();
  receive();
  thread_ = std::thread{[this] { io_.run(); }};
}

udp_relay::~udp_relay() {
  asio::post(io_, [this] {
    error_code ignored;
    socket_.close(ignored);
    for (auto& [client, f] : flows_)
      f->upstream.close(ignored);
  });
  thread_.join();
}

std::vector<std::uint32_t> udp_relay::em_sequences() const {
  std::lock_guard guard{mutex_};
  return sequences_;
}

void udp_relay::receive() {
  socket_.async_receive_from(asio::buffer(in_), from_, [this](const error_code& ec, std::size_t n) {
    if (!socket_.is_open() || ec == asio::error::operation_aborted)
      return;
    if (!ec)
      on_request(n);
    receive();
  });
}

void udp_relay::on_request(std::size_t n) {
  if (cut)
    return;
  auto& f = flows_[from_];
  if (!f) {
    f = std::make_shared<flow>(io_);
    f->client = from_;
    f->upstream.open(udp::v4());
    receive_upstream(f);
  }
  if (auto seq = em_sequence_of(in_.data(), n)) {
    ++requests;
    {
      std::lock_guard guard{mutex_};
      sequences_.push_back(*seq);
    }
    int left = corrupt_requests.load();
    while (left > 0 && !corrupt_requests.compare_exchange_weak(left, left - 1)) {}
    if (left > 0) {
      // The top bit of the EM sequence number: were it stored, the RKS's table would hold an EM
      // no record of the outbox makes.
      in_[em_header_offset(in_.data(), n) + em_sequence_offset] ^= 0x80;
      ++corrupted;
    }
  }
  error_code ignored;
  f->upstream.send_to(asio::buffer(in_.data(), n), target_, 0, ignored);
}

void udp_relay::receive_upstream(const std::shared_ptr<flow>& f) {
  f->upstream.async_receive_from(
    asio::buffer(f->buf), f->from, [this, f](const error_code& ec, std::size_t n) {
      if (!f->upstream.is_open() || ec == asio::error::operation_aborted)
        return;
      if (!ec && !cut) {
        int drop = drop_responses.load();
        while (drop > 0 && !drop_responses.compare_exchange_weak(drop, drop - 1)) {}
        if (hold_responses || drop > 0) {
          ++lost_responses;
        } else {
          error_code ignored;
          socket_.send_to(asio::buffer(f->buf.data(), n), f->client, 0, ignored);
          ++responses;
        }
      }
      receive_upstream(f); // errors (an ICMP port unreachable while the RKS is down) are ignored
    });
}

udp_echo::udp_echo(const std::string& host, std::uint16_t port)
  : socket_(io_, udp::endpoint{asio::ip::make_address(host), port}) {
  port_ = socket_.local_endpoint().port();
  receive();
  thread_ = std::thread{[this] { io_.run(); }};
}

udp_echo::~udp_echo() {
  asio::post(io_, [this] {
    error_code ignored;
    socket_.close(ignored);
  });
  thread_.join();
}

void udp_echo::receive() {
  socket_.async_receive_from(asio::buffer(in_), from_, [this](const error_code& ec, std::size_t n) {
    if (!socket_.is_open() || ec == asio::error::operation_aborted)
      return;
    constexpr std::string_view magic = "CMSPROBE1 ";
    if (!ec && n >= magic.size() && n <= 128 &&
        std::string_view{in_.data(), magic.size()} == magic) {
      error_code ignored;
      socket_.send_to(asio::buffer(in_.data(), n), from_, 0, ignored);
      ++answered;
    }
    receive();
  });
}

} // namespace cms::test
