#include "test/tools/mtasim/rtp.hpp"

#include <cstring>
#include <random>
#include <system_error>
#include <vector>

namespace cms::sim {

namespace {

std::uint32_t random_u32() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  return gen();
}

constexpr auto tick = std::chrono::milliseconds(20);

} // namespace

// ---- receive statistics ---------------------------------------------------------------------

void rtp_receive_stats::on_packet(std::uint16_t seq, std::uint32_t timestamp,
                                  std::int64_t arrival_units) {
  if (!started_) {
    started_ = true;
    base_seq_ = seq;
    max_seq_ = seq;
    received_ = 1;
    last_transit_ = arrival_units - static_cast<std::int64_t>(timestamp);
    return;
  }
  ++received_;
  // Extend the 16-bit sequence number relative to the highest seen (A.1, simplified: a packet
  // more than 32768 behind is taken as a wrap-around forward).
  std::uint32_t cycles = max_seq_ & 0xFFFF0000u;
  std::uint16_t max_low = static_cast<std::uint16_t>(max_seq_ & 0xFFFF);
  std::int32_t delta = static_cast<std::int16_t>(static_cast<std::uint16_t>(seq - max_low));
  if (delta > 0) {
    if (seq < max_low)
      cycles += 0x10000u;
    max_seq_ = cycles | seq;
  }
  std::int64_t transit = arrival_units - static_cast<std::int64_t>(timestamp);
  std::int64_t d = transit - last_transit_;
  last_transit_ = transit;
  if (d < 0)
    d = -d;
  jitter_ += (static_cast<double>(d) - jitter_) / 16.0;
}

std::uint64_t rtp_receive_stats::expected() const noexcept {
  return started_ ? static_cast<std::uint64_t>(max_seq_ - base_seq_) + 1 : 0;
}

std::uint64_t rtp_receive_stats::lost() const noexcept {
  auto e = expected();
  return e > received_ ? e - received_ : 0;
}

// ---- session ----------------------------------------------------------------------------------

rtp_session::rtp_session(boost::asio::io_context& io, const boost::asio::ip::address& bind_address,
                         media_clock& clock)
  : socket_(io),
    clock_(clock),
    seq_(static_cast<std::uint16_t>(random_u32())),
    timestamp_(random_u32()),
    ssrc_(random_u32()),
    epoch_(std::chrono::steady_clock::now()) {
  boost::asio::ip::udp::endpoint ep(bind_address, 0);
  socket_.open(ep.protocol());
  socket_.non_blocking(true);
  socket_.bind(ep);
  local_port_ = socket_.local_endpoint().port();
}

rtp_session::rtp_session(boost::asio::io_context& io, media_clock& clock, std::uint16_t local_port)
  : socket_(io),
    clock_(clock),
    local_port_(local_port),
    open_(false),
    seq_(0),
    timestamp_(0),
    ssrc_(0),
    epoch_(std::chrono::steady_clock::now()) {}

rtp_session::~rtp_session() {
  if (registered_)
    clock_.remove(this);
}

void rtp_session::start() { receive(); }

void rtp_session::close() {
  if (!open_)
    return;
  open_ = false;
  update_registration();
  boost::system::error_code ec;
  socket_.close(ec);
}

void rtp_session::set_remote(std::optional<boost::asio::ip::udp::endpoint> remote) {
  remote_ = remote;
  update_registration();
}

void rtp_session::set_sending(bool on) {
  sending_ = on;
  update_registration();
}

void rtp_session::update_registration() {
  bool want = sending();
  if (want && !registered_)
    clock_.add(this);
  else if (!want && registered_)
    clock_.remove(this);
  registered_ = want;
}

rtp_counters rtp_session::counters() const {
  auto c = counters_;
  c.packets_lost = receive_stats_.lost();
  c.jitter_ms = receive_stats_.jitter_units() / 8.0;
  return c;
}

