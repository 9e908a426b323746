#pragma once
// The pair's UDP side: the second heartbeat path (independent of the CAF node link, so one broken
// path is not mistaken for a dead peer) and the client of the witnesses that arbitrate promotions.
// Both run on an Asio io_context; callbacks run on its thread and must only hand data to actors.
// Datagrams are sealed with the cluster key (ha_wire.hpp, docs/security.md); a datagram that does
// not verify, comes from elsewhere than the configured peer or witnesses, is replayed or is out
// of its time window is dropped and counted (cms_ha_udp_dropped_total{path,reason}).

#include "actors/ha/ha_rules.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cms::ha {

using udp_endpoint = boost::asio::ip::udp::endpoint;

/// Parses "host:port"; throws std::invalid_argument.
udp_endpoint parse_udp_endpoint(const std::string& host_port);

/// What both UDP paths need to authenticate: the cluster, its key and the replay window.
struct udp_trust {
  std::string cluster;
  std::string key; ///< at least config::min_key_bytes
  std::chrono::milliseconds replay_window{5000};
};

class udp_heartbeat {
public:
  using receive_fn = std::function<void(const peer_info&)>;

  /// `stale_after`: the I/O thread stops beating when the HA actor has not called set_self for
  /// this long (it calls it at every tick): a dead or stuck HA actor must not look alive.
  udp_heartbeat(boost::asio::io_context& io, udp_trust trust, udp_endpoint local, udp_endpoint peer,
                std::chrono::milliseconds interval, std::chrono::milliseconds stale_after, int dscp,
                metrics::registry& metrics);
  ~udp_heartbeat();

  void on_receive(receive_fn f);
  /// Binds and starts sending every interval. Throws std::system_error.
  void start();
  void stop();
  /// What our next heartbeats say (thread-safe); each call is also the HA actor's sign of life.
  void set_self(const peer_info& self);

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// Outcome of asking every witness: how many granted, and the highest epoch any of them reported.
struct witness_tally {
  int granted = 0;
  int answered = 0;
  std::uint64_t highest_epoch = 0;
  std::string highest_holder;
  std::uint64_t highest_refused = 0; ///< highest epoch reported by a witness that said no
};

class witness_client {
public:
  enum class request_kind { claim, renew, release };
  using done_fn = std::function<void(witness_tally)>;

  witness_client(boost::asio::io_context& io, udp_trust trust, std::vector<udp_endpoint> witnesses,
                 std::chrono::milliseconds answer_timeout, metrics::registry& metrics);
  ~witness_client();

  std::size_t size() const noexcept;
  /// Sends the request to every witness; `done` runs once all answered or the timeout passed.
  void ask(request_kind kind, const std::string& node, std::uint64_t epoch,
           std::chrono::milliseconds lease, done_fn done);
  void stop();

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace cms::ha
