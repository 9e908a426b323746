#pragma once
// UDP helpers for the billing integration tests, both on their own Asio thread:
//
// udp_relay: a transparent UDP relay on 127.0.0.1 in front of the FreeRADIUS RKS. It plays a
// management path (the primary data link, or the backup VPN tunnel) and injects faults into the
// RADIUS exchange: cut the path (nothing passes either way), lose the RKS's answers (the RKS
// stored the EM, the CMS never heard the Accounting-Response), or corrupt an Accounting-Request
// on the wire (its EM header's sequence number, so a corrupted EM that was stored would show up
// in the RKS's table). Each client address/port gets its own upstream socket, so answers find
// their way back to the socket (and RADIUS Identifier) that asked. It also records the EM
// sequence number of every Accounting-Request it forwards: which records went over this path.
//
// udp_echo: the far end of a data link (runtime/transport/link_prober.hpp): echoes link probe
// datagrams ("CMSPROBE1 ..."), as `link-peer` does, on a given address and port.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cms::test {

/// The EM header sequence number of a RADIUS Accounting-Request carrying a CableLabs-Event-Message
/// (vendor 4491, attribute 1, 76 octets); nullopt for anything else.
std::optional<std::uint32_t> em_sequence_of(const std::uint8_t* data, std::size_t size);

class udp_relay {
public:
  /// Listens on 127.0.0.1:listen_port (0: any free port) and relays to 127.0.0.1:target_port.
  explicit udp_relay(std::uint16_t target_port, std::uint16_t listen_port = 0);
  ~udp_relay();
  udp_relay(const udp_relay&) = delete;
  udp_relay& operator=(const udp_relay&) = delete;

  std::uint16_t port() const { return port_; }

  std::atomic<bool> cut{false};            ///< the path is down: nothing passes either way
  std::atomic<bool> hold_responses{false}; ///< every answer of the RKS is lost while set
  std::atomic<int> drop_responses{0};      ///< lose this many answers of the RKS
  std::atomic<int> corrupt_requests{0};    ///< corrupt this many Accounting-Requests' EM header

  std::atomic<int> requests{0};       ///< Accounting-Requests relayed (corrupted ones included)
  std::atomic<int> responses{0};      ///< answers relayed back to the client
  std::atomic<int> lost_responses{0}; ///< answers dropped (hold_responses / drop_responses)
  std::atomic<int> corrupted{0};      ///< Accounting-Requests corrupted so far

  /// EM header sequence numbers of the Accounting-Requests relayed, in order (retransmissions
  /// and re-sends included).
  std::vector<std::uint32_t> em_sequences() const;

private:
  struct flow;
  void receive();
  void on_request(std::size_t n);
  void receive_upstream(const std::shared_ptr<flow>& f);

  boost::asio::io_context io_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint target_;
  boost::asio::ip::udp::endpoint from_;
  std::array<std::uint8_t, 4096> in_{};
  std::map<boost::asio::ip::udp::endpoint, std::shared_ptr<flow>> flows_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<std::uint32_t> sequences_;
  std::thread thread_;
};

class udp_echo {
public:
  /// Binds host:port (0: any free port); throws on failure.
  udp_echo(const std::string& host, std::uint16_t port);
  ~udp_echo();
  udp_echo(const udp_echo&) = delete;
  udp_echo& operator=(const udp_echo&) = delete;

  std::uint16_t port() const { return port_; }
  std::atomic<int> answered{0};

private:
  void receive();

  boost::asio::io_context io_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint from_;
  std::array<char, 512> in_{};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

} // namespace cms::test
