// Billing records from a real SQLite outbox to the real `rks` over TLS, steered by data-link
// actors probing real UDP responders: exactly once, in order, across link failures, lost acks and
// corrupted batches. Intervals are short (50 ms probes, 50 ms polls) to keep the tests quick.

#include "billing_rig.hpp"

using namespace cms;
using namespace std::chrono_literals;
using links::link_state;
using test::eventually;

namespace {

class forwarding_test : public ::testing::Test {
protected:
  test::billing_rig rig;

  void start(bool primary_through_relay = false) {
    rig.start_rks();
    rig.start_responder("primary");
    rig.start_responder("backup");
    rig.start_node(primary_through_relay);
    ASSERT_TRUE(eventually([&] { return rig.link_state("primary") == link_state::up; }, 5s));
    ASSERT_TRUE(eventually([&] { return rig.link_state("backup") == link_state::up; }, 5s));
  }

  bool all_delivered(std::chrono::milliseconds limit = 20s) {
    return eventually([&] { return rig.rks_count() == static_cast<long long>(rig.appended()); },
                      limit);
  }

  double records_via(const std::string& path) {
    return rig.metric("cms_billing_forwarder_records_total", {{"path", path}});
  }
};

TEST_F(forwarding_test, records_of_several_calls_arrive_exactly_once_in_order_over_the_primary) {
  start();
  rig.append_calls(1, 4);
  rig.append_calls(5, 3);
  ASSERT_TRUE(all_delivered());
  EXPECT_TRUE(rig.delivered_exactly_once_in_order());
  EXPECT_EQ(records_via("primary"), 21);
  EXPECT_EQ(records_via("backup"), 0);
  EXPECT_EQ(rig.backup_relay().connections, 0);
  EXPECT_TRUE(eventually([&] { return rig.metric("cms_billing_forwarder_position") == 21; }));
}

TEST_F(forwarding_test, records_go_through_the_backup_tunnel_while_the_primary_link_is_down) {
  start();
  rig.append_calls(1, 2);
  ASSERT_TRUE(all_delivered());
  rig.stop_responder("primary");
  ASSERT_TRUE(eventually([&] { return rig.link_state("primary") == link_state::down; }, 5s));
  EXPECT_TRUE(eventually([&] {
    return rig.metric("cms_data_link_up", {{"link", "p2p-partner"}}) == 0 &&
           rig.metric("cms_data_link_transitions_total",
                      {{"link", "p2p-partner"}, {"to", "down"}}) >= 1;
  }));
  rig.append_calls(3, 5);
  ASSERT_TRUE(all_delivered());
  EXPECT_EQ(records_via("backup"), 15);
  EXPECT_GE(rig.backup_relay().connections, 1);

  // The primary returns: new records prefer it again.
  rig.start_responder("primary");
  ASSERT_TRUE(eventually([&] { return rig.link_state("primary") != link_state::down; }, 5s));
  rig.append_calls(8, 1);
  ASSERT_TRUE(all_delivered());
  EXPECT_EQ(records_via("primary"), 9);
  EXPECT_TRUE(rig.delivered_exactly_once_in_order());
}

TEST_F(forwarding_test, with_both_links_down_records_wait_in_the_outbox_and_drain_in_order_after) {
  start();
  rig.append_calls(1, 1);
  ASSERT_TRUE(all_delivered());
  rig.stop_responder("primary");
  rig.stop_responder("backup");
  ASSERT_TRUE(eventually(
    [&] {
      return rig.link_state("primary") == link_state::down &&
             rig.link_state("backup") == link_state::down;
    },
    5s));
  // Calls go on while both links are down.
  for (int i = 0; i < 10; ++i) {
    rig.append_calls(2 + i * 4, 4);
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(rig.rks_count(), 3);
  EXPECT_EQ(rig.outbox_pending(), 120u);
  EXPECT_TRUE(eventually([&] { return rig.metric("cms_billing_outbox_pending") == 120; }));

  rig.start_responder("backup"); // the tunnel comes back first
  rig.start_responder("primary");
  ASSERT_TRUE(all_delivered());
  EXPECT_TRUE(rig.delivered_exactly_once_in_order());
}

TEST_F(forwarding_test, a_batch_whose_ack_was_lost_is_resent_and_stored_once) {
  start(true); // the primary path goes through the fault-injecting relay
  rig.primary_relay().swallow_acks = 1;
  rig.append_calls(1, 7); // 21 records: batches of 10, 10, 1
  ASSERT_TRUE(all_delivered());
  // The RKS saw the first batch twice: once stored, once as duplicates.
  EXPECT_TRUE(eventually([&] {
    for (const auto& b : test::rks_batches(rig.rks_log()))
      if (b.duplicates == 10 && b.fresh == 0)
        return true;
    return false;
  }));
  EXPECT_GE(
    rig.metric("cms_billing_forwarder_batches_total", {{"path", "primary"}, {"result", "failed"}}),
    1);
  EXPECT_TRUE(rig.delivered_exactly_once_in_order()) << rig.rks_log();
}

TEST_F(forwarding_test, a_batch_corrupted_on_the_wire_is_rejected_and_resent) {
  start(true);
  rig.primary_relay().corrupt_batches = 1;
  rig.append_calls(1, 7);
  ASSERT_TRUE(all_delivered());
  EXPECT_GE(rig.primary_relay().batches, 2); // the corrupted one and its re-send
  EXPECT_EQ(rig.primary_relay().corrupt_batches, 0);
  EXPECT_GE(
    rig.metric("cms_billing_forwarder_batches_total", {{"path", "primary"}, {"result", "failed"}}),
    1);
  EXPECT_TRUE(rig.delivered_exactly_once_in_order()) << rig.rks_log();
}

TEST_F(forwarding_test, a_forwarder_killed_between_send_and_ack_is_deduplicated_at_the_rks) {
  start(true);
  rig.primary_relay().swallow_acks = 1;
  rig.append_calls(1, 4); // 12 records: batches of 10 and 2
  // The first batch reached the RKS; its ack is being held back. Kill the forwarder now and start
  // a new incarnation on the same store, as the supervisor (or a failover) would.
  ASSERT_TRUE(eventually([&] { return !test::rks_batches(rig.rks_log()).empty(); }));
  EXPECT_EQ(rig.outbox_pending(), 12u);
  rig.restart_forwarder();
  ASSERT_TRUE(all_delivered());
  EXPECT_TRUE(eventually([&] {
    for (const auto& b : test::rks_batches(rig.rks_log()))
      if (b.duplicates == 10)
        return true;
    return false;
  }));
  EXPECT_TRUE(rig.delivered_exactly_once_in_order()) << rig.rks_log();
}

} // namespace
