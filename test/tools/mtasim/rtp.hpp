#pragma once
// Media of the simulated lines: one UDP socket per connection, G.711 mu-law (payload type 0, 160
// bytes every 20 ms) sent to the negotiated far end, and receive statistics computed from sequence
// numbers the way RFC 3550 appendix A.3 does, so loss and jitter can be reported in DLCX P:.
//
// Every sending session is driven by one shared 20 ms clock instead of one timer each: with 400
// streams that is one timer wake-up per tick rather than 400.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_set>

namespace cms::sim {

/// What DLCX reports in P: (PS/OS/PR/OR/PL/JI) and what the report sums up.
struct rtp_counters {
  std::uint64_t packets_sent = 0;
  std::uint64_t octets_sent = 0; ///< payload octets, as RTCP counts them
  std::uint64_t packets_received = 0;
  std::uint64_t octets_received = 0;
  std::uint64_t packets_lost = 0;     ///< expected minus received, never negative
  std::uint64_t invalid_received = 0; ///< datagrams that were not RTP version 2
  double jitter_ms = 0;               ///< RFC 3550 interarrival jitter
};

/// Receive-side bookkeeping of one source (RFC 3550 A.1/A.3/A.8), separate for unit testing.
class rtp_receive_stats {
public:
  /// `arrival_units` is the arrival time in RTP clock units (8 kHz for PCMU).
  void on_packet(std::uint16_t seq, std::uint32_t timestamp, std::int64_t arrival_units);
  std::uint64_t received() const noexcept { return received_; }
  std::uint64_t expected() const noexcept;
  std::uint64_t lost() const noexcept;
  double jitter_units() const noexcept { return jitter_; }

private:
  bool started_ = false;
  std::uint32_t base_seq_ = 0;
  std::uint32_t max_seq_ = 0; ///< extended (cycles in the upper 16 bits)
  std::uint64_t received_ = 0;
  std::int64_t last_transit_ = 0;
  double jitter_ = 0;
};

class media_clock;

class rtp_session : public std::enable_shared_from_this<rtp_session> {
public:
  static constexpr std::size_t payload_bytes = 160; ///< 20 ms of 8 kHz G.711
  static constexpr std::uint8_t payload_type = 0;   ///< PCMU

  /// Binds a socket on `bind_address` port 0; throws std::system_error when that fails.
  rtp_session(boost::asio::io_context& io, const boost::asio::ip::address& bind_address,
              media_clock& clock);
  /// Signalling only (--no-media): no socket; `local_port` is what the SDP offers. The session
  /// is closed from the start, so it never sends, receives or joins the media clock.
  rtp_session(boost::asio::io_context& io, media_clock& clock, std::uint16_t local_port);
  ~rtp_session();
  rtp_session(const rtp_session&) = delete;
  rtp_session& operator=(const rtp_session&) = delete;

  /// Starts receiving; separate from the constructor because it needs shared_from_this().
  void start();
  /// Stops sending and receiving and closes the socket; counters stay readable.
  void close();

  std::uint16_t local_port() const noexcept { return local_port_; }
  void set_remote(std::optional<boost::asio::ip::udp::endpoint> remote);
  const std::optional<boost::asio::ip::udp::endpoint>& remote() const noexcept { return remote_; }
  /// Sends only when enabled and a remote is known (mode sendrecv/sendonly with remote SDP).
  void set_sending(bool on);
  bool sending() const noexcept { return sending_ && remote_.has_value() && open_; }

  rtp_counters counters() const;

  /// Called by the clock every 20 ms.
  void send_packet();

private:
  void receive();

  boost::asio::ip::udp::socket socket_;
  media_clock& clock_;
  std::uint16_t local_port_ = 0;
  std::optional<boost::asio::ip::udp::endpoint> remote_;
  bool sending_ = false;
  bool open_ = true;
  bool registered_ = false;
  std::uint16_t seq_;
  std::uint32_t timestamp_;
  std::uint32_t ssrc_;
  rtp_counters counters_;
  rtp_receive_stats receive_stats_;
  std::optional<std::uint32_t> remote_ssrc_;
  std::array<std::uint8_t, 1500> rx_buffer_{};
  boost::asio::ip::udp::endpoint rx_from_;
  std::chrono::steady_clock::time_point epoch_;
  void update_registration();
};

/// The shared 20 ms tick. Sessions register while they send.
class media_clock {
public:
  explicit media_clock(boost::asio::io_context& io);
  void add(rtp_session* s);
  void remove(rtp_session* s);
  std::size_t active() const noexcept { return sessions_.size(); }
  void stop();

private:
  void arm();
  boost::asio::steady_timer timer_;
  std::unordered_set<rtp_session*> sessions_;
  bool running_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point next_;
};

} // namespace cms::sim
