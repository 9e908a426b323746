#pragma once
// The simulated node link between the two nodes of the actor simulation (actor_sim.hpp): what CAF's
// middleman and its proxies are in cmsd, made of local relay actors on the test scheduler.
//
// A relay is one node's view of an actor of the other node (a proxy): a message sent to it travels
// the link (loss, delay, reordering as the link settings say) and is delivered to the real actor
// with, as sender, the receiving node's view of the original sender, so that replies travel back
// over the link too. Actor handles inside a message (atom::repl_peer) are translated into views the
// same way. Requests (the snapshot request) are forwarded by the sender's view and their response
// travels back before the requester's promise is fulfilled.
//
// A connection holds every view made while it was open. Breaking it (cut, crash) loses what is in
// flight at once; the views go down with remote_link_unreachable after a detection delay (the
// middleman's connection timeout), which is what the HA actor and the replicator watch.

#include <caf/all.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace cms::ha::actor_sim {

/// How the node link behaves for one schedule.
/// The node link is one TCP connection: in order, and a lost message is a broken connection
/// (TCP retransmits until the middleman's connection timeout gives up), never a gap in the stream.
/// Per-datagram loss and reordering are the UDP heartbeat path's and the witnesses' (actor_sim).
struct link_settings {
  double loss = 0.0; ///< per message: chance that the connection breaks on it
  int delay_min_ms = 0;
  int delay_max_ms = 10; ///< a delay spread beyond the heartbeat interval delays, never reorders
};

class node_link;

struct relay_state {
  node_link* net = nullptr;
  int conn = 0;      ///< connection id
  int seen_from = 0; ///< the node on which this view lives (its senders are actors of that node)
  caf::actor target; ///< the real actor on the other node
  static inline const char* name = "relay";
};

caf::behavior relay(caf::stateful_actor<relay_state>* self, node_link* net, int conn, int seen_from,
                    caf::actor target);

class node_link {
public:
  using schedule_fn = std::function<void(std::int64_t delay_ms, std::function<void()>)>;

  node_link(caf::actor_system& sys, std::mt19937_64& rng, schedule_fn at);

  link_settings settings;
  /// Nothing passes and dialling fails (a partition of the link).
  bool cut = false;
  /// Whether a node is up: what a crashed node's actors still send vanishes.
  std::function<bool(int)> node_up;
  /// Called just before a message is delivered to an actor of node `to` (invariant bookkeeping).
  std::function<void(int to, const caf::message&)> on_deliver;

  /// ha_environment::connect_peer of node `from`: a view of `remote_ha`, or null when unreachable.
  caf::actor connect(int from, const caf::actor& remote_ha);
  /// The connection breaks: in-flight messages are lost, views go down after `detect_ms`.
  void break_connection(std::int64_t detect_ms, const std::string& why);
  bool connected() const noexcept { return open_ != 0; }
  /// Messages delivered over the link so far, and requests of a kind the relay cannot forward.
  std::uint64_t delivered() const noexcept { return delivered_; }
  std::uint64_t unsupported_requests() const noexcept { return unsupported_; }
  /// Kills every view (end of a schedule).
  void shutdown();

  // -- used by the relays ---------------------------------------------------------------------------
  void submit(caf::stateful_actor<relay_state>* self, caf::message msg,
              caf::strong_actor_ptr sender, bool request, caf::response_promise rp);
  void deliver(caf::stateful_actor<relay_state>* self, std::uint64_t id);
  void forward_request(caf::event_based_actor* self, std::uint64_t id);
  void deliver_reply(std::uint64_t id);

private:
  struct envelope {
    int conn = 0;
    int seen_from = 0;
    caf::actor target;
    caf::message msg;
    caf::strong_actor_ptr sender;
    bool request = false;
    caf::response_promise rp;
    caf::message reply;
    caf::error reply_error;
  };
  struct connection {
    std::map<std::pair<int, caf::actor_addr>, caf::actor> views;
    caf::actor_clock::time_point last_due[2] = {};
  };

  caf::actor view(int conn, int seen_from, const caf::actor& target);
  /// Delay of one message from node `from` in connection `conn`, or -1 when it is lost.
  std::int64_t fate(int conn, int from);

  caf::actor_system& sys_;
  std::mt19937_64& rng_;
  schedule_fn at_;
  std::map<int, connection> conns_;
  int open_ = 0; ///< id of the open connection, 0 = none
  int next_conn_ = 1;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, envelope> pending_;
  std::uint64_t delivered_ = 0;
  std::uint64_t unsupported_ = 0;
};

} // namespace cms::ha::actor_sim
