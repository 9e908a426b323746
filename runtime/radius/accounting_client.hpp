#pragma once
// UDP client that delivers PacketCable Event Messages to an RKS pair (RFC 2866 accounting).
//
// Rules (see README.md):
// - Each request gets an (source socket, Identifier) pair of its own. One socket has 256
//   Identifiers, so the client spreads its window over `source_ports` sockets; beyond the window,
//   requests wait in a FIFO and leave in the order send() was called.
// - A request that is not answered within `retry_interval` is retransmitted, byte for byte, up to
//   `retry_count` times. When the last try also times out (retry_interval x (1 + retry_count) in
//   all) the request moves to the other RKS and, if the silent one was the active RKS, the other
//   becomes active for every later request (a failover). After both RKSs timed out the callback
//   reports the failure; the caller keeps the record for a later attempt.
// - Return to the primary: while the secondary is active, a Status-Server (RFC 5997) goes to the
//   primary every `probe_interval`; the first valid answer makes the primary active again.
// - A response is accepted only from the exact address and port its request went to, for an
//   Identifier in flight on that socket, with a valid Response Authenticator (and valid
//   Message-Authenticator if it has one). Everything else is dropped and counted.
// All work runs on a strand of the given io_context; send() and counters() are thread-safe;
// callbacks run on that strand. Timing uses the Asio steady clock only.

#include "runtime/radius/client_counters.hpp"
#include "runtime/radius/event_message.hpp"
#include "runtime/radius/packet.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cms::radius {

/// One RKS: where its accounting socket is and the secret shared with it.
struct rks_peer {
  boost::asio::ip::udp::endpoint endpoint;
  std::string secret; ///< from load_secret(path)
};

struct accounting_client_options {
  rks_peer primary;
  std::optional<rks_peer> secondary;
  std::chrono::milliseconds retry_interval{1000}; ///< deployed elements: 10..10000, default 1000
  unsigned retry_count = 1;                       ///< retransmissions per RKS: 0..9, default 1
  std::size_t source_ports = 4;                   ///< sockets, 256 Identifiers each
  std::size_t window_per_port = 256;              ///< in flight per socket, at most 256
  int dscp = 8; ///< CS1: billing is management traffic, behind MGCP signalling
  /// Local address of the sockets; unspecified = any address of the primary's family.
  boost::asio::ip::address bind_address;
  std::chrono::milliseconds probe_interval{5000}; ///< Status-Server to a failed primary
  em_envelope envelope;                           ///< NAS-IP-Address of this CMS
};

struct send_result {
  bool ok = false;
  std::string record_key;
  std::string error;          ///< empty when ok
  int server = -1;            ///< 0 primary, 1 secondary: who answered (or last tried)
  unsigned transmissions = 0; ///< datagrams sent for this request, all RKSs together
  std::chrono::microseconds round_trip{0};
};
using send_callback = std::function<void(const send_result&)>;

struct probe_result {
  bool ok = false;
  std::string error;
  std::chrono::microseconds round_trip{0};
};
using probe_callback = std::function<void(const probe_result&)>;

class accounting_client : public std::enable_shared_from_this<accounting_client> {
public:
  /// Opens and binds the source sockets (throws boost::system::system_error on failure).
  static std::shared_ptr<accounting_client> create(boost::asio::io_context& io,
                                                   accounting_client_options options);
  ~accounting_client();
  accounting_client(const accounting_client&) = delete;
  accounting_client& operator=(const accounting_client&) = delete;

  /// Queues one EM. `record_key` identifies it in the result (e.g. the outbox row).
  void send(std::string record_key, const event_message& em, send_callback cb);
  /// Queues prebuilt attributes (Identifier and authenticator are the client's to set).
  void send(std::string record_key, std::vector<attribute> attrs, send_callback cb);

  /// One Status-Server to `peer` (no retransmission), answered within
  /// retry_interval x (1 + retry_count) or reported as a timeout.
  void status_server(rks_peer peer, probe_callback cb);

  /// Snapshot; callable from any thread.
  accounting_client_counters counters() const;
  /// Local ports of the source sockets, in socket order.
  std::vector<std::uint16_t> local_ports() const;
  /// Closes the sockets; queued and in-flight requests fail with "stopped".
  void stop();

private:
  struct request;
  struct source;

  accounting_client(boost::asio::io_context& io, accounting_client_options options);
  void open_sockets();
  void enqueue(std::unique_ptr<request> r);
  void pump();
  bool assign_slot(request& r);
  void release_slot(request& r);
  void address_to(request& r, int server);
  void transmit(request& r, bool retransmission);
  void arm_timer(request& r, std::chrono::milliseconds after);
  void on_timeout(std::uint64_t serial);
  void finish(std::uint64_t serial, send_result result, bool probe_ok);
  void start_receive(std::size_t socket_index);
  void on_datagram(std::size_t socket_index, std::size_t size);
  int server_of(const boost::asio::ip::udp::endpoint& from) const;
  const rks_peer& peer(int server) const;
  int server_count() const { return options_.secondary ? 2 : 1; }
  void schedule_probe();
  template <class F>
  void with_counters(F&& f);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  accounting_client_options options_;
  std::vector<std::unique_ptr<source>> sources_;
  std::unordered_map<std::uint64_t, std::unique_ptr<request>> in_flight_;
  std::deque<std::unique_ptr<request>> queue_;
  std::uint64_t next_serial_ = 1;
  std::size_t next_source_ = 0;
  int active_ = 0; ///< server new requests go to
  bool stopped_ = false;
  boost::asio::steady_timer probe_timer_;
  bool probing_ = false;

  mutable std::mutex counters_mutex_;
  accounting_client_counters counters_;
};

} // namespace cms::radius
