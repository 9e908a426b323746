#include "actors/ha/replicator.hpp"

#include "runtime/base/wall_clock.hpp"

#include "actors/calls/call_protocol.hpp"
#include "actors/calls/endpoint_protocol.hpp"
#include "actors/ha/takeover_protocol.hpp"
#include "actors/calls/state_catalog.hpp"
#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/ha_store.hpp"
#include "persistence/outbox.hpp"
#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

#include <random>

namespace cms::ha {

replicator_state::~replicator_state() = default;

namespace {

using self_ptr = caf::stateful_actor<replicator_state>*;
using flush_atom = caf::atom_constant<caf::atom("rp_flush")>;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("replication");
  return l;
}

metrics::counter& counter(self_ptr self, const std::string& name, const std::string& help) {
  return self->state.env->metrics->get_counter(name, help);
}

std::string image_key(const repl_record& r) { return r.kind + "/" + r.key; }

persistence::blob to_blob(const std::vector<char>& v) {
  return persistence::blob(v.begin(), v.end());
}

/// The store: opened lazily (and again after a failure) on our own connection.
persistence::database* store(self_ptr self) {
  auto& st = self->state;
  if (!st.db) {
    try {
      // The standby acknowledges a batch once apply() committed it; "on both nodes" must mean
      // on both disks, so every commit syncs the WAL (synchronous=FULL).
      st.db = std::make_unique<persistence::database>(
        persistence::database::open(st.env->db_file, persistence::acknowledged_writer()));
    } catch (const std::exception& e) {
      logger()->error("event=store_unusable error=\"{}\"", e.what());
      return nullptr;
    }
  }
  return st.db.get();
}

// ---- epochs ------------------------------------------------------------------------------------

/// A message revealed a higher epoch: adopt it and let the HA actor decide (an active demotes).
void learn_epoch(self_ptr self, std::uint64_t epoch, const std::string& source) {
  auto& st = self->state;
  if (epoch <= st.epoch)
    return;
  logger()->warn("event=higher_epoch epoch={} ours={} source=\"{}\"", epoch, st.epoch, source);
  st.epoch = epoch;
  if (auto ha = st.env->ha())
    self->send<caf::message_priority::high>(ha, atom::epoch_seen_v, epoch,
                                            "replication: " + source);
}

/// True when a message with `epoch` may be used; refuses it otherwise.
bool accept_epoch(self_ptr self, std::uint64_t epoch, const std::string& source) {
  auto& st = self->state;
  if (epoch < st.epoch) {
    ++st.refused;
    counter(self, "cms_replication_refused_total", "Replication messages refused for a lower epoch")
      .inc();
    logger()->warn("event=refused_lower_epoch epoch={} ours={} source=\"{}\"", epoch, st.epoch,
                   source);
    if (auto sender = caf::actor_cast<caf::actor>(self->current_sender()))
      self->send(sender, atom::repl_refuse_v, st.epoch);
    return false;
  }
  learn_epoch(self, epoch, source);
  return true;
}

// ---- the local actors we follow ------------------------------------------------------------------

void set_fence(self_ptr self, bool closed) {
  auto& st = self->state;
  st.fence_closed = closed;
  if (auto edge = st.env->calls->edge())
    self->send<caf::message_priority::high>(edge, actors::mgcp_fence{closed});
}

/// (Re)subscribes to whatever restarted: catalogue, outbox, edge, HA actor.
void attach(self_ptr self) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  if (auto c = st.env->calls->catalog(); c && c.address() != st.catalog) {
    st.catalog = c.address();
    self->send(c, actors::state_subscribe{me});
  }
  if (auto o = st.env->calls->outbox(); o && o.address() != st.outbox) {
    st.outbox = o.address();
    self->send(o, atom::repl_attach_v, me);
  }
  if (auto e = st.env->calls->edge(); e && e.address() != st.edge) {
    st.edge = e.address();
    self->send<caf::message_priority::high>(e, actors::mgcp_fence{st.fence_closed});
  }
  if (auto h = st.env->ha()) {
    if (h.address() != st.ha) {
      st.ha = h.address();
      self->send(h, atom::subscribe_v, me);
    }
    // Until we know the peer's replicator, let the HA actors introduce us (idempotent).
    if (!st.peer)
      self->send(h, atom::repl_attach_v, me);
  }
}

