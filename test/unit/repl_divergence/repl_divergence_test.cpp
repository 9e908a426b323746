// Two real replicators, each with its own billing outbox actor and SQLite store, on CAF's
// deterministic test scheduler: the pair's billing numbering diverges when both nodes were active
// in turn without replicating to each other (roles flipping under load), and the node that
// rejoins as standby must converge on the active's outbox through the snapshot path, its own
// records handed to the active (docs/ha.md "Joining"): no billing record lost, none stored twice,
// the standby synced again.
//
// The first test is the soak's path (unacknowledged records plus one written late, after the
// orphan list left): the stream collides with it; it converged before the divergence handling
// too and guards it. The second holds *acknowledged* rows that differ from the active's at the
// same sequences (the active's store was rebuilt): before the divergence handling the standby
// skipped past them silently and the two outboxes stayed different, records missing on each.

#include "actors/billing/billing_outbox.hpp"
#include "actors/calls/call_context.hpp"
#include "actors/ha/replicator.hpp"
#include "actors/type_ids.hpp"
#include "caf_test_fixture.hpp"
#include "persistence/database.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

using namespace cms;
using namespace cms::ha;
using namespace std::chrono_literals;

namespace {

/// Stands in for a node's HA actor: the replicator subscribes and attaches to it.
caf::behavior quiet_ha(caf::event_based_actor*, int) {
  return {
    [](atom::subscribe, const caf::actor&) {},
    [](atom::repl_attach, const caf::actor&) {},
    [](atom::repl_peer, const caf::actor&) {},
    [](atom::epoch_seen, std::uint64_t, const std::string&) {},
  };
}

/// One node of the pair: store, billing outbox and replicator, as cmsd wires them.
struct node {
  std::filesystem::path db_file;
  metrics::registry registry;
  std::shared_ptr<actors::call_context> calls;
  std::shared_ptr<replicator_environment> env;
  caf::actor ha, outbox, rep;

  node(caf::actor_system& sys, std::filesystem::path file, std::size_t billing_batch_max)
    : db_file(std::move(file)) {
    actors::call_settings settings;
    settings.billing_batch_max = billing_batch_max;
    calls = std::make_shared<actors::call_context>(settings, registry, actors::dial_plan{});
    ha = sys.spawn(quiet_ha, 0);
    outbox = sys.spawn(actors::billing_outbox, calls, actors::billing_writer_factory{[f = db_file] {
                         return actors::make_sqlite_billing_writer(f);
                       }});
    calls->set_outbox(outbox);
    env = std::make_shared<replicator_environment>();
    env->db_file = db_file;
    env->calls = calls;
    env->ha = [h = ha] { return h; };
    env->image = std::make_shared<replication_image>();
    env->metrics = &registry;
    rep = sys.spawn(replicator, env);
  }

  /// sequence -> record_id of everything in this node's outbox.
  std::map<std::uint64_t, std::string> billing() const {
    auto db = persistence::database::open(db_file);
    auto q = db.prepare("SELECT sequence, record_id FROM billing_outbox ORDER BY sequence");
    std::map<std::uint64_t, std::string> out;
    while (q.step())
      out[static_cast<std::uint64_t>(q.column_int64(0))] = q.column_text(1);
    return out;
  }
  std::uint64_t count(const std::string& name) { return registry.get_counter(name, "").value(); }
};

billing::billing_record record(const std::string& call) {
  billing::billing_record r;
  r.record_id = call + ":signaling_stop";
  r.event = "signaling_stop";
  r.call_id = call;
  r.timestamp_ms = 1795572450147;
  return r;
}

std::multiset<std::string> ids(const std::map<std::uint64_t, std::string>& rows) {
  std::multiset<std::string> out;
  for (auto& [seq, id] : rows)
    out.insert(id);
  return out;
}

class repl_divergence : public test::caf_fixture {
protected:
  test::temp_dir dir;
  // batch_max 1: every record is written (and handed to replication) as soon as it arrives.
  node a{sys, dir.path() / "a.db", 1};
  node b{sys, dir.path() / "b.db", 1};
  std::vector<std::unique_ptr<node>> rebuilt; ///< nodes that came back with an empty store

  void TearDown() override {
    std::vector<node*> all{&a, &b};
    for (auto& n : rebuilt)
      all.push_back(n.get());
    for (auto* n : all) {
      n->calls->clear();
      for (auto& h : {n->rep, n->outbox, n->ha})
        caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    }
    sched.run();
    caf_fixture::TearDown();
  }

