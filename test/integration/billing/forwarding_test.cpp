// Billing records from a real SQLite outbox to the real RKS (FreeRADIUS, config/rks) as
// PacketCable Event Messages over RADIUS, through the node's transport (make_radius_sender),
// steered by data-link actors probing real UDP responders: every EM stored exactly once and in
// order at the RKS, across link failures, lost answers, corrupted requests, a forwarder killed
// mid-batch and an RKS that stops and comes back. Intervals are short (50 ms probes and polls,
// 500 ms RADIUS retry interval) to keep the tests quick.

#include "billing_rig.hpp"

using namespace cms;
using namespace std::chrono_literals;
using links::link_state;
using test::eventually;

namespace {

class forwarding_test : public ::testing::Test {
protected:
  test::billing_rig rig;

  void start(bool primary_direct = false) {
    rig.start_rks();
    ASSERT_FALSE(HasFatalFailure());
    rig.start_responder("primary");
    rig.start_responder("backup");
    rig.start_node(primary_direct);
    ASSERT_TRUE(eventually([&] { return rig.link_state("primary") == link_state::up; }, 5s));
    ASSERT_TRUE(eventually([&] { return rig.link_state("backup") == link_state::up; }, 5s));
    // The forwarder hears of the links after the boards do; the backup may come up first.
    ASSERT_TRUE(eventually([&] { return rig.metric("cms_billing_forwarder_path") == 1; }, 5s));
  }