void set_peer(self_ptr self, const caf::actor& peer) {
  auto& st = self->state;
  if (!peer || peer == st.peer)
    return;
  if (st.peer)
    self->demonitor(st.peer);
  st.peer = peer;
  st.current_at_peer_loss = false;
  self->monitor(peer);
  logger()->info("event=peer_replicator node={}", to_string(peer.node()));
  // Introduce ourselves in return (the HA actors may have passed only one of the two handles);
  // the peer ignores a handle it already knows, so this ends after one round.
  self->send(peer, atom::repl_peer_v, caf::actor_cast<caf::actor>(self));
}

// ---- active side -------------------------------------------------------------------------------

void release_billing(self_ptr self, std::uint64_t sequence, bool on_both) {
  if (sequence == 0)
    return;
  if (auto o = self->state.env->calls->outbox())
    self->send(o, atom::repl_acked_v, sequence, on_both);
}

/// The standby is gone (or resynchronises): nothing waits for it any more.
void standby_lost(self_ptr self) {
  auto& st = self->state;
  std::uint64_t billing = 0;
  for (auto& [seq, b] : st.billing_unacked)
    billing = std::max(billing, b);
  st.billing_unacked.clear();
  st.unacked.clear();
  st.outgoing.clear();
  st.standby_synced = false;
  release_billing(self, billing, false);
}

void schedule_flush(self_ptr self) {
  auto& st = self->state;
  if (st.flush_scheduled)
    return;
  st.flush_scheduled = true;
  // Behind what is already in the mailbox: changes arriving together travel together; with a
  // flush delay, so do the changes of the next few milliseconds.
  if (st.env->flush_delay.count() > 0)
    self->delayed_send(self, st.env->flush_delay, flush_atom::value);
  else
    self->send(self, flush_atom::value);
}

/// Numbers one change; it goes to the standby when one follows our stream.
void number(self_ptr self, repl_record r) {
  auto& st = self->state;
  auto& img = *st.env->image;
  r.seq = ++img.seq;
  r.at_ms = utc_ms();
  img.applied = img.seq;
  if (r.kind == "endpoint" || r.kind == "call") {
    if (r.removed)
      img.entries.erase(image_key(r));
    else
      img.entries[image_key(r)] = r;
  }
  if (!st.standby_synced || !st.peer)
    return;
  st.unacked.emplace_back(r.seq, r.at_ms);
  st.outgoing.push_back(std::move(r));
  schedule_flush(self);
}

void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (!st.standby_synced || !st.peer) {
    st.outgoing.clear();
    return;
  }
  while (!st.outgoing.empty()) {
    repl_batch b;
    b.epoch = st.epoch;
    b.stream = st.stream;
    b.head = st.env->image->seq;
    auto n = std::min(st.outgoing.size(), st.env->batch_max);
    b.records.assign(std::make_move_iterator(st.outgoing.begin()),
                     std::make_move_iterator(st.outgoing.begin() + static_cast<std::ptrdiff_t>(n)));
    st.outgoing.erase(st.outgoing.begin(), st.outgoing.begin() + static_cast<std::ptrdiff_t>(n));
    self->send(st.peer, std::move(b));
  }
}

