#include "sim_network.hpp"

#include "actors/ha/replication_protocol.hpp"
#include "actors/type_ids.hpp"

#include <algorithm>

namespace cms::ha::actor_sim {

namespace {

using deliver_atom = caf::atom_constant<caf::atom("sn_deliv")>;
using forward_atom = caf::atom_constant<caf::atom("sn_fwd")>;
using reply_atom = caf::atom_constant<caf::atom("sn_reply")>;

} // namespace

caf::behavior relay(caf::stateful_actor<relay_state>* self, node_link* net, int conn, int seen_from,
                    caf::actor target) {
  self->state.net = net;
  self->state.conn = conn;
  self->state.seen_from = seen_from;
  self->state.target = std::move(target);
  // Everything that is not the relay's own bookkeeping travels the link.
  self->set_default_handler(
    [self](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      bool request = self->current_message_id().is_request();
      auto sender = self->current_sender(); // before the promise takes it over
      caf::response_promise rp;
      if (request)
        rp = self->make_response_promise();
      self->state.net->submit(self, x.move_content_to_message(), std::move(sender), request, rp);
      return caf::delegated<caf::message>{};
    });
  return {
    [self](deliver_atom, std::uint64_t id) { self->state.net->deliver(self, id); },
    [self](forward_atom, std::uint64_t id) { self->state.net->forward_request(self, id); },
    [self](reply_atom, std::uint64_t id) { self->state.net->deliver_reply(id); },
  };
}

node_link::node_link(caf::actor_system& sys, std::mt19937_64& rng, schedule_fn at)
  : sys_(sys),
    rng_(rng),
    at_(std::move(at)) {}

caf::actor node_link::view(int conn, int seen_from, const caf::actor& target) {
  auto& c = conns_[conn];
  auto key = std::make_pair(seen_from, target.address());
  auto it = c.views.find(key);
  if (it != c.views.end())
    return it->second;
  auto v = sys_.spawn(relay, this, conn, seen_from, target);
  c.views.emplace(key, v);
  return v;
}

caf::actor node_link::connect(int from, const caf::actor& remote_ha) {
  if (cut || !node_up(from) || !node_up(1 - from) || !remote_ha)
    return {};
  if (!open_)
    open_ = next_conn_++;
  return view(open_, from, remote_ha);
}

void node_link::break_connection(std::int64_t detect_ms, const std::string&) {
  if (!open_)
    return;
  int conn = open_;
  open_ = 0;
  // What is in flight is lost now; both sides notice later (the middleman's connection timeout).
  at_(detect_ms, [this, conn] {
    auto it = conns_.find(conn);
    if (it == conns_.end())
      return;
    for (auto& [key, v] : it->second.views)
      caf::anon_send_exit(v, caf::exit_reason::remote_link_unreachable);
    conns_.erase(it);
  });
}

void node_link::shutdown() {
  open_ = 0;
  for (auto& [id, c] : conns_)
    for (auto& [key, v] : c.views)
      caf::anon_send_exit(v, caf::exit_reason::kill);
  conns_.clear();
  pending_.clear();
}

std::int64_t node_link::fate(int conn, int from) {
  if (conn != open_ || cut)
    return -1;
  if (std::uniform_real_distribution<double>{0.0, 1.0}(rng_) < settings.loss) {
    // TCP retransmits a lost segment until the middleman's connection timeout gives up: a loss
    // on the node link is a broken connection, noticed within the timeout (CAF-0.17-NOTES).
    break_connection(std::uniform_int_distribution<std::int64_t>{0, 3000}(rng_), "loss");
    return -1;
  }
  auto delay =
    std::uniform_int_distribution<std::int64_t>{settings.delay_min_ms, settings.delay_max_ms}(rng_);
  // In order (one TCP connection): never before what this direction already has in flight.
  auto& clock = sys_.clock();
  auto now = clock.now();
  auto due = now + std::chrono::milliseconds{delay};
  auto& last = conns_[conn].last_due[from];
  due = std::max(due, last);
  last = due;
  return std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count();
}

void node_link::submit(caf::stateful_actor<relay_state>* self, caf::message msg,
                       caf::strong_actor_ptr sender, bool request, caf::response_promise rp) {
  auto& st = self->state;
  if (!node_up(st.seen_from))
    return;
  auto delay = fate(st.conn, st.seen_from);
  if (delay < 0)
    return; // lost; a request then runs into its timeout at the requester
  auto id = next_id_++;
  auto& e = pending_[id];
  e.conn = st.conn;
  e.seen_from = st.seen_from;
  e.target = st.target;
  e.msg = std::move(msg);
  e.sender = std::move(sender);
  e.request = request;
  e.rp = std::move(rp);
  self->delayed_send(self, std::chrono::milliseconds{delay}, deliver_atom::value, id);
}

void node_link::deliver(caf::stateful_actor<relay_state>* self, std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end())
    return;
  auto& e = it->second;
  int to = 1 - e.seen_from;
  if (e.conn != open_ || !node_up(to)) {
    pending_.erase(it);
    return;
  }
  // Handles inside the message become the receiving node's views (as CAF makes proxies).
  if (e.msg.match_elements<atom::repl_peer, caf::actor>())
    e.msg = caf::make_message(atom::repl_peer_v, view(e.conn, to, e.msg.get_as<caf::actor>(1)));
  ++delivered_;
  if (on_deliver)
    on_deliver(to, e.msg);
  caf::actor sender_view;
  if (e.sender)
    sender_view = view(e.conn, to, caf::actor_cast<caf::actor>(e.sender));
  if (!e.request) {
    if (sender_view)
      caf::send_as(sender_view, e.target, std::move(e.msg));
    else
      caf::anon_send(e.target, std::move(e.msg));
    pending_.erase(it);
    return;
  }
  if (!sender_view) {
    pending_.erase(it);
    return;
  }
  // The request is made by the sender's view, so that its response comes back over the link.
  self->send(sender_view, forward_atom::value, id);
}

void node_link::forward_request(caf::event_based_actor* self, std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end())
    return;
  auto target = it->second.target;
  auto msg = it->second.msg;
  auto back = [this, self, id](caf::message reply, caf::error err) {
    auto it = pending_.find(id);
    if (it == pending_.end())
      return;
    // The response travels from the target's node back to the requester's.
    auto delay = fate(it->second.conn, 1 - it->second.seen_from);
    if (delay < 0) {
      pending_.erase(it);
      return;
    }
    it->second.reply = std::move(reply);
    it->second.reply_error = std::move(err);
    self->delayed_send(self, std::chrono::milliseconds{delay}, reply_atom::value, id);
  };
  if (msg.match_elements<repl_snapshot_request>()) {
    self->request(target, caf::infinite, std::move(msg))
      .then([back](repl_snapshot& s) { back(caf::make_message(std::move(s)), caf::error{}); },
            [back](caf::error& err) { back(caf::message{}, std::move(err)); });
    return;
  }
  // The node link carries one kind of request today; a new one must be taught to the relay.
  ++unsupported_;
  back(caf::message{}, caf::make_error(caf::sec::unexpected_message));
}

void node_link::deliver_reply(std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end())
    return;
  auto e = std::move(it->second);
  pending_.erase(it);
  if (e.conn != open_ || !node_up(e.seen_from))
    return;
  ++delivered_;
  if (e.reply_error)
    e.rp.deliver(std::move(e.reply_error));
  else
    e.rp.deliver(std::move(e.reply));
}

} // namespace cms::ha::actor_sim
