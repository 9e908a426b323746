// The replicator (actors/ha/replicator.hpp) on CAF's deterministic test scheduler, each side
// against a scripted peer: the standby applies the stream in order, acknowledges it, ignores
// duplicates, resynchronises on a gap or another stream, takes a snapshot when it (re)joins; the
// active serves the snapshot, then streams every change in order and measures its lag until the
// standby acknowledges; a higher epoch is reported to the HA actor (epoch_seen), a lower one is
// refused. Stores are real SQLite files in a temporary directory.

#include "actors/calls/call_context.hpp"
#include "actors/ha/replicator.hpp"
#include "actors/ha/state_change.hpp"
#include "actors/type_ids.hpp"
#include "caf_test_fixture.hpp"
#include "persistence/database.hpp"
#include "persistence/ha_store.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace cms;
using namespace cms::ha;
using namespace std::chrono_literals;

namespace {

using join_atom = caf::atom_constant<caf::atom("t_join")>;
using relay_atom = caf::atom_constant<caf::atom("t_relay")>;

/// What the scripted peer (or the fake HA actor) saw, and what it answers.
struct script {
  repl_snapshot snapshot; ///< answer to a snapshot request
  int snapshot_requests = 0;
  repl_snapshot_request last_request;
  std::optional<repl_snapshot> joined; ///< the snapshot received after a join
  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>> acks;
  std::vector<repl_batch> batches;
  std::vector<std::uint64_t> refusals;
  std::vector<std::uint64_t> epochs_seen;
  int subscribed = 0;
  int attaches = 0;      ///< (repl_attach, replicator) received: as the HA actor
  int introductions = 0; ///< (repl_peer, replicator) received: as the peer replicator
};

/// Plays the peer replicator (either role) and the HA actor, recording everything.
caf::behavior scripted_peer(caf::event_based_actor* self, std::shared_ptr<script> s) {
  return {
    [s](atom::repl_ack, std::uint64_t epoch, std::uint64_t stream, std::uint64_t seq) {
      s->acks.emplace_back(epoch, stream, seq);
    },
    [s](repl_batch& b) { s->batches.push_back(std::move(b)); },
    [s](atom::repl_refuse, std::uint64_t epoch) { s->refusals.push_back(epoch); },
    [s](repl_snapshot_request& req) -> repl_snapshot {
      ++s->snapshot_requests;
      s->last_request = req;
      return s->snapshot;
    },
    [s](atom::epoch_seen, std::uint64_t epoch, const std::string&) {
      s->epochs_seen.push_back(epoch);
    },
    [s](atom::subscribe, const caf::actor&) { ++s->subscribed; },
    [s](atom::repl_attach, const caf::actor&) { ++s->attaches; },
    [s](atom::repl_peer, const caf::actor&) { ++s->introductions; },
    // Test controls: join an active as a standby; send a message as this actor (a known sender).
    [self, s](join_atom, const caf::actor& active, std::uint64_t epoch) {
      self->request(active, caf::infinite, repl_snapshot_request{epoch, 0, {}})
        .then([s](repl_snapshot& snap) { s->joined = std::move(snap); }, [](caf::error&) {});
    },
    [self](relay_atom, const caf::actor& dest, caf::message& msg) {
      self->send(dest, std::move(msg));
    },
  };
}

repl_record line(std::uint64_t seq, const std::string& name, char tag) {
  repl_record r;
  r.seq = seq;
  r.at_ms = 1;
  r.kind = "endpoint";
  r.key = name;
  r.state = {tag, tag};
  return r;
}

repl_record billing_rec(std::uint64_t seq, std::uint64_t sequence, const std::string& call) {
  repl_record r;
  r.seq = seq;
  r.kind = "billing";
  r.key = call + ":signaling_stop";
  r.billing.record_id = r.key;
  r.billing.sequence = sequence;
  r.billing.event = "signaling_stop";
  r.billing.call_id = call;
  r.billing.timestamp_ms = 1795572450147;
  return r;
}

repl_batch batch(std::uint64_t epoch, std::uint64_t stream, std::vector<repl_record> records) {
  repl_batch b;
  b.epoch = epoch;
  b.stream = stream;
  b.head = records.empty() ? 0 : records.back().seq;
  b.records = std::move(records);
  return b;
}

class replicator_test : public test::caf_fixture {
protected:
  test::temp_dir dir;
  metrics::registry registry;
  std::shared_ptr<actors::call_context> calls =
    std::make_shared<actors::call_context>(actors::call_settings{}, registry, actors::dial_plan{});
  std::shared_ptr<script> ha_seen = std::make_shared<script>();
  caf::actor ha = sys.spawn(scripted_peer, ha_seen);
  std::shared_ptr<script> peer_seen = std::make_shared<script>();
  caf::actor peer = sys.spawn(scripted_peer, peer_seen);
  std::shared_ptr<replicator_environment> env = make_env();
  caf::actor rep = sys.spawn(replicator, env);