caf::result<repl_snapshot> serve_snapshot(self_ptr self, repl_snapshot_request& req) {
  auto& st = self->state;
  repl_snapshot s;
  s.epoch = st.epoch;
  if (req.epoch < st.epoch) {
    s.refused = true;
    counter(self, "cms_replication_refused_total", "Replication messages refused for a lower epoch")
      .inc();
    return s;
  }
  learn_epoch(self, req.epoch, "snapshot request");
  if (st.current != role::active)
    return caf::make_error(caf::sec::invalid_argument, "not the active node");
  if (auto sender = caf::actor_cast<caf::actor>(self->current_sender()))
    set_peer(self, sender);
  auto* db = store(self);
  if (!db)
    return caf::make_error(caf::sec::runtime_error, "store unusable");
  // The standby's orphans (committed by it as an active, never acknowledged): our outbox keeps
  // one record per record id; the new ones come back through the stream with our sequences.
  if (auto o = st.env->calls->outbox())
    for (auto& r : req.orphans)
      self->send(o, r);
  if (!req.orphans.empty())
    logger()->warn("event=orphans_adopted records={} more={}", req.orphans.size(),
                   req.orphans_only);
  if (req.orphans_only) {
    s.orphans_only = true;
    return s;
  }
  standby_lost(self);
  s.stream = st.stream;
  s.seq = st.env->image->seq;
  for (auto& [k, r] : st.env->image->entries)
    s.image.push_back(r);
  try {
    persistence::outbox outbox{*db};
    s.billing = outbox.after(req.outbox_last, 1000000);
    s.rks_position = outbox.last_sent();
  } catch (const std::exception& e) {
    st.db.reset();
    return caf::make_error(caf::sec::runtime_error, std::string{"store: "} + e.what());
  }
  // Billing records up to here are in the snapshot: once its ack arrives they are on both.
  if (!s.billing.empty())
    st.billing_unacked.emplace_back(s.seq, s.billing.back().sequence);
  st.standby_synced = true;
  st.acked = s.seq;
  counter(self, "cms_replication_snapshots_served_total", "Snapshots sent to a (re)joining standby")
    .inc();
  logger()->info("event=snapshot_served seq={} entries={} billing={} stream={}", s.seq,
                 s.image.size(), s.billing.size(), s.stream);
  return s;
}

void on_ack(self_ptr self, std::uint64_t epoch, std::uint64_t stream, std::uint64_t seq) {
  auto& st = self->state;
  if (!accept_epoch(self, epoch, "ack"))
    return;
  if (st.current != role::active || stream != st.stream)
    return;
  st.acked = std::max(st.acked, seq);
  while (!st.unacked.empty() && st.unacked.front().first <= seq)
    st.unacked.pop_front();
  std::uint64_t billing = 0;
  while (!st.billing_unacked.empty() && st.billing_unacked.front().first <= seq) {
    billing = std::max(billing, st.billing_unacked.front().second);
    st.billing_unacked.pop_front();
  }
  release_billing(self, billing, true);
}

// ---- standby side ------------------------------------------------------------------------------

/// Pushes a replicated line or call into our own catalogue (GET /endpoints, /calls).
void show(self_ptr self, const repl_record& r) {
  auto catalog = self->state.env->calls->catalog();
  if (!catalog)
    return;
  auto& sys = self->system();
  if (r.kind == "endpoint") {
    actors::endpoint_state e;
    if (actors::decode_state(sys, r.state, e))
      self->send(catalog, std::move(e));
  } else if (r.kind == "call") {
    if (r.removed) {
      self->send(catalog, actors::call_removed{r.key});
      return;
    }
    actors::call_state c;
    if (actors::decode_state(sys, r.state, c))
      self->send(catalog, actors::call_update{std::move(c)});
  }
}

/// Applies records to the store in one transaction, then to the image and the catalogue.
bool apply(self_ptr self, const std::vector<repl_record>& records, std::uint64_t epoch) {
  auto& st = self->state;
  auto* db = store(self);
  if (!db)
    return false;
  try {
    persistence::transaction tx{*db};
    persistence::ha_store states{*db};
    persistence::outbox outbox{*db};
    std::vector<billing::billing_record> billing;
    for (auto& r : records) {
      if (r.kind == "billing") {
        billing.push_back(r.billing);
      } else if (r.kind == "rks_position") {
        // In stream order: the records up to this position may be in this very batch, before
        // it. Marking first left them unsent here, and the standby, once active, sent again
        // what the RKS had acknowledged (pair_failover_test under load).
        if (!billing.empty())
          outbox.store_replicated(std::exchange(billing, {}));
        outbox.mark_sent(r.value);
      } else if (r.removed) {
        states.erase_state(r.kind, r.key);
      } else {
        states.save_state({r.kind, r.key, to_blob(r.state), epoch, r.seq});
      }
    }
    if (!billing.empty())
      outbox.store_replicated(billing);
    tx.commit();
  } catch (const std::exception& e) {
    counter(self, "cms_replication_apply_errors_total", "Replicated batches the store refused")
      .inc();
    logger()->error("event=apply_failed records={} error=\"{}\"", records.size(), e.what());
    // A constraint failure means our outbox and the active's numbering diverged (records we
    // wrote as an active at sequences the active reused): resynchronise the whole outbox.
    if (auto* se = dynamic_cast<const persistence::store_error*>(&e);
        se && se->code() == persistence::store_errc::constraint) {
      st.diverged = true;
      counter(self, "cms_replication_divergence_total",
              "Stream batches that conflicted with the standby's outbox (full billing resync)")
        .inc();
      logger()->error("event=outbox_diverged action=resync_snapshot records={}", records.size());
    }
    st.db.reset();
    return false;
  }
  auto& img = *st.env->image;
  for (auto& r : records) {
    if (r.kind == "endpoint" || r.kind == "call") {
      if (r.removed)
        img.entries.erase(image_key(r));
      else
        img.entries[image_key(r)] = r;
      show(self, r);
    }
    img.seq = r.seq;
  }
  img.applied = img.seq;
  if (!records.empty())
    st.head_at_ms = records.back().at_ms;
  counter(self, "cms_replication_applied_total", "Replicated records applied (standby)")
    .inc(records.size());
  return true;
}

