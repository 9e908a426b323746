// Trunking gateways over the real interfaces: cmsd, mtasim (an MTA and four trunking gateways speaking the
// X-TR package over UDP) and `link-peer` probe responders at the far ends of the data links, probed by
// the node's real data-link actors. See gateway_rig.hpp for the topology.

#include "integration/gateways/gateway_rig.hpp"

#include <thread>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

class gateways_test : public ::testing::Test {
protected:
  gateway_rig rig;
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(rig.start()); }
};

TEST_F(gateways_test, offnet_call_reaches_the_partner_gateway_and_is_cleared_end_to_end) {
  ASSERT_TRUE(rig.call(1, "12125550100"));
  // The PSTN party answered on the partner gateway, channel 1 of span 1 (the CA hunts from the
  // bottom), and media flows both ways between the line and the gateway.
  auto g = rig.gateway(gateway_rig::p1);
  ASSERT_EQ(g.at("calls").as_array().size(), 1u) << g;
  auto c = g.at("calls").as_array()[0].as_object();
  EXPECT_EQ(c.at("channel").as_string(), "ds/ds1-1/1@gw-p1.example");
  EXPECT_EQ(c.at("called").as_string(), "12125550100");
  EXPECT_EQ(c.at("calling").as_string(), "5551001");
  EXPECT_TRUE(c.at("answered").as_bool());
  EXPECT_EQ(rig.channels("p1", "in_call"), 1);
  ASSERT_TRUE(eventually([&] {
    auto l = rig.line(1);
    auto& conns = l.at("connections").as_array();
    return !conns.empty() &&
           conns[0].as_object().at("rtp").as_object().at("received").as_int64() > 5;
  }))
    << rig.line(1);
  EXPECT_EQ(rig.gateway_calls(gateway_rig::l1), 0u);
  ASSERT_TRUE(rig.hang_up(1));
  EXPECT_TRUE(rig.all_idle());
}

TEST_F(gateways_test, primary_link_cut_sends_the_next_call_to_the_local_segment_and_back) {
  rig.cut_primary();
  ASSERT_TRUE(eventually([&] { return rig.link_state("dl-primary") == "down"; }))
    << rig.link_state("dl-primary");
  ASSERT_TRUE(eventually([&] { return !rig.primary_up(); }));
  EXPECT_EQ(rig.field("/trunks", "preferred_segment"), "\"local\"");
  EXPECT_EQ(rig.link_state("dl-backup"), "up");
  ASSERT_TRUE(rig.call(1, "12125550100"));
  EXPECT_EQ(rig.answered_on(gateway_rig::l1), 1u) << rig.control("gateways");
  EXPECT_EQ(rig.gateway_calls(gateway_rig::p1), 0u);
  // The link comes back while the local call is up: the call is left alone, new calls prefer the
  // partner again.
  rig.restore_primary();
  ASSERT_TRUE(eventually([&] { return rig.primary_up(); }));
  ASSERT_TRUE(rig.call(2, "12125550100"));
  EXPECT_EQ(rig.answered_on(gateway_rig::p1), 1u) << rig.control("gateways");
  EXPECT_EQ(rig.answered_on(gateway_rig::l1), 1u) << "the local call was disturbed";
  EXPECT_TRUE(rig.line_talking(1));
  ASSERT_TRUE(rig.hang_up(1));
  ASSERT_TRUE(rig.hang_up(2));
  EXPECT_TRUE(rig.all_idle());
  EXPECT_GE(rig.metric("cms_data_link_transitions_total{link=\"dl-primary\",to=\"down\"}"), 1);
}

TEST_F(gateways_test, gateway_that_stops_answering_is_replaced_by_its_cold_spare) {
  // A call on another gateway (partner) stays up through the whole failure.
  ASSERT_TRUE(rig.call(1, "12125550100"));
  ASSERT_EQ(rig.answered_on(gateway_rig::p1), 1u);
  ASSERT_EQ(rig.control("gw-stop gw-l1.example"), "ok");
  ASSERT_TRUE(eventually([&] { return rig.carried_by("l1") == gateway_rig::l9; }, 10s))
    << boost::json::serialize(rig.get("/trunks"));
  // New local calls (7 digits: the default route, local segment) go through the spare.
  ASSERT_TRUE(rig.call(2, "4441234"));
  EXPECT_EQ(rig.answered_on(gateway_rig::l9), 1u) << rig.control("gateways");
  EXPECT_EQ(rig.gateway_calls(gateway_rig::l1), 0u);
  EXPECT_EQ(rig.answered_on(gateway_rig::p1), 1u)
    << "the call on the partner gateway was disturbed";
  EXPECT_TRUE(rig.line_talking(1));
  ASSERT_TRUE(rig.hang_up(2));
  // The home gateway reboots (RSIP restart): the idle facility goes home, the spare is cold again.
  ASSERT_EQ(rig.control("gw-start gw-l1.example"), "ok");
  ASSERT_TRUE(eventually([&] { return rig.carried_by("l1") == gateway_rig::l1; }, 10s));
  ASSERT_TRUE(rig.call(2, "4441234"));
  EXPECT_EQ(rig.answered_on(gateway_rig::l1), 1u) << rig.control("gateways");
  ASSERT_TRUE(rig.hang_up(2));
  ASSERT_TRUE(rig.hang_up(1));
  EXPECT_TRUE(rig.all_idle());
  EXPECT_EQ(rig.metric("cms_trunk_promotions_total"), 1);
}