  std::shared_ptr<replicator_environment> make_env() {
    auto e = std::make_shared<replicator_environment>();
    e->db_file = dir.path() / "cms.db";
    e->calls = calls;
    e->ha = [h = ha] { return h; };
    e->image = std::make_shared<replication_image>();
    e->metrics = &registry;
    return e;
  }

  void TearDown() override {
    for (auto& a : {rep, peer, ha})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
    caf_fixture::TearDown();
  }

  void set_role(cms::ha::role r, std::uint64_t epoch) {
    caf::anon_send(rep, atom::role_changed_v, r, epoch);
    sched.run();
  }
  /// Sends `msg` to the replicator as the scripted peer (so replies reach the peer).
  template <class... Ts>
  void from_peer(Ts&&... xs) {
    caf::anon_send(peer, relay_atom::value, rep, caf::make_message(std::forward<Ts>(xs)...));
    sched.run();
  }
  boost::json::object status() {
    auto s = ask<std::string>(rep, atom::status_v);
    EXPECT_TRUE(s);
    return s ? boost::json::parse(*s).as_object() : boost::json::object{};
  }
  std::int64_t gauge(const std::string& name) { return registry.get_gauge(name, "").value(); }
  std::uint64_t count(const std::string& name) { return registry.get_counter(name, "").value(); }
  /// Advances the actor clock by one replicator tick (lag is published on ticks).
  void tick() {
    sched.advance_time(env->tick);
    sched.run();
  }
  std::vector<persistence::actor_state_record> stored_lines() {
    auto db = persistence::database::open(env->db_file);
    return persistence::ha_store{db}.load_states("endpoint");
  }
  std::uint64_t stored_billing(std::uint64_t sequence) {
    auto db = persistence::database::open(env->db_file);
    auto q =
      db.prepare("SELECT count(*) FROM billing_outbox WHERE sequence = ?1 AND replicated = 1");
    q.bind(1, static_cast<std::int64_t>(sequence));
    return q.step() ? static_cast<std::uint64_t>(q.column_int64(0)) : 0;
  }