void request_snapshot(self_ptr self);

/// Deletes the outbox rows handed to the active (inside the caller's transaction).
void delete_handed_over(persistence::database& db, const std::vector<std::uint64_t>& orphans) {
  auto del = db.prepare("DELETE FROM billing_outbox WHERE sequence = ?");
  for (auto seq : orphans) {
    del.reset();
    del.bind(1, static_cast<std::int64_t>(seq));
    del.run();
  }
}

/// An orphans_only round was adopted by the active: drop those rows here, then hand over the next
/// chunk. Without the rounds, rows past one message's worth stayed behind, collided with the
/// snapshot and the standby re-sent the same first chunk forever (soak of 2026-11-25).
void drop_handed_over(self_ptr self, const std::vector<std::uint64_t>& orphans) {
  auto& st = self->state;
  auto* db = store(self);
  if (!db)
    return;
  try {
    persistence::transaction tx{*db};
    delete_handed_over(*db, orphans);
    tx.commit();
  } catch (const std::exception& e) {
    logger()->error("event=orphans_drop_failed records={} error=\"{}\"", orphans.size(), e.what());
    st.db.reset();
    return;
  }
  counter(self, "cms_replication_orphan_rounds_total",
          "Chunks of own records handed to the active before a snapshot")
    .inc();
  logger()->info("event=orphans_handed_over records={}", orphans.size());
  request_snapshot(self);
}

void apply_snapshot(self_ptr self, repl_snapshot& s, const std::vector<std::uint64_t>& orphans) {
  auto& st = self->state;
  auto* db = store(self);
  if (!db)
    return;
  try {
    persistence::transaction tx{*db};
    // Every row listed went to the active with the request (after a divergence: all of them).
    delete_handed_over(*db, orphans);
    db->exec("DELETE FROM actor_state");
    persistence::ha_store states{*db};
    for (auto& r : s.image)
      states.save_state({r.kind, r.key, to_blob(r.state), s.epoch, r.seq});
    persistence::outbox outbox{*db};
    if (!s.billing.empty())
      outbox.store_replicated(s.billing);
    if (s.rks_position)
      outbox.mark_sent(s.rks_position);
    tx.commit();
  } catch (const std::exception& e) {
    counter(self, "cms_replication_apply_errors_total", "Replicated batches the store refused")
      .inc();
    logger()->error("event=snapshot_apply_failed error=\"{}\"", e.what());
    if (auto* se = dynamic_cast<const persistence::store_error*>(&e);
        se && se->code() == persistence::store_errc::constraint)
      st.diverged = true; // the next request hands over the whole outbox
    st.db.reset();
    return;
  }
  auto& img = *st.env->image;
  std::map<std::string, repl_record> next;
  for (auto& r : s.image)
    next[image_key(r)] = r;
  // Calls we listed that the active no longer has (ended meanwhile, or ours before a demotion).
  if (auto catalog = st.env->calls->catalog())
    for (auto& [k, r] : img.entries)
      if (r.kind == "call" && !next.count(k))
        self->send(catalog, actors::call_removed{r.key});
  img.entries = std::move(next);
  img.seq = s.seq;
  img.applied = s.seq;
  img.live = true;
  for (auto& [k, r] : img.entries)
    show(self, r);
  st.following = s.stream;
  st.synced = true;
  st.diverged = false;
  st.head = s.seq;
  st.head_at_ms = utc_ms();
  counter(self, "cms_replication_snapshots_applied_total", "Snapshots applied by this standby")
    .inc();
  logger()->info("event=snapshot_applied seq={} entries={} billing={} orphans={}", s.seq,
                 img.entries.size(), s.billing.size(), orphans.size());
  self->send(st.peer, atom::repl_ack_v, st.epoch, st.following, s.seq);
}

