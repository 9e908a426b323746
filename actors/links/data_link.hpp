#pragma once
// The data-link actor: one per provisioned data link (primary point-to-point link, backup VPN
// tunnel). Every probe interval it evaluates the previous probe (answered or lost), feeds the
// outcome to link_monitor and sends the next probe through its transport, which puts the datagram
// on that link's path (runtime/transport/link_prober.hpp) and reports answers back as (atom::probe_ack, seq).
// Transitions are logged, counted (cms_data_link_transitions_total{link,to}), exposed (gauges
// cms_data_link_up{link}, cms_data_link_state{link}) and published to subscribers.
// Protocol: actors/links/data_link_protocol.hpp.
//
// Restart: the actor saves its link_snapshot into its link_board after every probe outcome, and
// the board also keeps the subscribers; a restarted actor (same board) resumes the history, the
// state and the subscriptions of the crashed one, so subscribers keep getting transitions without
// re-subscribing.

#include "actors/links/data_link_monitor.hpp"
#include "actors/links/data_link_protocol.hpp"
#include "runtime/base/metrics.hpp"

#include <caf/all.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cms::links {

/// Puts probes on the link's path. Implementations must be thread-safe; answers are reported with
/// caf::anon_send(reply_to, atom::probe_ack_v, seq) from any thread.
class probe_transport {
public:
  virtual ~probe_transport() = default;
  virtual void send_probe(const caf::actor& reply_to, std::uint64_t seq) = 0;
};

/// What outlives one incarnation of a link actor: its last snapshot and its subscribers. Also the
/// thread-safe read side for HTTP/SNMP (`status()`). One board per link, owned by the node.
class link_board {
public:
  link_board(std::string link, std::string kind);

  link_status status() const;
  link_snapshot snapshot() const;
  void save(const link_snapshot& s);

  std::vector<caf::actor> subscribers() const;
  /// False when `s` was already subscribed.
  bool add_subscriber(const caf::actor& s);
  void remove_subscriber(const caf::actor_addr& s);
  void clear_subscribers();

private:
  mutable std::mutex mutex_;
  link_snapshot snap_;
  std::vector<caf::actor> subscribers_;
};

/// Subscribes `subscriber` to a link without its actor's handle (which changes on restarts): the
/// subscriber gets the current status at once, and the link actor (whichever incarnation) starts
/// watching it at its next probe interval. For child specs that spawn a subscriber (forwarder,
/// router) after the link actors. Thread-safe.
void subscribe(const std::shared_ptr<link_board>& board, const caf::actor& subscriber);

struct data_link_state {
  std::shared_ptr<link_board> board;
  std::shared_ptr<probe_transport> transport;
  std::optional<link_monitor> monitor;
  std::uint64_t outstanding = 0;        ///< seq of the probe awaiting its answer (0: none)
  bool answered = false;                ///< the outstanding probe was answered
  std::vector<caf::actor_addr> watched; ///< board subscribers this incarnation monitors
  metrics::registry* metrics = nullptr;
  static inline const char* name = "data_link";
};

/// `board` identifies the link (name, kind) and carries state across restarts; `transport` sends
/// the probes; `metrics` may be null (tests).
caf::behavior data_link(caf::stateful_actor<data_link_state>* self,
                        std::shared_ptr<link_board> board,
                        std::shared_ptr<probe_transport> transport, probe_settings settings,
                        metrics::registry* metrics);

} // namespace cms::links