  /// The standby joins the scripted active: snapshot at seq 10 of stream 7, epoch 2.
  void join_as_standby() {
    peer_seen->snapshot.epoch = 2;
    peer_seen->snapshot.stream = 7;
    peer_seen->snapshot.seq = 10;
    peer_seen->snapshot.image = {line(9, "aaln/1@mta-1", 'a')};
    set_role(cms::ha::role::standby, 2);
    caf::anon_send(rep, atom::repl_peer_v, peer);
    sched.run();
  }
};

// -- standby side ---------------------------------------------------------------------------------

TEST_F(replicator_test, standby_takes_a_snapshot_when_it_joins_then_applies_the_stream_in_order) {
  sched.run();
  EXPECT_GE(ha_seen->subscribed, 1) << "the replicator follows the HA actor's role";
  join_as_standby();
  ASSERT_EQ(peer_seen->snapshot_requests, 1);
  EXPECT_EQ(peer_seen->last_request.epoch, 2u);
  ASSERT_EQ(peer_seen->acks.size(), 1u) << "the snapshot is acknowledged";
  EXPECT_EQ(peer_seen->acks.back(), std::make_tuple(2ull, 7ull, 10ull));
  EXPECT_EQ(env->image->seq, 10u);
  EXPECT_EQ(stored_lines().size(), 1u);

  from_peer(batch(
    2, 7,
    {line(11, "aaln/2@mta-1", 'b'), billing_rec(12, 41, "c1"), line(13, "aaln/1@mta-1", 'c')}));
  ASSERT_EQ(peer_seen->acks.size(), 2u);
  EXPECT_EQ(peer_seen->acks.back(), std::make_tuple(2ull, 7ull, 13ull));
  EXPECT_EQ(env->image->seq, 13u);
  EXPECT_EQ(env->image->applied.load(), 13u) << "the heartbeats carry the applied position";
  auto lines = stored_lines();
  ASSERT_EQ(lines.size(), 2u);
  for (auto& l : lines)
    if (l.key == "aaln/1@mta-1")
      EXPECT_EQ(l.seq, 13u) << "the later change of a line wins";
  EXPECT_EQ(stored_billing(41), 1u) << "billing is stored with the active's sequence";
  EXPECT_EQ(env->image->entries.at("endpoint/aaln/1@mta-1").state, (std::vector<char>{'c', 'c'}));
  auto st = status();
  EXPECT_EQ(st.at("synced").as_bool(), true);
  EXPECT_EQ(st.at("seq").to_number<std::int64_t>(), 13);
}

TEST_F(replicator_test, standby_ignores_duplicates_and_applies_only_what_is_new) {
  join_as_standby();
  from_peer(batch(2, 7, {line(11, "l1", 'a'), line(12, "l2", 'a')}));
  ASSERT_EQ(peer_seen->acks.size(), 2u);
  // The same batch again (a retransmission): nothing applied, nothing acknowledged.
  from_peer(batch(2, 7, {line(11, "l1", 'x'), line(12, "l2", 'x')}));
  EXPECT_EQ(peer_seen->acks.size(), 2u);
  EXPECT_EQ(env->image->entries.at("endpoint/l1").state, (std::vector<char>{'a', 'a'}));
  // Overlapping: 12 is old, 13 is new.
  from_peer(batch(2, 7, {line(12, "l2", 'y'), line(13, "l3", 'b')}));
  ASSERT_EQ(peer_seen->acks.size(), 3u);
  EXPECT_EQ(peer_seen->acks.back(), std::make_tuple(2ull, 7ull, 13ull));
  EXPECT_EQ(env->image->entries.at("endpoint/l2").state, (std::vector<char>{'a', 'a'}));
  EXPECT_EQ(count("cms_replication_applied_total"), 3u);
  EXPECT_EQ(count("cms_replication_gaps_total"), 0u);
}

TEST_F(replicator_test, an_rks_position_marks_the_records_of_its_own_batch_sent) {
  join_as_standby();
  // The RKS acknowledged records 41..42 right after they were committed: records and position
  // leave the active in one batch, the position last.
  repl_record position;
  position.seq = 13;
  position.kind = "rks_position";
  position.value = 42;
  from_peer(batch(2, 7, {billing_rec(11, 41, "c1"), billing_rec(12, 42, "c2"), position}));
  ASSERT_EQ(env->image->seq, 13u);
  auto db = persistence::database::open(env->db_file);
  auto q = db.prepare("SELECT count(*) FROM billing_outbox WHERE sent = 0");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_int64(0), 0) << "the standby, once active, would send them to the RKS again";
}

TEST_F(replicator_test, standby_resynchronises_on_a_gap_with_a_new_snapshot) {
  join_as_standby();
  from_peer(batch(2, 7, {line(11, "l1", 'a')}));
  ASSERT_EQ(env->image->seq, 11u);
  // 12 and 13 were lost: the standby applies nothing of this batch and asks for a snapshot.
  peer_seen->snapshot.seq = 20;
  peer_seen->snapshot.image = {line(18, "l1", 'z'), line(20, "l4", 'z')};
  from_peer(batch(2, 7, {line(14, "l9", 'q')}));
  EXPECT_EQ(count("cms_replication_gaps_total"), 1u);
  EXPECT_EQ(peer_seen->snapshot_requests, 2);
  EXPECT_EQ(env->image->seq, 20u);
  EXPECT_EQ(env->image->entries.count("endpoint/l9"), 0u) << "nothing after a gap is applied";
  EXPECT_EQ(env->image->entries.count("endpoint/aaln/1@mta-1"), 0u)
    << "the snapshot replaces the image";
  EXPECT_EQ(peer_seen->acks.back(), std::make_tuple(2ull, 7ull, 20ull));
  // The stream continues after the snapshot.
  from_peer(batch(2, 7, {line(21, "l5", 'c')}));
  EXPECT_EQ(peer_seen->acks.back(), std::make_tuple(2ull, 7ull, 21ull));
}