void request_snapshot(self_ptr self) {
  auto& st = self->state;
  if (st.current != role::standby || !st.peer || st.synced || st.snapshot_in_flight ||
      st.epoch == 0)
    return;
  auto* db = store(self);
  if (!db)
    return;
  repl_snapshot_request req;
  req.epoch = st.epoch;
  std::vector<std::uint64_t> orphans;
  try {
    // After a divergence even our "replicated" rows may differ from the active's: all of them
    // go over (its outbox keeps one record per record id) and its outbox comes back from 1.
    persistence::outbox outbox{*db};
    req.orphans = st.diverged ? outbox.after(0, st.env->orphan_chunk)
                              : outbox.unreplicated(st.env->orphan_chunk);
    req.orphans_only = req.orphans.size() >= st.env->orphan_chunk; // there may be more: rounds
    req.outbox_last = st.diverged ? 0 : outbox.last_replicated();
  } catch (const std::exception& e) {
    logger()->error("event=snapshot_request_failed error=\"{}\"", e.what());
    st.db.reset();
    return;
  }
  for (auto& r : req.orphans)
    orphans.push_back(r.sequence);
  st.snapshot_in_flight = true;
  logger()->info("event=snapshot_requested epoch={} outbox_last={} orphans={}", req.epoch,
                 req.outbox_last, orphans.size());
  self->request(st.peer, st.env->snapshot_timeout, std::move(req))
    .then(
      [self, orphans](repl_snapshot& s) {
        auto& st = self->state;
        st.snapshot_in_flight = false;
        if (s.refused) {
          learn_epoch(self, s.epoch, "snapshot refused");
          return;
        }
        if (!accept_epoch(self, s.epoch, "snapshot") || st.current != role::standby)
          return;
        if (s.orphans_only)
          drop_handed_over(self, orphans);
        else
          apply_snapshot(self, s, orphans);
      },
      [self](caf::error& err) {
        self->state.snapshot_in_flight = false;
        logger()->warn("event=snapshot_failed error=\"{}\"", self->system().render(err));
      });
}

void on_batch(self_ptr self, repl_batch& b) {
  auto& st = self->state;
  if (!accept_epoch(self, b.epoch, "batch"))
    return;
  if (st.current != role::standby)
    return;
  if (auto sender = caf::actor_cast<caf::actor>(self->current_sender()))
    set_peer(self, sender);
  if (!st.synced || b.stream != st.following) {
    st.synced = false;
    request_snapshot(self);
    return;
  }
  st.head = std::max(st.head, b.head);
  auto expected = st.env->image->seq + 1;
  auto first = b.records.begin();
  while (first != b.records.end() && first->seq < expected)
    ++first; // already applied (duplicate)
  if (first == b.records.end())
    return;
  if (first->seq != expected) {
    logger()->warn("event=stream_gap expected={} got={}", expected, first->seq);
    counter(self, "cms_replication_gaps_total", "Gaps in the stream (the standby resynchronised)")
      .inc();
    st.synced = false;
    request_snapshot(self);
    return;
  }
  std::vector<repl_record> todo(std::make_move_iterator(first),
                                std::make_move_iterator(b.records.end()));
  if (!apply(self, todo, b.epoch)) {
    st.synced = false; // the snapshot rewrites the store from scratch: ask now, not next tick
    request_snapshot(self);
    return;
  }
  self->send(st.peer, atom::repl_ack_v, st.epoch, st.following, st.env->image->seq);
}

// ---- roles -------------------------------------------------------------------------------------

