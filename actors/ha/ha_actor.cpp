#include "actors/ha/ha_actor.hpp"

#include "runtime/base/wall_clock.hpp"

#include "runtime/base/logging.hpp"

#include <boost/json.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include <filesystem>
#include <thread>

namespace cms::ha {

namespace {

using self_ptr = caf::stateful_actor<ha_actor_state>*;
/// Local timer: a refused claim is retried sooner than the next tick (ha_rules::claim_retry_due).
using claim_retry_atom = caf::atom_constant<caf::atom("ha_retry")>;

clock_time now_of(self_ptr self) {
  // The actor clock: CAF's test scheduler drives it in deterministic tests.
  return clock_time{self->clock().now().time_since_epoch()};
}

void publish_view(self_ptr self) {
  auto& st = self->state;
  if (!st.env->view)
    return;
  auto& rs = st.rules->state();
  st.env->view->update([&](cluster_snapshot& c) {
    c.role = to_string(rs.current);
    c.epoch = rs.epoch;
    c.peer_state = st.rules->peer_alive() ? "up" : (rs.peer ? "down" : "unknown");
    c.peer_link = rs.node_link_up ? "up" : "down";
    c.peer_udp = rs.udp_up ? "up" : "down";
    c.last_failover_ms = st.last_failover_ms;
    c.last_failover_reason = rs.last_transition_reason;
  });
  if (st.env->udp_self)
    st.env->udp_self(st.rules->self_info(st.env->applied_seq ? st.env->applied_seq() : 0));
}

void carry_out(self_ptr self, const effects& fx);

void notify_subscribers(self_ptr self) {
  auto& rs = self->state.rules->state();
  for (auto& s : self->state.subscribers)
    self->send<caf::message_priority::high>(s, atom::role_changed_v, rs.current, rs.epoch);
}

/// Stores the epoch; false (logged and counted) when the store refused it.
bool persist(self_ptr self, std::uint64_t epoch) {
  auto& st = self->state;
  if (!st.env->persist_epoch)
    return true;
  try {
    st.env->persist_epoch(epoch);
    return true;
  } catch (const std::exception& e) {
    log::get("ha")->error("event=epoch_write_failed epoch={} error=\"{}\"", epoch, e.what());
    if (st.env->metrics)
      st.env->metrics
        ->get_counter("cms_ha_epoch_write_failures_total",
                      "Epochs the store refused (the node steps down instead of acting on them)")
        .inc();
    return false;
  }
}

void carry_out(self_ptr self, const effects& fx) {
  auto& st = self->state;
  auto logger = log::get("ha");
  bool role_change = false;
  std::optional<std::uint64_t> unstored; // an epoch the store refused: never act on it
  for (auto& e : fx) {
    if (unstored && e.kind == effect::become_active)
      continue;
    switch (e.kind) {
    case effect::persist_epoch:
      if (!persist(self, e.epoch))
        unstored = e.epoch;
      break;
    case effect::claim_epoch:
    case effect::renew_lease:
    case effect::release_lease: {
      int kind = e.kind == effect::claim_epoch ? 0 : e.kind == effect::renew_lease ? 1 : 2;
      auto sent = self->clock().now();
      caf::actor me = caf::actor_cast<caf::actor>(self);
      if (!st.env->ask_witnesses) {
        // No witnesses configured: the rules never ask (they promote on their own).
        break;
      }
      st.env->ask_witnesses(
        kind, e.epoch,
        [me, kind, epoch = e.epoch, sent](int granted, std::uint64_t highest,
                                          std::uint64_t highest_refused) {
          if (kind == 0)
            caf::anon_send<caf::message_priority::high>(me, atom::claimed_v, epoch, granted,
                                                        highest, highest_refused);
          else if (kind == 1)
            caf::anon_send<caf::message_priority::high>(me, atom::renewed_v, epoch, granted,
                                                        highest, sent.time_since_epoch().count());
        });
      if (e.kind == effect::claim_epoch)
        logger->info("event=claim epoch={} reason=\"{}\"", e.epoch, e.reason);
      break;
    }
    case effect::become_active:
      st.last_failover_ms = utc_ms();
      role_change = true;
      logger->warn("event=role_change role=active epoch={} reason=\"{}\"", e.epoch, e.reason);
      if (st.env->metrics)
        st.env->metrics->get_counter("cms_ha_promotions_total", "Times this node became active")
          .inc();
      break;
    case effect::become_standby:
      role_change = true;
      logger->warn("event=role_change role=standby epoch={} reason=\"{}\"", e.epoch, e.reason);
      break;
    case effect::step_down:
      role_change = true;
      logger->warn("event=role_change role=stepping-down epoch={} reason=\"{}\"", e.epoch,
                   e.reason);
      if (st.env->metrics)
        st.env->metrics->get_counter("cms_ha_step_downs_total", "Times this node stepped down")
          .inc();
      break;
    case effect::request_snapshot:
      // Replication subscribes to role changes and asks the active for a snapshot itself.
      role_change = true;
      break;
    }
  }
  if (unstored) {
    // Recursion ends: a step-down persists nothing.
    carry_out(self, st.rules->on_epoch_write_failed(*unstored, now_of(self)));
    return;
  }
  publish_view(self);
  if (role_change)
    notify_subscribers(self);
}

/// Test-only faults ([test_faults]): a stuck or a crashing HA actor, as seen from outside.
void inject_test_faults(self_ptr self) {
  auto& env = *self->state.env;
  if (env.test_crash)
    throw std::runtime_error("test fault: HA actor crashes (test_faults.crash_ha_actor)");
  std::error_code ec;
  if (!env.test_freeze_file.empty() && std::filesystem::exists(env.test_freeze_file, ec)) {
    log::get("ha")->critical("event=test_fault_freeze file={}", env.test_freeze_file);
    for (;;)
      std::this_thread::sleep_for(std::chrono::hours{1});
  }
}

/// The node link is up: remember the peer, watch it, and introduce ourselves.
void link_up(self_ptr self, caf::actor peer) {
  self->state.dial_failures = 0;
  self->state.peer = peer;
  self->monitor(peer);
  log::get("ha")->info("event=node_link_up peer={}:{}", self->state.env->peer_host,
                       self->state.env->peer_port);
  self->send(peer, atom::hello_v, self->state.rules->self_info(0));
}

void dial_failed(self_ptr self, const std::string& why) {
  auto& st = self->state;
  // A refused handshake (bad certificate, wrong cluster id) looks the same as a peer that
  // is down; say it loudly once, then every 50th attempt.
  if (st.dial_failures++ % 50 == 0)
    log::get("ha")->warn("event=node_link_dial_failed peer={}:{} attempts={} error=\"{}\"",
                         st.env->peer_host, st.env->peer_port, st.dial_failures, why);
  if (st.env->metrics)
    st.env->metrics
      ->get_counter("cms_ha_node_link_dial_failures_total",
                    "Failed attempts to open the node link to the peer")
      .inc();
}

void dial(self_ptr self) {
  auto& st = self->state;
  if (!st.env->dial || st.peer || st.dialing)
    return;
  if (st.env->connect_peer) {
    if (auto peer = st.env->connect_peer())
      link_up(self, std::move(peer));
    else
      dial_failed(self, "peer unreachable");
    return;
  }
  st.dialing = true;
  auto mm = self->system().openssl_manager().actor_handle();
  // Requesting the middleman actor keeps us responsive; remote_actor() would block (CAF notes).
  self
    ->request(mm, std::chrono::seconds{3}, caf::connect_atom::value, st.env->peer_host,
              st.env->peer_port)
    .then(
      [self](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        self->state.dialing = false;
        if (!ptr)
          return;
        link_up(self, caf::actor_cast<caf::actor>(ptr));
      },
      [self](const caf::error& err) {
        self->state.dialing = false;
        dial_failed(self, self->system().render(err));
      });
}

std::string status_json(self_ptr self) {
  auto& rs = self->state.rules->state();
  boost::json::object o{{"role", to_string(rs.current)},
                        {"epoch", rs.epoch},
                        {"node_link", rs.node_link_up ? "up" : "down"},
                        {"udp", rs.udp_up ? "up" : "down"},
                        {"claiming", rs.claiming},
                        {"last_transition_reason", rs.last_transition_reason},
                        {"witnesses", self->state.rules->settings().witnesses}};
  if (rs.peer)
    o["peer"] = {{"node_id", rs.peer->node_id},
                 {"role", to_string(rs.peer->peer_role)},
                 {"epoch", rs.peer->epoch},
                 {"priority", rs.peer->priority}};
  return boost::json::serialize(o);
}

} // namespace

caf::behavior ha_actor(self_ptr self, std::shared_ptr<ha_environment> env) {
  auto& st = self->state;
  st.env = env;
  st.rules = std::make_unique<ha_rules>(env->settings);
  carry_out(self, st.rules->start(env->persisted_epoch, now_of(self)));
  self->set_down_handler([self](caf::down_msg& msg) {
    if (self->state.peer && msg.source == self->state.peer.address()) {
      log::get("ha")->warn("event=node_link_down reason=\"{}\"", self->system().render(msg.reason));
      self->state.peer = nullptr;
      return;
    }
    auto& subs = self->state.subscribers;
    subs.erase(
      std::remove_if(subs.begin(), subs.end(), [&](auto& s) { return s.address() == msg.source; }),
      subs.end());
  });
  self->send(self, atom::tick_v);
  return {
    [self](atom::tick) {
      auto& st = self->state;
      inject_test_faults(self);
      carry_out(self, st.rules->on_tick(now_of(self)));
      if (st.peer)
        self->send<caf::message_priority::high>(
          st.peer, atom::heartbeat_v,
          st.rules->self_info(st.env->applied_seq ? st.env->applied_seq() : 0));
      else
        dial(self);
      self->delayed_send(self, st.env->settings.heartbeat_interval, atom::tick_v);
    },
    [self](atom::hello, const peer_info& p) {
      auto& st = self->state;
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (sender && (!st.peer || st.peer != sender)) {
        if (st.peer)
          self->demonitor(st.peer);
        st.peer = sender;
        self->monitor(sender);
        log::get("ha")->info("event=node_link_up peer={} (accepted)", p.node_id);
      }
      carry_out(self, st.rules->on_heartbeat(path::node_link, p, now_of(self)));
    },
    [self](atom::heartbeat, const peer_info& p) {
      carry_out(self, self->state.rules->on_heartbeat(path::node_link, p, now_of(self)));
    },
    [self](atom::udp_hb, const peer_info& p) {
      carry_out(self, self->state.rules->on_heartbeat(path::udp, p, now_of(self)));
    },
    [self](atom::claimed, std::uint64_t epoch, int granted, std::uint64_t highest,
           std::uint64_t highest_refused) {
      carry_out(self, self->state.rules->on_claim_tally(epoch, granted, highest, highest_refused,
                                                        now_of(self)));
      // One timer at a time: the tick's own claims are refused too and must not start more.
      auto& st = self->state;
      if (auto due = st.rules->claim_retry_due(); due && !st.claim_retry_armed) {
        st.claim_retry_armed = true;
        self->delayed_send(self, *due, claim_retry_atom::value);
      }
    },
    [self](claim_retry_atom) {
      self->state.claim_retry_armed = false;
      carry_out(self, self->state.rules->on_claim_retry(now_of(self)));
    },
    [self](atom::renewed, std::uint64_t epoch, int granted, std::uint64_t highest,
           std::int64_t sent_ns) {
      auto& rules = *self->state.rules;
      clock_time sent{std::chrono::nanoseconds{sent_ns}};
      auto fx = rules.on_renew_result(epoch, granted,
                                      std::chrono::time_point_cast<clock_time::duration>(sent));
      if (highest > rules.state().epoch)
        for (auto& e : rules.on_higher_epoch(highest, "witness", now_of(self)))
          fx.push_back(e);
      carry_out(self, fx);
    },
    [self](atom::switchover) -> bool {
      auto& st = self->state;
      if (st.rules->state().current != role::active || !st.peer || !st.rules->peer_alive())
        return false;
      carry_out(self, st.rules->on_switchover_request(now_of(self)));
      self->send<caf::message_priority::high>(st.peer, atom::handover_v);
      return true;
    },
    [self](atom::handover) {
      carry_out(self, self->state.rules->on_switchover_request(now_of(self)));
    },
    [self](atom::subscribe, const caf::actor& who) {
      self->state.subscribers.push_back(who);
      self->monitor(who);
      auto& rs = self->state.rules->state();
      self->send(who, atom::role_changed_v, rs.current, rs.epoch);
    },
    [self](atom::status) { return status_json(self); },
    // -- replication: the replicators find each other through us -------------
    [self](atom::repl_attach, const caf::actor& local) {
      auto& st = self->state;
      st.replicator = local;
      if (st.peer && local)
        self->send(st.peer, atom::repl_peer_v, local);
    },
    [self](atom::repl_peer, const caf::actor& remote) {
      if (self->state.replicator && remote)
        self->send(self->state.replicator, atom::repl_peer_v, remote);
    },
    [self](atom::epoch_seen, std::uint64_t epoch, const std::string& source) {
      carry_out(self, self->state.rules->on_higher_epoch(epoch, source, now_of(self)));
    },
  };
}

} // namespace cms::ha