TEST_F(replicator_test, standby_that_sees_another_stream_takes_a_new_snapshot) {
  join_as_standby();
  peer_seen->snapshot.stream = 8; // the active restarted its replicator
  peer_seen->snapshot.seq = 3;
  peer_seen->snapshot.image = {};
  from_peer(batch(2, 8, {line(1, "l1", 'a')}));
  EXPECT_EQ(peer_seen->snapshot_requests, 2);
  EXPECT_EQ(env->image->seq, 3u);
  EXPECT_TRUE(env->image->entries.empty());
  EXPECT_EQ(peer_seen->acks.back(), std::make_tuple(2ull, 8ull, 3ull));
}

TEST_F(replicator_test, higher_epoch_is_reported_to_the_ha_actor_and_a_lower_one_is_refused) {
  join_as_standby();
  // The active is in a newer epoch than we knew: we follow and tell the HA actor.
  from_peer(batch(3, 7, {line(11, "l1", 'a')}));
  ASSERT_EQ(ha_seen->epochs_seen.size(), 1u);
  EXPECT_EQ(ha_seen->epochs_seen[0], 3u);
  EXPECT_EQ(peer_seen->acks.back(), std::make_tuple(3ull, 7ull, 11ull));
  // A stale active (epoch 2) is refused: nothing applied, it is told our epoch.
  from_peer(batch(2, 7, {line(12, "l1", 'b')}));
  ASSERT_EQ(peer_seen->refusals.size(), 1u);
  EXPECT_EQ(peer_seen->refusals[0], 3u);
  EXPECT_EQ(env->image->seq, 11u);
  EXPECT_EQ(count("cms_replication_refused_total"), 1u);
  EXPECT_EQ(ha_seen->epochs_seen.size(), 1u);
  // A refusal from the peer with a higher epoch is reported too.
  from_peer(atom::repl_refuse_v, std::uint64_t{5});
  EXPECT_EQ(ha_seen->epochs_seen.back(), 5u);
}

TEST_F(replicator_test, a_standby_left_without_a_snapshot_warns_and_introduces_itself_again) {
  // The active refuses every snapshot: the standby stays unsynchronised with a peer it knows.
  peer_seen->snapshot.refused = true;
  peer_seen->snapshot.epoch = 2;
  set_role(cms::ha::role::standby, 2);
  caf::anon_send(rep, atom::repl_peer_v, peer);
  sched.run();
  ASSERT_GE(peer_seen->snapshot_requests, 1);
  EXPECT_EQ(count("cms_replication_resync_attempts_total"), 0u);
  auto attaches_before = ha_seen->attaches;
  for (auto waited = 0ms; waited < env->sync_watch + 2 * env->tick; waited += env->tick)
    tick();
  EXPECT_EQ(count("cms_replication_resync_attempts_total"), 1u);
  // It dropped the peer's handle and asks the HA actors to introduce it again, tick after tick.
  EXPECT_FALSE(status().at("peer").as_bool());
  tick();
  EXPECT_GT(ha_seen->attaches, attaches_before + 1);
}

// -- active side ----------------------------------------------------------------------------------

class active_replicator : public replicator_test {
protected:
  std::uint64_t stream = 0;

  void SetUp() override {
    set_role(cms::ha::role::active, 2);
    // Changes before any standby follows are numbered (and kept in the image), not streamed.
    change("l1", 'a');
    // The scripted standby joins.
    caf::anon_send(peer, join_atom::value, rep, std::uint64_t{2});
    sched.run();
    ASSERT_TRUE(peer_seen->joined);
    stream = peer_seen->joined->stream;
  }
  void change(const std::string& key, char tag) {
    caf::anon_send(rep, actors::state_change{"endpoint", key, {tag}, false});
    sched.run();
  }
};