/// This node became active: adopt the replicated image.
void take_over(self_ptr self, bool image_current) {
  auto& st = self->state;
  auto& img = *st.env->image;
  auto& ctx = *st.env->calls;
  auto& sys = self->system();
  std::size_t lines = 0, calls = 0;
  for (auto& [k, r] : img.entries) {
    if (r.kind != "endpoint")
      continue;
    actors::endpoint_state e;
    if (!actors::decode_state(sys, r.state, e))
      continue;
    if (auto line = ctx.directory.find(e.name)) {
      self->send(line, actors::adopt_line{std::move(e), image_current});
      ++lines;
    }
  }
  // Calls only from a live image: a call read back from an old store is long gone.
  if (img.live) {
    if (auto manager = ctx.manager()) {
      for (auto& [k, r] : img.entries) {
        if (r.kind != "call")
          continue;
        actors::call_state c;
        if (!actors::decode_state(sys, r.state, c) || c.phase == actors::call_phase::ended)
          continue;
        self->send(manager, actors::resume_call{std::move(c)});
        ++calls;
      }
    }
  }
  counter(self, "cms_ha_takeovers_total", "Times this node adopted the replicated image").inc();
  logger()->warn("event=takeover epoch={} lines={} calls={} seq={} live={}", st.epoch, lines, calls,
                 img.seq, img.live);
}

/// This node stopped being active: stop talking to MTAs, drop local calls quietly.
void quiesce(self_ptr self) {
  auto& st = self->state;
  auto& ctx = *st.env->calls;
  set_fence(self, true);
  for (auto& [k, r] : st.env->image->entries)
    if (r.kind == "endpoint")
      if (auto line = ctx.directory.find(r.key))
        self->send(line, actors::quiesce_line{});
  if (auto manager = ctx.manager())
    self->send(manager, actors::quiesce_calls{});
  logger()->warn("event=quiesced epoch={}", st.epoch);
}

/// A standby promoted with an image behind the old active's (no snapshot yet, or records announced
/// and not applied) may lack lines, calls and billing records: the promotion goes ahead (a node
/// with a stale image serves better than none), and what it may lack is logged, counted
/// (cms_ha_promoted_behind_total), shown in /cluster (promotion_gap) and in the event log.
void record_promotion_gap(self_ptr self, role previous, bool image_current) {
  auto& st = self->state;
  const auto applied = st.env->image->seq;
  const auto missing = st.head > applied ? st.head - applied : 0;
  if (previous != role::standby || (image_current && missing == 0))
    return;
  const auto age_ms = st.head_at_ms > 0 ? std::max<std::int64_t>(0, utc_ms() - st.head_at_ms) : 0;
  std::string gap =
    !image_current
      ? "no snapshot applied since this node became standby; image seq " + std::to_string(applied)
      : std::to_string(missing) + " records announced and not applied (" + std::to_string(age_ms) +
          " ms)";
  logger()->error("event=promoted_behind image_current={} applied_seq={} head_seq={} missing={} "
                  "head_age_ms={}",
                  image_current, applied, st.head, missing, age_ms);
  counter(self, "cms_ha_promoted_behind_total",
          "Promotions of a standby whose replication image was behind the old active's")
    .inc();
  if (st.env->view)
    st.env->view->update([&](cluster_snapshot& c) {
      c.promotion_gap = gap;
      c.promotion_gap_ms = utc_ms();
    });
}

void on_role(self_ptr self, role r, std::uint64_t epoch) {
  auto& st = self->state;
  auto previous = st.current;
  st.current = r;
  st.epoch = std::max(st.epoch, epoch);
  if (r == role::active && previous != role::active) {
    const bool image_current = previous == role::standby && (st.synced || st.current_at_peer_loss);
    record_promotion_gap(self, previous, image_current);
    st.stream = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
    st.acked = st.env->image->seq;
    st.synced = false;
    st.snapshot_in_flight = false;
    standby_lost(self);
    set_fence(self, false);
    take_over(self, image_current);
  } else if (r == role::standby) {
    if (previous == role::active || previous == role::stepping_down)
      quiesce(self);
    else
      set_fence(self, true);
    standby_lost(self);
    // A (re)notified standby resynchronises: the HA rules ask for it (request_snapshot).
    st.synced = false;
    request_snapshot(self);
  }
}

// ---- a standby that stays unsynchronised -------------------------------------------------------