  double records_via(const std::string& path) {
    return rig.metric("cms_billing_forwarder_records_total", {{"path", path}});
  }
  double failed_batches(const std::string& path = "primary") {
    return rig.metric("cms_billing_forwarder_batches_total",
                      {{"path", path}, {"result", "failed"}});
  }
  /// Accounting-Requests both relays passed on to the RKS.
  int requests_at_rks() { return rig.primary_relay().requests + rig.backup_relay().requests; }
};

TEST_F(forwarding_test, records_of_several_calls_arrive_exactly_once_in_order_over_the_primary) {
  // The primary RKS address is FreeRADIUS itself, no relay in between.
  ASSERT_NO_FATAL_FAILURE(start(true));
  rig.append_calls(1, 4);
  rig.append_calls(5, 3);
  ASSERT_TRUE(rig.all_delivered()) << rig.rks_count() << " EMs stored\n" << rig.rks_log();
  EXPECT_TRUE(rig.delivered_exactly_once_in_order());
  // An answered on-net call makes 8 EMs (docs/billing.md): Signaling_Start (orig) at the start;
  // Signaling_Start (term) and Call_Answer (orig, term) at the answer; Call_Disconnect (orig,
  // term) and Signaling_Stop (orig, term) at the release.
  EXPECT_EQ(rig.rks_count(), 7 * 8);
  EXPECT_EQ(rig.rks().count("em_type = 15"), 7 * 2); // Call_Answer, both halves
  EXPECT_EQ(rig.rks().count("bcid_element_id = '   RIG01'"), 7 * 8);
  EXPECT_EQ(records_via("primary"), 21);
  EXPECT_EQ(records_via("backup"), 0);
  // (The backup relay may still see EMs: the primary path's RADIUS client moves a request to the
  // secondary address on its own when the primary RKS is slow to answer; that is the client's
  // retry rule, not the forwarder's path.)
  EXPECT_TRUE(eventually([&] { return rig.metric("cms_billing_forwarder_position") == 21; }));
  EXPECT_GE(rig.radius_counter("cms_radius_acc_client_responses_total"), 7 * 8);
}

TEST_F(forwarding_test, records_go_to_the_secondary_rks_address_while_the_primary_link_is_down) {
  ASSERT_NO_FATAL_FAILURE(start());
  rig.append_calls(1, 2);
  ASSERT_TRUE(rig.all_delivered());
  const int over_primary = rig.primary_relay().requests;
  EXPECT_GE(over_primary, 2 * 8);
  EXPECT_EQ(records_via("primary"), 6);

  rig.link_fails("primary");
  ASSERT_TRUE(eventually([&] { return rig.link_state("primary") == link_state::down; }, 5s));
  EXPECT_TRUE(eventually([&] {
    return rig.metric("cms_data_link_up", {{"link", "p2p-partner"}}) == 0 &&
           rig.metric("cms_data_link_transitions_total",
                      {{"link", "p2p-partner"}, {"to", "down"}}) >= 1;
  }));
  ASSERT_TRUE(eventually([&] { return rig.metric("cms_billing_forwarder_path") == 2; }));
  rig.append_calls(3, 5);
  ASSERT_TRUE(rig.all_delivered()) << rig.rks_log();
  EXPECT_EQ(records_via("backup"), 15);
  EXPECT_GE(rig.backup_relay().requests, 5 * 8);
  EXPECT_EQ(rig.primary_relay().requests, over_primary) << "nothing tried the cut primary path";

  // The primary returns: new records prefer it again.
  rig.link_returns("primary");
  ASSERT_TRUE(eventually([&] { return rig.link_state("primary") == link_state::up; }, 5s));
  ASSERT_TRUE(eventually([&] { return rig.metric("cms_billing_forwarder_path") == 1; }));
  rig.append_calls(8, 1);
  ASSERT_TRUE(rig.all_delivered());
  EXPECT_EQ(records_via("primary"), 9);
  EXPECT_EQ(records_via("backup"), 15);
  EXPECT_TRUE(rig.delivered_exactly_once_in_order());
}

TEST_F(forwarding_test, with_both_links_down_records_wait_in_the_outbox_and_drain_in_order_after) {
  ASSERT_NO_FATAL_FAILURE(start());
  rig.append_calls(1, 1);
  ASSERT_TRUE(rig.all_delivered());
  rig.link_fails("primary");
  rig.link_fails("backup");
  ASSERT_TRUE(eventually(
    [&] {
      return rig.link_state("primary") == link_state::down &&
             rig.link_state("backup") == link_state::down;
    },
    5s));
  ASSERT_TRUE(eventually([&] { return rig.metric("cms_billing_forwarder_path") == 0; }));
  const int requests_before = requests_at_rks();
  // Calls go on while both links are down.
  for (int i = 0; i < 10; ++i)
    rig.append_calls(2 + i * 4, 4);
  EXPECT_TRUE(eventually([&] { return rig.metric("cms_billing_outbox_pending") == 120; }));
  EXPECT_EQ(rig.outbox_pending(), 120u);
  EXPECT_EQ(rig.rks_count(), 8);
  EXPECT_EQ(requests_at_rks(), requests_before) << "no path: nothing is sent";

  rig.link_returns("backup"); // the tunnel comes back first
  EXPECT_TRUE(eventually([&] { return records_via("backup") > 0; }, 10s));
  rig.link_returns("primary");
  ASSERT_TRUE(rig.all_delivered()) << rig.rks_log();
  EXPECT_TRUE(rig.delivered_exactly_once_in_order());
}

TEST_F(forwarding_test,
       the_rks_stops_records_wait_in_the_outbox_and_are_stored_once_after_it_returns) {
  ASSERT_NO_FATAL_FAILURE(start());
  rig.append_calls(1, 1);
  ASSERT_TRUE(rig.all_delivered());
  rig.stop_rks();
  rig.append_calls(2, 5);
  // Nobody answers on either address: batches fail, the RKS alarm is raised, the records stay.
  ASSERT_TRUE(eventually([&] { return failed_batches() >= 3; }, 20s));
  EXPECT_TRUE(eventually([&] { return rig.metric("cms_billing_rks_alarm") == 1; }));
  EXPECT_EQ(rig.outbox_pending(), 15u);
  EXPECT_GE(rig.radius_counter("cms_radius_acc_client_timeouts_total"), 1);

  rig.restart_rks(); // same port, same table
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(rig.all_delivered()) << rig.rks_log();
  EXPECT_TRUE(eventually([&] { return rig.metric("cms_billing_rks_alarm") == 0; }));
  EXPECT_TRUE(rig.delivered_exactly_once_in_order());
  EXPECT_EQ(rig.rks_count(), 6 * 8);
}

TEST_F(forwarding_test, a_lost_accounting_response_is_retransmitted_and_the_em_stored_once) {
  ASSERT_NO_FATAL_FAILURE(start());
  rig.primary_relay().drop_responses = 3;
  rig.append_calls(1, 7); // 21 records: batches of 10, 10, 1
  ASSERT_TRUE(rig.all_delivered()) << rig.rks_log();
  EXPECT_EQ(rig.primary_relay().lost_responses, 3);
  EXPECT_GE(rig.radius_counter("cms_radius_acc_client_retransmissions_total"), 3);
  EXPECT_GT(requests_at_rks(), 7 * 8) << "the RKS saw the retransmissions";
  EXPECT_TRUE(rig.delivered_exactly_once_in_order()) << rig.rks_log();
}

TEST_F(forwarding_test, a_batch_whose_answers_were_all_lost_is_resent_and_stored_once) {
  ASSERT_NO_FATAL_FAILURE(start());
  // The RKS stores every EM, but no answer reaches the node on either path.
  rig.primary_relay().hold_responses = true;
  rig.backup_relay().hold_responses = true;
  rig.append_calls(1, 7);
  ASSERT_TRUE(eventually([&] { return failed_batches() >= 2 && rig.rks_count() > 0; }, 20s));
  EXPECT_EQ(rig.outbox_pending(), 21u) << "nothing acknowledged, nothing leaves the outbox";
  rig.primary_relay().hold_responses = false;
  rig.backup_relay().hold_responses = false;
  ASSERT_TRUE(rig.all_delivered()) << rig.rks_log();
  EXPECT_GT(requests_at_rks(), static_cast<int>(rig.expected_ems().size()));
  EXPECT_TRUE(rig.delivered_exactly_once_in_order()) << rig.rks_log();
}

TEST_F(forwarding_test, a_request_corrupted_on_the_wire_is_dropped_by_the_rks_and_resent) {
  ASSERT_NO_FATAL_FAILURE(start());
  rig.primary_relay().corrupt_requests = 2;
  rig.append_calls(1, 7);
  ASSERT_TRUE(rig.all_delivered()) << rig.rks_log();
  EXPECT_EQ(rig.primary_relay().corrupted, 2);
  EXPECT_GE(rig.radius_counter("cms_radius_acc_client_retransmissions_total"), 2);
  // The corrupted copies carried another EM sequence number: had the RKS stored them, its table
  // would hold EMs no record makes.
  EXPECT_TRUE(rig.delivered_exactly_once_in_order()) << rig.rks_log();
}

TEST_F(forwarding_test, a_forwarder_killed_between_send_and_answer_is_deduplicated_at_the_rks) {
  ASSERT_NO_FATAL_FAILURE(start());
  rig.primary_relay().hold_responses = true;
  rig.backup_relay().hold_responses = true;
  rig.append_calls(1, 4); // 12 records: batches of 10 and 2
  // The first batch reached the RKS; its answers are held back. Kill the forwarder now and start
  // a new incarnation on the same store, as the supervisor (or a failover) would.
  ASSERT_TRUE(eventually([&] { return rig.rks_count() > 0; }));
  EXPECT_EQ(rig.outbox_pending(), 12u);
  const auto failed_before = failed_batches();
  rig.restart_forwarder();
  // The new incarnation sends the same records again (same EMs: same BCIDs and sequences); its
  // first batch fails like the old one's, then the answers get through.
  ASSERT_TRUE(eventually([&] { return failed_batches() > failed_before; }, 10s));
  rig.primary_relay().hold_responses = false;
  rig.backup_relay().hold_responses = false;
  ASSERT_TRUE(rig.all_delivered()) << rig.rks_log();
  EXPECT_GT(requests_at_rks(), static_cast<int>(rig.expected_ems().size()));
  EXPECT_TRUE(rig.delivered_exactly_once_in_order()) << rig.rks_log();
}

} // namespace
