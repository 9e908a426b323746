// After a failover the new active resumes from the replicated RKS position.
// On CAF's deterministic scheduler: the real billing forwarder of each node (fake RKS sender),
// the real replicators of the pair (two SQLite stores on disk), wired as the node wires them
// (billing::position_to_replicator). The active's forwarder gets acks for part of its outbox, the
// positions travel to the standby through the replication stream, the active is killed and the
// standby's forwarder, now active, starts right after the acknowledged records.

#include "actors/billing/billing_forwarder.hpp"
#include "actors/calls/call_context.hpp"
#include "actors/ha/replicator.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"

#include "caf_test_fixture.hpp"
#include "support/process.hpp"
#include "unit/links/fakes.hpp"

#include <boost/json.hpp>

using namespace cms;
using namespace std::chrono_literals;

namespace {

std::vector<billing::billing_record> calls(int n) {
  std::vector<billing::billing_record> out;
  for (int i = 1; i <= n; ++i) {
    billing::billing_record r;
    r.call_id = "c" + std::to_string(i) + "@cms-a";
    r.event = "signaling_stop";
    r.record_id = r.call_id + ":" + r.event;
    r.calling_number = "5551001";
    r.called_number = "5551002";
    r.timestamp_ms = 1700000000000 + i;
    r.release_cause = 16;
    out.push_back(r);
  }
  return out;
}

/// One node of the pair: its store, replicator and billing forwarder.
struct test_node {
  std::filesystem::path db_file;
  metrics::registry registry;
  std::shared_ptr<actors::call_context> calls =
    std::make_shared<actors::call_context>(actors::call_settings{}, registry, actors::dial_plan{});
  std::shared_ptr<test::fake_sender> rks = std::make_shared<test::fake_sender>();
  caf::actor replicator;
  caf::actor forwarder;

  test_node(caf::actor_system& sys, std::filesystem::path file) : db_file(std::move(file)) {
    persistence::database::open(db_file); // schema
    auto env = std::make_shared<ha::replicator_environment>();
    env->db_file = db_file;
    env->calls = calls;
    env->ha = [] { return caf::actor{}; };
    env->image = std::make_shared<ha::replication_image>();
    env->metrics = &registry;
    replicator = sys.spawn(ha::replicator, env);
    billing::forwarder_settings fwd;
    fwd.db_file = db_file;
    fwd.rks_primary = billing::rks_endpoint{"127.0.0.1", 7001}; // no data link: primary path
    fwd.batch_size = 3;
    fwd.on_position = billing::position_to_replicator([r = replicator] { return r; });
    forwarder = sys.spawn(billing::billing_forwarder, fwd,
                          std::static_pointer_cast<billing::rks_sender>(rks), &registry);
  }

  std::uint64_t pending() {
    auto db = persistence::database::open(db_file);
    return persistence::outbox{db}.pending_count();
  }
};

class position_replication : public test::caf_fixture {
protected:
  test::temp_dir tmp;
  test_node a{sys, tmp.path() / "a.db"};
  test_node b{sys, tmp.path() / "b.db"};

  void role(test_node& n, ha::role r, std::uint64_t epoch) {
    caf::anon_send(n.replicator, atom::role_changed_v, r, epoch);
    caf::anon_send(n.forwarder, atom::role_changed_v, r, epoch);
    sched.run();
  }
  void ack(test_node& n, std::size_t batch) {
    n.rks->ack(batch);
    sched.run();
  }
  std::uint64_t position(test_node& n) {
    auto p = test::request_now<std::uint64_t>(sys, sched, n.forwarder,
                                              caf::make_message(atom::position_v));
    return p ? *p : ~std::uint64_t{0};
  }
  std::vector<std::uint64_t> sequences(const test::fake_sender::batch& batch) {
    std::vector<std::uint64_t> out;
    for (auto& r : batch.records)
      out.push_back(r.sequence);
    return out;
  }

  void SetUp() override {
    sched.run();
    // A holds ten records; the pair forms (B asks for a snapshot and receives them).
    auto db = persistence::database::open(a.db_file);
    persistence::outbox{db}.append(calls(10));
    role(b, ha::role::standby, 1);
    role(a, ha::role::active, 1);
    caf::anon_send(a.replicator, atom::repl_peer_v, b.replicator);
    sched.run();
    ASSERT_EQ(b.pending(), 10u) << "the standby holds the records, none sent";
  }

  void TearDown() override {
    for (auto* n : {&a, &b})
      for (auto& h : {n->forwarder, n->replicator})
        caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

TEST_F(position_replication, the_new_active_resumes_after_the_position_the_rks_acknowledged) {
  // A forwards oldest first, three at a time; the RKS acknowledges 1..3 and 4..6, then stalls
  // on 7..9 (slow or unreachable): those stay in A's outbox.
  ASSERT_EQ(a.rks->batches.size(), 1u);
  ack(a, 0);
  ASSERT_EQ(a.rks->batches.size(), 2u);
  ack(a, 1);
  ASSERT_EQ(a.rks->batches.size(), 3u);
  EXPECT_EQ(sequences(a.rks->batches[2]), (std::vector<std::uint64_t>{7, 8, 9}));
  EXPECT_EQ(position(a), 6u);
  // The standby forwards nothing, but its store now knows that 1..6 reached the RKS.
  EXPECT_TRUE(b.rks->batches.empty());
  EXPECT_EQ(b.pending(), 4u);

  // kill -9 of the active: its batch 7..9 never gets an outcome. B takes over.
  for (auto& h : {a.forwarder, a.replicator})
    caf::anon_send_exit(h, caf::exit_reason::kill);
  sched.run();
  role(b, ha::role::active, 2);
  EXPECT_EQ(position(b), 6u) << "resumed from the replicated position";
  ASSERT_EQ(b.rks->batches.size(), 1u);
  EXPECT_EQ(sequences(b.rks->batches[0]), (std::vector<std::uint64_t>{7, 8, 9}))
    << "the records the RKS acknowledged are not sent again";
  ack(b, 0);
  ASSERT_EQ(b.rks->batches.size(), 2u);
  EXPECT_EQ(sequences(b.rks->batches[1]), (std::vector<std::uint64_t>{10}));
  ack(b, 1);
  EXPECT_EQ(b.pending(), 0u);
  EXPECT_EQ(position(b), 10u);
}

} // namespace