/// A standby that has not taken a snapshot for `sync_watch` says so, with what it is waiting for,
/// and introduces itself to the active again: its peer handle is dropped, so the HA actors pass
/// the replicators' handles anew (attach) and the request goes out on the next tick. A standby
/// left without a snapshot turns the next failure of the active into lost calls and lines (a
/// soak at 300 calls/s once waited 122 s after a restart, with no error on either node).
void watch_sync(self_ptr self) {
  auto& st = self->state;
  if (st.current != role::standby || st.synced) {
    st.unsynced_since.reset();
    return;
  }
  auto now = self->clock().now();
  if (!st.unsynced_since) {
    st.unsynced_since = now;
    return;
  }
  auto waited = now - *st.unsynced_since;
  if (waited < st.env->sync_watch || now - st.last_sync_warning < st.env->sync_watch)
    return;
  st.last_sync_warning = now;
  logger()->warn(
    "event=standby_unsynced waited_s={:.0f} peer={} snapshot_in_flight={} epoch={} ha={}",
    std::chrono::duration<double>(waited).count(), static_cast<bool>(st.peer),
    st.snapshot_in_flight, st.epoch, static_cast<bool>(st.env->ha()));
  counter(self, "cms_replication_resync_attempts_total",
          "Times a standby waiting for a snapshot introduced itself to the active again")
    .inc();
  if (st.peer && !st.snapshot_in_flight) {
    self->demonitor(st.peer);
    st.peer = nullptr;
  }
  attach(self);
}

// ---- lag ---------------------------------------------------------------------------------------

void publish_lag(self_ptr self) {
  auto& st = self->state;
  std::uint64_t records = 0;
  double ms = 0;
  auto now = utc_ms();
  if (st.current == role::active && st.standby_synced) {
    records = st.env->image->seq - std::min(st.acked, st.env->image->seq);
    if (!st.unacked.empty())
      ms = static_cast<double>(std::max<std::int64_t>(0, now - st.unacked.front().second));
  } else if (st.current == role::standby && st.synced) {
    records = st.head - std::min(st.head, st.env->image->seq);
    if (records > 0)
      ms = static_cast<double>(std::max<std::int64_t>(0, now - st.head_at_ms));
  }
  if (st.env->metrics) {
    st.env->metrics
      ->get_gauge("cms_replication_lag_records", "Changes numbered but not yet acknowledged")
      .set(static_cast<std::int64_t>(records));
    st.env->metrics
      ->get_gauge("cms_replication_lag_ms", "Age of the oldest unacknowledged change (ms)")
      .set(static_cast<std::int64_t>(ms));
    st.env->metrics
      ->get_gauge("cms_replication_seq", "Last change numbered (active) or applied (standby)")
      .set(static_cast<std::int64_t>(st.env->image->seq));
    st.env->metrics
      ->get_gauge("cms_replication_standby_synced", "1 while a standby follows our stream")
      .set(st.current == role::active ? (st.standby_synced ? 1 : 0) : (st.synced ? 1 : 0));
  }
  const bool behind = st.current == role::standby && (!st.synced || records > 0);
  if (st.env->view)
    st.env->view->update([&](cluster_snapshot& c) {
      c.replication_lag_records = records;
      c.replication_lag_ms = ms;
      c.replication_behind = behind;
    });
}

std::string status_json(self_ptr self) {
  auto& st = self->state;
  boost::json::object o{
    {"role", to_string(st.current)},      {"epoch", st.epoch},
    {"seq", st.env->image->seq},          {"entries", st.env->image->entries.size()},
    {"peer", static_cast<bool>(st.peer)}, {"refused", st.refused}};
  if (st.current == role::active)
    o["standby_synced"] = st.standby_synced, o["acked"] = st.acked, o["stream"] = st.stream;
  else
    o["synced"] = st.synced, o["head"] = st.head, o["stream"] = st.following;
  return boost::json::serialize(o);
}