TEST_F(gateways_test, rsip_forced_fails_the_gateway_and_restart_brings_it_back) {
  ASSERT_EQ(rig.control("gw-rsip gw-l1.example forced"), "ok");
  ASSERT_TRUE(eventually([&] { return rig.carried_by("l1") == gateway_rig::l9; }, 10s));
  // Keepalives are still answered, yet a forced gateway stays failed until RSIP restart.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(rig.carried_by("l1"), gateway_rig::l9);
  ASSERT_TRUE(rig.call(2, "4441234"));
  EXPECT_EQ(rig.answered_on(gateway_rig::l9), 1u);
  ASSERT_TRUE(rig.hang_up(2));
  ASSERT_EQ(rig.control("gw-rsip gw-l1.example restart"), "ok");
  ASSERT_TRUE(eventually([&] { return rig.carried_by("l1") == gateway_rig::l1; }, 10s));
  EXPECT_TRUE(rig.all_idle());
}

TEST_F(gateways_test, carrier_facility_failure_moves_calls_to_the_other_carriers_facility) {
  // NorthTel's span on gw-p1 drops (RSIP ds/ds1-1/* forced): its backup is BlueWave's p2.
  ASSERT_EQ(rig.control("gw-span gw-p1.example 1 down"), "ok");
  ASSERT_TRUE(eventually([&] { return rig.channels("p1", "out_of_service") == 4; }))
    << boost::json::serialize(rig.facility("p1"));
  ASSERT_TRUE(rig.call(1, "12125550100"));
  EXPECT_EQ(rig.answered_on(gateway_rig::p2), 1u) << rig.control("gateways");
  EXPECT_EQ(rig.gateway_calls(gateway_rig::p1), 0u);
  ASSERT_TRUE(rig.hang_up(1));
  ASSERT_EQ(rig.control("gw-span gw-p1.example 1 up"), "ok");
  ASSERT_TRUE(eventually([&] { return rig.channels("p1", "idle") == 4; }));
  ASSERT_TRUE(rig.call(1, "12125550100"));
  EXPECT_EQ(rig.answered_on(gateway_rig::p1), 1u) << rig.control("gateways");
  ASSERT_TRUE(rig.hang_up(1));
  EXPECT_TRUE(rig.all_idle());
}

TEST_F(gateways_test, incoming_pstn_call_rings_the_line_and_the_pstn_party_hangs_up) {
  auto r = rig.control("gw-call gw-l1.example 5551002 2125550100");
  ASSERT_EQ(r, "ok ds/ds1-1/4@gw-l1.example"); // the gateway hunts from the top
  // The line rings, answers after 100 ms; the call is up with media.
  ASSERT_TRUE(eventually([&] { return rig.line_talking(2); })) << rig.line(2);
  ASSERT_TRUE(
    eventually([&] { return rig.channels("l1", "in_call") + rig.channels("l1", "seized") == 1; }));
  ASSERT_EQ(rig.control("gw-release gw-l1.example ds/ds1-1/4 16"), "ok");
  // The line hears the far end leave and hangs up (answer mode), everything is released.
  EXPECT_TRUE(rig.all_idle());
}

TEST_F(gateways_test, busy_pstn_line_gives_the_caller_busy_tone_and_frees_the_channel) {
  ASSERT_EQ(rig.control("gw-answer gw-p1.example busy"), "ok");
  ASSERT_EQ(rig.control("offhook 1"), "ok");
  ASSERT_TRUE(eventually([&] { return rig.signal_on(1, "L/dl"); }));
  rig.control("dial 1 12125550100");
  ASSERT_TRUE(eventually([&] { return rig.signal_on(1, "L/bz"); })) << rig.line(1);
  ASSERT_TRUE(rig.hang_up(1));
  EXPECT_TRUE(rig.all_idle());
}

/// CI version of the flapping link: the primary link is cut and restored every second for 10 s
/// while mtasim places off-net calls; nothing may leak. The 60 s run is integration_gateways_long.
TEST(gateways_flapping, primary_link_flapping_every_second_for_10s_leaks_no_call_or_channel) {
  run_flapping(10s);
}

} // namespace