void rtp_session::send_packet() {
  if (!sending())
    return;
  std::array<std::uint8_t, 12 + payload_bytes> pkt;
  pkt[0] = 0x80; // V=2, no padding, no extension, no CSRC
  pkt[1] = payload_type;
  pkt[2] = static_cast<std::uint8_t>(seq_ >> 8);
  pkt[3] = static_cast<std::uint8_t>(seq_);
  for (int i = 0; i < 4; ++i) {
    pkt[4 + i] = static_cast<std::uint8_t>(timestamp_ >> (24 - 8 * i));
    pkt[8 + i] = static_cast<std::uint8_t>(ssrc_ >> (24 - 8 * i));
  }
  std::memset(pkt.data() + 12, 0xFF, payload_bytes); // mu-law silence
  ++seq_;
  timestamp_ += payload_bytes;
  boost::system::error_code ec;
  socket_.send_to(boost::asio::buffer(pkt), *remote_, 0, ec);
  if (!ec) {
    ++counters_.packets_sent;
    counters_.octets_sent += payload_bytes;
  }
  // A full socket buffer (would_block) drops the packet as a congested network would.
}

void rtp_session::receive() {
  if (!open_)
    return;
  auto self = shared_from_this();
  socket_.async_receive_from(
    boost::asio::buffer(rx_buffer_), rx_from_,
    [self](const boost::system::error_code& ec, std::size_t n) {
      if (ec == boost::asio::error::operation_aborted || !self->open_)
        return;
      if (!ec) {
        const auto* p = self->rx_buffer_.data();
        if (n < 12 || (p[0] >> 6) != 2) {
          ++self->counters_.invalid_received;
        } else {
          std::uint16_t seq = static_cast<std::uint16_t>(p[2] << 8 | p[3]);
          std::uint32_t ts =
            std::uint32_t(p[4]) << 24 | std::uint32_t(p[5]) << 16 | std::uint32_t(p[6]) << 8 | p[7];
          std::uint32_t ssrc = std::uint32_t(p[8]) << 24 | std::uint32_t(p[9]) << 16 |
                               std::uint32_t(p[10]) << 8 | p[11];
          if (self->remote_ssrc_ && *self->remote_ssrc_ != ssrc)
            self->receive_stats_ = rtp_receive_stats{}; // new source (far end re-INVITEd)
          self->remote_ssrc_ = ssrc;
          auto now = std::chrono::steady_clock::now() - self->epoch_;
          auto units =
            std::chrono::duration_cast<std::chrono::microseconds>(now).count() * 8 / 1000;
          self->receive_stats_.on_packet(seq, ts, units);
          ++self->counters_.packets_received;
          self->counters_.octets_received += n - 12;
        }
      }
      self->receive();
    });
}

// ---- clock ------------------------------------------------------------------------------------

media_clock::media_clock(boost::asio::io_context& io) : timer_(io) {}

void media_clock::add(rtp_session* s) {
  sessions_.insert(s);
  if (!running_ && !stopped_) {
    running_ = true;
    next_ = std::chrono::steady_clock::now();
    arm();
  }
}

void media_clock::remove(rtp_session* s) { sessions_.erase(s); }

void media_clock::stop() {
  stopped_ = true;
  timer_.cancel();
}

void media_clock::arm() {
  next_ += tick;
  auto now = std::chrono::steady_clock::now();
  if (next_ + 5 * tick < now)
    next_ = now; // we fell far behind (overload): skip ticks rather than burst
  timer_.expires_at(next_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) {
      running_ = false;
      return;
    }
    if (sessions_.empty()) {
      running_ = false;
      return;
    }
    // Copy: sending never changes the set, but be robust against future callbacks that do.
    std::vector<rtp_session*> now_sending(sessions_.begin(), sessions_.end());
    for (auto* s : now_sending)
      s->send_packet();
    arm();
  });
}

} // namespace cms::sim