/// The image the store holds from an earlier life as standby: lines keep their registrations if
/// this node comes up alone and becomes active.
void load_stored_image(self_ptr self) {
  auto& img = *self->state.env->image;
  if (img.seq != 0 || !img.entries.empty())
    return;
  auto* db = store(self);
  if (!db)
    return;
  try {
    persistence::ha_store states{*db};
    for (auto* kind : {"endpoint", "call"})
      for (auto& s : states.load_states(kind)) {
        repl_record r;
        r.kind = s.kind;
        r.key = s.key;
        r.state.assign(s.data.begin(), s.data.end());
        r.seq = s.seq;
        img.entries[image_key(r)] = std::move(r);
      }
  } catch (const std::exception& e) {
    logger()->warn("event=stored_image_unreadable error=\"{}\"", e.what());
  }
}

} // namespace

caf::behavior replicator(self_ptr self, std::shared_ptr<replicator_environment> env) {
  auto& st = self->state;
  st.env = std::move(env);
  // Closed until this node becomes active: attach() hands it to every (new) MGCP edge.
  st.fence_closed = true;
  load_stored_image(self);
  attach(self);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.peer && msg.source == st.peer.address()) {
      logger()->warn("event=peer_replicator_down reason=\"{}\"", self->system().render(msg.reason));
      st.peer = nullptr;
      // A returning peer must resynchronise (it streams only to a standby that asked for a
      // snapshot), but the active's death does not make our image stale: a promotion now is
      // judged by what was announced and not applied (record_promotion_gap).
      st.current_at_peer_loss = st.synced;
      st.synced = false;
      st.snapshot_in_flight = false;
      standby_lost(self);
    }
  });
  self->delayed_send(self, st.env->tick, atom::tick_v);
  return {
    [self](atom::tick) {
      attach(self);
      watch_sync(self);
      request_snapshot(self);
      publish_lag(self);
      self->delayed_send(self, self->state.env->tick, atom::tick_v);
    },
    [self](atom::role_changed, role r, std::uint64_t epoch) { on_role(self, r, epoch); },
    [self](atom::repl_peer, const caf::actor& peer) {
      auto& st = self->state;
      const bool known = peer && peer == st.peer;
      const bool from_the_peer_itself =
        self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(peer);
      set_peer(self, peer);
      // Passed on by the HA actors, the peer is still looking for us: it never got our handle, or
      // dropped it (watch_sync). Answer even when we know its handle already, or it waits for
      // ever. Straight from the peer replicator, it knows us: no answer, so this cannot ping-pong.
      if (known && !from_the_peer_itself)
        self->send(peer, atom::repl_peer_v, caf::actor_cast<caf::actor>(self));
      request_snapshot(self);
    },
    [self](actors::state_change& ch) {
      // The catalogue also echoes what we applied ourselves as standby: only the active numbers.
      if (self->state.current != role::active)
        return;
      repl_record r;
      r.kind = std::move(ch.kind);
      r.key = std::move(ch.key);
      r.state = std::move(ch.state);
      r.removed = ch.removed;
      number(self, std::move(r));
    },
    [self](atom::repl_billing, std::vector<billing::billing_record>& records) {
      auto& st = self->state;
      if (records.empty())
        return;
      auto last = records.back().sequence;
      if (st.current != role::active) {
        release_billing(self, last, false);
        return;
      }
      for (auto& b : records) {
        repl_record r;
        r.kind = "billing";
        r.key = b.record_id;
        r.billing = std::move(b);
        number(self, std::move(r));
      }
      if (st.standby_synced && st.peer)
        st.billing_unacked.emplace_back(st.env->image->seq, last);
      else
        release_billing(self, last, false);
    },
    [self](atom::sent_position, std::uint64_t position) {
      if (self->state.current != role::active)
        return;
      repl_record r;
      r.kind = "rks_position";
      r.value = position;
      number(self, std::move(r));
    },
    [self](flush_atom) { flush(self); },
    [self](repl_snapshot_request& req) -> caf::result<repl_snapshot> {
      return serve_snapshot(self, req);
    },
    [self](repl_batch& b) { on_batch(self, b); },
    [self](atom::repl_ack, std::uint64_t epoch, std::uint64_t stream, std::uint64_t seq) {
      on_ack(self, epoch, stream, seq);
    },
    [self](atom::repl_refuse, std::uint64_t epoch) {
      learn_epoch(self, epoch, "refused by the peer");
    },
    [self](atom::status) { return status_json(self); },
  };
}

} // namespace cms::ha
