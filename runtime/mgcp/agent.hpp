#pragma once
// The MGCP edge: one UDP socket on a Boost.Asio io_context, the transaction layer (tid allocation,
// retransmission with backoff, duplicate detection with a T-hist response cache, response acks,
// provisional 100) and per-peer counters. Everything above it sees decoded commands and responses.
//
// Threading: callbacks run on the io_context thread and must not block (hand work to actors with
// anon_send). send() and respond() are thread-safe (they post to the io_context).

#include "runtime/mgcp/codec.hpp"
#include "runtime/mgcp/flood_guard.hpp"
#include "runtime/mgcp/message.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

namespace cms::mgcp {

using udp_endpoint = boost::asio::ip::udp::endpoint;

/// RFC 3435 3.5 / NCS retransmission and history timers.
struct transaction_timers {
  std::chrono::milliseconds initial{200};  ///< first retransmission timeout (NCS: 200 ms)
  std::chrono::milliseconds max{4000};     ///< backoff cap (NCS: 4 s)
  int max1 = 5;                            ///< retransmissions before "suspect" (re-resolve)
  int max2 = 7;                            ///< retransmissions before the peer is unreachable
  std::chrono::milliseconds t_hist{30000}; ///< response cache lifetime
  std::chrono::milliseconds provisional_after{200}; ///< send 100 to a retransmitted pending command
  double jitter = 0.1;                              ///< +/- fraction applied to each timeout
};

/// Bounds on the commands we receive. Every fresh command costs a record kept until T-hist after
/// its answer; without a bound, a source sending fresh transaction ids (or commands nobody ever
/// answers) grows the table for ever. Over a bound a command is answered 409 (internal overload,
/// RFC 3435 2.4), uncached, and not executed: a real peer backs off and retries.
struct receive_limits {
  /// Records (pending, answered, acknowledged) for all peers together. At 2,000 commands/s and
  /// T-hist 30 s a busy node holds ~60,000.
  std::size_t max_transactions = 131072;
  /// Records for one peer address:port. A 672-channel TGCP gateway at 10 calls/s with 3 NTFYs
  /// each holds ~900; an MTA a handful.
  std::size_t max_per_peer = 4096;
  /// A command handed to the owner and never answered is forgotten after this (the peer stopped
  /// retransmitting after Max2, ~18 s); a late respond() is then sent uncached.
  std::chrono::milliseconds pending_timeout{30000};
};

struct agent_config {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 2727; ///< call agent default (2427 is the gateway port)
  int dscp = 26;             ///< AF31 (CS3 = 24) for signalling
  transaction_timers timers;
  codec_limits limits;
  /// Distinct peer="ip:port" metric labels before further peers are counted as peer="other"
  /// (keeps /metrics bounded when thousands of MTAs talk to the node).
  std::size_t max_peer_labels = 1024;
  /// Acknowledge received final responses with K: on the next command to the same peer (RFC 3435
  /// 3.5.5). Turn off for peers that reject K: (osmo-mgw 1.10 answers a CRCX carrying K: with 539).
  bool send_response_acks = true;
  /// Seeds retransmission jitter and the first transaction id; 0 = from std::random_device.
  std::uint64_t seed = 0;
  /// Kernel receive buffer to ask for (SO_RCVBUF); 0 leaves the kernel's default (~208 kB). By the
  /// kernel's accounting (~1.2 kB per small datagram) the default holds ~170 datagrams: a 10 ms
  /// pause of the io thread at 15,000 messages/s overflows it, and each lost datagram costs a
  /// retransmission timeout. Beyond net.core.rmem_max the agent tries SO_RCVBUFFORCE.
  std::size_t receive_buffer_bytes = 0;
  /// Budgets per source address:port (flood_guard.hpp): malformed datagrams over their budget are
  /// dropped unanswered (cms_mgcp_errors_total{reason="malformed_over_budget"}); any datagram over
  /// the total budget is dropped unparsed (reason="rate_limited"). Well-formed traffic of another
  /// port of the same address is never affected.
  flood_limits flood;
  receive_limits receive;
};

/// Why a command sent by us got no final response.
enum class transaction_failure {
  timeout /* Max2 reached: peer unreachable */,
  send_error,
  stopped
};

using command_outcome = std::variant<response, transaction_failure>;

class agent {
public:
  /// A new command (never a retransmission of one already seen). The owner must eventually call
  /// respond() with the same transaction id; until then retransmissions are absorbed (and get 100).
  using command_handler = std::function<void(const udp_endpoint& from, command cmd)>;
  using outcome_handler = std::function<void(command_outcome)>;
  /// A peer stopped answering (Max2 reached on one of our commands).
  using unreachable_handler = std::function<void(const udp_endpoint& peer)>;

  agent(boost::asio::io_context& io, agent_config cfg, metrics::registry& metrics);
  ~agent();
  agent(const agent&) = delete;
  agent& operator=(const agent&) = delete;

  void on_command(command_handler h);
  void on_unreachable(unreachable_handler h);

  /// Binds the socket (throws std::system_error on failure) and starts receiving.
  void start();
  /// Stops receiving; pending commands complete with transaction_failure::stopped.
  void stop();

  /// Sends a command, allocating its transaction id (the cmd's own id is ignored); `done` gets the
  /// final response or the failure. Returns the transaction id.
  std::uint32_t send(const udp_endpoint& to, command cmd, outcome_handler done);
  /// Answers a command we received; the response is cached for T-hist.
  void respond(const udp_endpoint& to, response rsp);

  /// While fenced (a standby, or a node of a pair before its role is known) the agent answers
  /// nothing and hands no command to the owner: no error answer, no 100, no cached replay, no
  /// respond(). Commands are not even recorded, so the first copy that arrives after the fence
  /// opens is fresh. Counted as cms_mgcp_rejected_total{reason="fenced"}. Thread-safe.
  void set_fenced(bool fenced);
  bool fenced() const;

  udp_endpoint local_endpoint() const;
  /// The socket's kernel receive buffer as set (SO_RCVBUF; Linux's getsockopt reports twice
  /// that); 0 when not started.
  std::size_t receive_buffer_bytes() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace cms::mgcp