TEST_F(active_replicator, serves_a_consistent_snapshot_then_streams_every_change_in_order) {
  auto& snap = *peer_seen->joined;
  EXPECT_FALSE(snap.refused);
  EXPECT_EQ(snap.epoch, 2u);
  EXPECT_EQ(snap.seq, 1u);
  ASSERT_EQ(snap.image.size(), 1u);
  EXPECT_EQ(snap.image[0].key, "l1");
  EXPECT_TRUE(peer_seen->batches.empty());

  change("l2", 'b');
  change("l1", 'c');
  change("l3", 'd');
  std::vector<std::uint64_t> seqs;
  for (auto& b : peer_seen->batches) {
    EXPECT_EQ(b.epoch, 2u);
    EXPECT_EQ(b.stream, stream);
    for (auto& r : b.records)
      seqs.push_back(r.seq);
  }
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{2, 3, 4}))
    << "continues at snapshot seq + 1, in order";
  EXPECT_EQ(env->image->entries.at("endpoint/l1").state, (std::vector<char>{'c'}));
}

TEST_F(active_replicator, a_known_standby_introduced_again_by_the_ha_actors_gets_our_handle_again) {
  // The standby lost our answer (or dropped our handle): the HA actors pass its handle on again.
  auto before = peer_seen->introductions;
  caf::anon_send(rep, atom::repl_peer_v, peer);
  sched.run();
  EXPECT_EQ(peer_seen->introductions, before + 1);
  // Straight from the standby itself it knows us already: no answer, no ping-pong.
  from_peer(atom::repl_peer_v, peer);
  EXPECT_EQ(peer_seen->introductions, before + 1);
}

TEST_F(active_replicator, lag_counts_unacknowledged_changes_until_the_standby_acks) {
  tick();
  EXPECT_EQ(gauge("cms_replication_standby_synced"), 1);
  EXPECT_EQ(gauge("cms_replication_lag_records"), 0) << "the snapshot's ack is implied";
  change("l2", 'b');
  change("l3", 'c');
  change("l4", 'd');
  tick();
  EXPECT_EQ(gauge("cms_replication_lag_records"), 3);
  EXPECT_EQ(gauge("cms_replication_seq"), 4);
  from_peer(atom::repl_ack_v, std::uint64_t{2}, stream, std::uint64_t{3});
  tick();
  EXPECT_EQ(gauge("cms_replication_lag_records"), 1);
  from_peer(atom::repl_ack_v, std::uint64_t{2}, stream, std::uint64_t{4});
  tick();
  EXPECT_EQ(gauge("cms_replication_lag_records"), 0);
  EXPECT_EQ(gauge("cms_replication_lag_ms"), 0);
  EXPECT_EQ(status().at("acked").to_number<std::int64_t>(), 4);
  // An ack of another stream (an older incarnation) changes nothing.
  change("l5", 'e');
  from_peer(atom::repl_ack_v, std::uint64_t{2}, stream + 1, std::uint64_t{5});
  tick();
  EXPECT_EQ(gauge("cms_replication_lag_records"), 1);
}

TEST_F(active_replicator, an_ack_with_a_higher_epoch_is_reported_and_a_stale_join_refused) {
  from_peer(atom::repl_ack_v, std::uint64_t{4}, stream, std::uint64_t{1});
  ASSERT_EQ(ha_seen->epochs_seen.size(), 1u);
  EXPECT_EQ(ha_seen->epochs_seen[0], 4u);
  // A standby still in epoch 3 is refused its snapshot, with our epoch.
  peer_seen->joined.reset();
  caf::anon_send(peer, join_atom::value, rep, std::uint64_t{3});
  sched.run();
  ASSERT_TRUE(peer_seen->joined);
  EXPECT_TRUE(peer_seen->joined->refused);
  EXPECT_EQ(peer_seen->joined->epoch, 4u);
}

} // namespace