  void set_role(node& n, cms::ha::role r, std::uint64_t epoch) {
    caf::anon_send(n.rep, atom::role_changed_v, r, epoch);
    sched.run();
  }
  void bill(node& n, const std::string& call) {
    caf::anon_send(n.outbox, record(call));
    sched.run();
  }
  /// The HA actors introduce the two replicators over the node link.
  void link_pair() { link(a, b); }
  void link(node& x, node& y) {
    caf::anon_send(x.rep, atom::repl_peer_v, y.rep);
    caf::anon_send(y.rep, atom::repl_peer_v, x.rep);
    sched.run();
  }
  /// A few replicator ticks: retries (snapshot requests) run on the tick.
  void ticks(int n) {
    for (int i = 0; i < n; ++i) {
      sched.advance_time(a.env->tick);
      sched.run();
    }
  }
  bool synced(node& n) {
    auto s = ask<std::string>(n.rep, atom::status_v);
    return s && boost::json::parse(*s).as_object().at("synced").as_bool();
  }
  /// Epoch 1: A active, B follows and acknowledges a1..a5 (both mark them replicated). B's node comes
  /// back with an empty store (disk replaced) and, A unreachable, is active at epoch 2 as C: it
  /// numbers its own records from 1, so A's "replicated" rows 1..5 differ from the active's at the
  /// same sequences although none of them is an orphan in the usual sense. A rejoins as standby of
  /// epoch 2 and follows C's stream. Returns C.
  node& rejoin_a_to_a_rebuilt_active() {
    set_role(a, cms::ha::role::active, 1);
    set_role(b, cms::ha::role::standby, 1);
    link_pair();
    for (auto* c : {"a1", "a2", "a3", "a4", "a5"})
      bill(a, c);
    ticks(2);
    EXPECT_EQ(b.billing(), a.billing());
    caf::anon_send_exit(b.rep, caf::exit_reason::user_shutdown);
    sched.run();
    rebuilt.push_back(std::make_unique<node>(sys, dir.path() / "b-rebuilt.db", 1));
    auto& c = *rebuilt.back();
    set_role(c, cms::ha::role::active, 2);
    bill(c, "c1");
    bill(c, "c2");
    set_role(a, cms::ha::role::standby, 2);
    link(a, c);
    for (auto* id : {"c3", "c4", "c5", "c6", "c7"}) {
      bill(c, id);
      ticks(1);
    }
    ticks(5);
    return c;
  }

  /// A converged on C: synced, same outbox, every record once.
  void expect_converged(node& c) {
    EXPECT_GE(a.count("cms_replication_divergence_total"), 1u)
      << "the conflict is seen as divergence";
    EXPECT_TRUE(synced(a)) << "not stuck: the standby follows the stream again";
    auto on_a = a.billing(), on_c = c.billing();
    EXPECT_EQ(on_a, on_c) << "the standby holds exactly the active's outbox, same sequences";
    auto all = ids(on_c);
    for (auto* id : {"a1", "a2", "a3", "a4", "a5", "c1", "c2", "c3", "c4", "c5", "c6", "c7"})
      EXPECT_EQ(all.count(std::string{id} + ":signaling_stop"), 1u)
        << id << ": every record once, none lost";
    EXPECT_EQ(all.size(), 12u);
  }
};

TEST_F(repl_divergence,
       standby_whose_unreplicated_records_collide_with_the_stream_converges_on_the_active) {
  // Epoch 1: A is active alone and bills three calls; no standby acknowledged them (orphans).
  set_role(a, cms::ha::role::active, 1);
  for (auto* c : {"a1", "a2", "a3"})
    bill(a, c);
  ASSERT_EQ(a.billing().size(), 3u);
  // Epoch 2: B, cut off from A meanwhile, is active and numbers its own records from 1 too.
  set_role(b, cms::ha::role::active, 2);
  bill(b, "b1");
  bill(b, "b2");
  EXPECT_EQ(b.billing().begin()->first, 1u) << "the numbering diverged: both hold sequence 1";

  // The link heals; A, demoted, rejoins as standby of epoch 2. Meanwhile a record A queued as the
  // active reaches its store only now (the billing window): it is not in the orphan list A sent.
  set_role(a, cms::ha::role::standby, 2);
  link_pair();
  bill(a, "a4");
  // B goes on billing; its stream carries sequences that A holds for its own record a4.
  for (auto* c : {"b3", "b4", "b5", "b6"})
    bill(b, c);
  ticks(5);
  for (auto* c : {"b7", "b8"})
    bill(b, c);
  ticks(5);

  EXPECT_GE(a.count("cms_replication_apply_errors_total"), 1u) << "the collision happened";
  EXPECT_TRUE(synced(a)) << "the standby follows the active's stream again";
  auto on_a = a.billing(), on_b = b.billing();
  EXPECT_EQ(on_a, on_b) << "the standby holds exactly the active's outbox, same sequences";
  auto all = ids(on_b);
  for (auto* c : {"a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"})
    EXPECT_EQ(all.count(std::string{c} + ":signaling_stop"), 1u)
      << c << ": every record once, none lost";
  EXPECT_EQ(all.size(), 12u);
}

TEST_F(repl_divergence,
       standby_holding_other_records_at_the_streams_sequences_resynchronises_its_whole_outbox) {
  expect_converged(rejoin_a_to_a_rebuilt_active());
}

// The same with more of A's rows than one request carries (the soak's 255,000-row outbox against a
// 100,000-record chunk): A hands them over in orphans_only rounds, then takes the snapshot. Before
// the rounds, the rows past the first chunk collided with the snapshot and A re-sent the same
// first chunk forever.
TEST_F(repl_divergence, an_outbox_larger_than_one_handover_goes_over_in_rounds_then_converges) {
  a.env->orphan_chunk = 2;
  expect_converged(rejoin_a_to_a_rebuilt_active());
  EXPECT_GE(a.count("cms_replication_orphan_rounds_total"), 2u) << "a1..a5 in chunks of 2";
}

} // namespace
