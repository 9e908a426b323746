// Off-net calls through trunk actors on the deterministic scheduler: partner segment, PSTN answer
// and release, no route (3), all circuits busy (34), carrier facility failure, a gateway that
// does not answer a seizure, segment switching with the primary data link, incoming PSTN calls,
// cold-spare promotion and revert, a trunk actor crash, and a flapping link.

#include "trunks_fixture.hpp"

#include "actors/trunks/trunk_leg.hpp"

using namespace cms;
using namespace std::chrono_literals;

namespace {

class trunk_calls : public test::trunks_fixture {
protected:
  const std::string p1_ch1 = "ds/ds1-1/1@gw-p1.example";
  const std::string p2_ch1 = "ds/ds1-1/1@gw-p2.example";
  const std::string l1_ch1 = "ds/ds1-1/1@gw-l1.example";

  /// A dials `number`; returns the call id.
  std::string offnet_call(const std::string& number) {
    auto id = dial_from_a(number);
    sched.run();
    return id;
  }

  /// Holds every channel of `facility` with a dummy leg.
  void occupy(const std::string& facility, int n) {
    auto trunk = trunks.context->trunk(facility);
    ASSERT_TRUE(trunk);
    // The unused int: CAF 0.17 dereferences a null argument tuple (UBSan) for argument-less spawns.
    auto dummy = sys.spawn(
      [](caf::event_based_actor*, int) -> caf::behavior { return {[](trunks::channel_lost&) {}}; },
      0);
    holders.push_back(dummy);
    for (int i = 0; i < n; ++i) {
      auto r =
        ask<trunks::hunt_result>(trunk, trunks::hunt_channel{"dummy" + std::to_string(i), dummy});
      ASSERT_TRUE(r && r->ok);
    }
  }

  void TearDown() override {
    for (auto& h : holders)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    holders.clear();
    trunks_fixture::TearDown();
  }

  std::vector<caf::actor> holders;
};

TEST_F(trunk_calls, offnet_call_goes_to_the_partner_segment_and_is_answered_by_the_pstn) {
  register_both();
  auto call_id = offnet_call("12125550100");
  auto crcx = to_gateway("gw-p1.example", mgcp::verb::crcx);
  ASSERT_EQ(crcx.size(), 1u);
  EXPECT_EQ(crcx[0].endpoint, p1_ch1);
  EXPECT_EQ(param(crcx[0], "C"), call_id);
  EXPECT_EQ(param(crcx[0], "S"), "X-TR/sup(12125550100,5551001)");
  EXPECT_EQ(param(crcx[0], "R"), "X-TR/alt(N), X-TR/ans(N), X-TR/rel(N)");
  EXPECT_TRUE(crcx[0].sdp.has_value());                       // the caller's SDP
  EXPECT_EQ(line(line_a).state, actors::line_state::ringing); // ringback
  EXPECT_EQ(channels("p1", "in_call"), 1);

  gw_ntfy(p1_ch1, "X-TR/alt");
  gw_ntfy(p1_ch1, "X-TR/ans");
  EXPECT_EQ(line(line_a).state, actors::line_state::in_call);

  gw_ntfy(p1_ch1, "X-TR/rel(16)");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 16);
  EXPECT_EQ(stop->route, "offnet:1:tg-p/p1");
  EXPECT_EQ(stop->terminating, p1_ch1);
  auto dlcx = to_gateway("gw-p1.example", mgcp::verb::dlcx);
  ASSERT_EQ(dlcx.size(), 1u);
  EXPECT_EQ(param(dlcx[0], "C"), call_id);
  // The PSTN released first: no rel signal goes back.
  EXPECT_EQ(dlcx[0].param("S"), nullptr);
  EXPECT_EQ(channels("p1", "idle"), 2);
  EXPECT_EQ(gauge("cms_calls_active"), 0);
}

TEST_F(trunk_calls, caller_hangs_up_and_the_pstn_side_is_released_with_the_cause) {
  register_both();
  auto call_id = offnet_call("12125550100");
  gw_ntfy(p1_ch1, "X-TR/ans");
  ntfy(line_a, mta_a, "L/hu");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 16);
  auto dlcx = to_gateway("gw-p1.example", mgcp::verb::dlcx);
  ASSERT_EQ(dlcx.size(), 1u);
  auto rel = to_gateway("gw-p1.example", mgcp::verb::rqnt);
  ASSERT_FALSE(rel.empty());
  EXPECT_EQ(param(rel.back(), "S"), "X-TR/rel(16)");
  EXPECT_EQ(channels("p1", "idle"), 2);
}

TEST_F(trunk_calls, pstn_busy_before_answer_gives_busy_tone_and_cause_17) {
  register_both();
  auto call_id = offnet_call("12125550100");
  gw_ntfy(p1_ch1, "X-TR/rel(17)");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 17);
  auto rq = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(rq);
  EXPECT_EQ(param(*rq, "S"), "L/bz");
}

TEST_F(trunk_calls, number_without_route_gets_reorder_and_cause_3) {
  register_both();
  auto call_id = offnet_call("6661234");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 3);
  EXPECT_TRUE(wire.sent.end() == std::find_if(wire.sent.begin(), wire.sent.end(), [](auto& c) {
                return c.kind == mgcp::verb::crcx && c.endpoint.rfind("ds/", 0) == 0;
              }));
  auto rq = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(rq);
  EXPECT_EQ(param(*rq, "S"), "L/ro");
}

TEST_F(trunk_calls, all_circuits_busy_gets_fast_busy_and_cause_34) {
  register_both();
  occupy("p1", 2);
  occupy("p2", 2);
  occupy("l1", 2);
  auto call_id = offnet_call("12125550100");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 34);
  auto rq = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(rq);
  EXPECT_EQ(param(*rq, "S"), "L/ro");
  EXPECT_EQ(registry.value("cms_trunk_seizures_total", {{"result", "no_circuit"}}), 1);
}

TEST_F(trunk_calls, channel_hunting_fills_a_facility_then_takes_its_other_carrier_backup) {
  register_both();
  occupy("p1", 2); // northtel full: bluewave (p1's backup) is next
  auto call_id = offnet_call("12125550100");
  auto crcx = to_gateway("gw-p2.example", mgcp::verb::crcx);
  ASSERT_EQ(crcx.size(), 1u);
  EXPECT_EQ(crcx[0].endpoint, p2_ch1);
  ntfy(line_a, mta_a, "L/hu");
  ASSERT_TRUE(stop_record(call_id));
}

TEST_F(trunk_calls, carrier_facility_failure_moves_calls_to_the_other_carrier) {
  register_both();
  gw_rsip("ds/ds1-1/*@gw-p1.example", "forced"); // northtel's span dropped
  EXPECT_EQ(channels("p1", "out_of_service"), 2);
  EXPECT_FALSE(facility_json("p1")["healthy"].as_bool());
  auto call_id = offnet_call("12125550100");
  EXPECT_TRUE(to_gateway("gw-p1.example", mgcp::verb::crcx).empty());
  ASSERT_EQ(to_gateway("gw-p2.example", mgcp::verb::crcx).size(), 1u);
  ntfy(line_a, mta_a, "L/hu");
  ASSERT_TRUE(stop_record(call_id));
  // The span comes back: hunted first again.
  gw_rsip("ds/ds1-1/*@gw-p1.example", "restart");
  EXPECT_EQ(channels("p1", "idle"), 2);
  offnet_call("12125550100");
  EXPECT_EQ(to_gateway("gw-p1.example", mgcp::verb::crcx).size(), 1u);
}

TEST_F(trunk_calls, seizure_the_gateway_does_not_answer_is_retried_on_an_alternate) {
  register_both();
  wire.swallow = [](const mgcp::command& c) {
    return c.kind == mgcp::verb::crcx && c.endpoint.find("@gw-p1.example") != std::string::npos;
  };
  auto call_id = dial_from_a("12125550100");
  sched.run();
  ASSERT_EQ(to_gateway("gw-p1.example", mgcp::verb::crcx).size(), 1u);
  EXPECT_TRUE(to_gateway("gw-p2.example", mgcp::verb::crcx).empty());
  sched.advance_time(3100ms); // the leg's MGCP request timeout
  sched.run();
  ASSERT_EQ(to_gateway("gw-p2.example", mgcp::verb::crcx).size(), 1u);
  EXPECT_EQ(line(line_a).state, actors::line_state::ringing);
  EXPECT_EQ(channels("p1", "idle"), 2);
  EXPECT_EQ(channels("p2", "in_call"), 1);
  gw_ntfy(p2_ch1, "X-TR/ans");
  EXPECT_EQ(line(line_a).state, actors::line_state::in_call);
  ntfy(line_a, mta_a, "L/hu");
  ASSERT_TRUE(stop_record(call_id));
}

TEST_F(trunk_calls, primary_link_down_sends_new_calls_to_the_local_segment) {
  register_both();
  primary_link(links::link_state::down);
  EXPECT_EQ(registry.value("cms_trunk_partner_preferred"), 0);
  auto first = offnet_call("12125550100");
  ASSERT_EQ(to_gateway("gw-l1.example", mgcp::verb::crcx).size(), 1u);
  EXPECT_TRUE(to_gateway("gw-p1.example", mgcp::verb::crcx).empty());
  gw_ntfy(l1_ch1, "X-TR/ans");
  // The link comes back: the established call stays, the next one goes to the partner.
  primary_link(links::link_state::up);
  EXPECT_EQ(line(line_a).state, actors::line_state::in_call);
  EXPECT_EQ(channels("l1", "in_call"), 1);
  ntfy(line_a, mta_a, "L/hu");
  ASSERT_TRUE(stop_record(first));
  offnet_call("12125550100");
  EXPECT_EQ(to_gateway("gw-p1.example", mgcp::verb::crcx).size(), 1u);
  EXPECT_EQ(registry.value("cms_trunk_segment_changes_total", {{"to", "local"}}), 1);
  EXPECT_EQ(registry.value("cms_trunk_segment_changes_total", {{"to", "partner"}}), 1);
}

TEST_F(trunk_calls, degraded_primary_link_still_prefers_the_partner) {
  register_both();
  primary_link(links::link_state::degraded);
  offnet_call("12125550100");
  EXPECT_EQ(to_gateway("gw-p1.example", mgcp::verb::crcx).size(), 1u);
}

TEST_F(trunk_calls, incoming_pstn_call_rings_the_line_and_connects_on_answer) {
  register_both();
  auto tid = gw_ntfy(l1_ch1, "X-TR/sup(5551002,2125550100)");
  bool answered = false;
  for (auto& [peer, rsp] : wire.answers)
    if (rsp.transaction_id == tid)
      answered = rsp.code == 200;
  EXPECT_TRUE(answered);
  EXPECT_EQ(line(line_b).state, actors::line_state::ringing);
  EXPECT_EQ(channels("l1", "in_call"), 1);
  auto crcx = to_gateway("gw-l1.example", mgcp::verb::crcx);
  ASSERT_EQ(crcx.size(), 1u);
  EXPECT_EQ(crcx[0].param("S"), nullptr); // no PSTN setup signal on an incoming leg
  auto rq = to_gateway("gw-l1.example", mgcp::verb::rqnt);
  ASSERT_FALSE(rq.empty());
  EXPECT_EQ(param(rq.back(), "S"), "X-TR/alt");
  ntfy(line_b, mta_b, "L/hd");
  EXPECT_EQ(line(line_b).state, actors::line_state::in_call);
  rq = to_gateway("gw-l1.example", mgcp::verb::rqnt);
  EXPECT_EQ(param(rq.back(), "S"), "X-TR/ans");
  auto call_id = line(line_b).call_id;
  ntfy(line_b, mta_b, "L/hu");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->calling_number, "2125550100");
  EXPECT_EQ(stop->called_number, "5551002");
  EXPECT_EQ(stop->release_cause, 16);
  rq = to_gateway("gw-l1.example", mgcp::verb::dlcx);
  ASSERT_EQ(rq.size(), 1u);
  EXPECT_EQ(channels("l1", "idle"), 2);
}

TEST_F(trunk_calls, incoming_call_to_a_busy_line_is_released_with_17) {
  register_both();
  ntfy(line_b, mta_b, "L/hd"); // B picks up: dial tone, busy for incoming calls
  gw_ntfy(l1_ch1, "X-TR/sup(5551002,2125550100)");
  auto rq = to_gateway("gw-l1.example", mgcp::verb::rqnt);
  ASSERT_FALSE(rq.empty());
  EXPECT_EQ(param(rq.back(), "S"), "X-TR/rel(17)");
  EXPECT_EQ(channels("l1", "idle"), 2);
}

TEST_F(trunk_calls, gateway_rsip_forced_promotes_the_cold_spare_and_reverts_when_idle) {
  register_both();
  gw_rsip("*@gw-l1.example", "forced");
  auto l1 = facility_json("l1");
  EXPECT_EQ(l1["gateway"].as_string(), "gw-l9.example");
  EXPECT_TRUE(l1["healthy"].as_bool());
  EXPECT_TRUE(gateway_json("gw-l9.example")["promoted"].as_bool());
  EXPECT_FALSE(gateway_json("gw-l1.example")["healthy"].as_bool());
  EXPECT_TRUE(ctx->directory.find("ds/ds1-1/1@gw-l9.example"));
  EXPECT_TRUE(ctx->directory.find(l1_ch1)); // the home's RSIP must still reach the facility
  // Local calls go through the spare now.
  auto call_id = offnet_call("7001234");
  auto crcx = to_gateway("gw-l9.example", mgcp::verb::crcx);
  ASSERT_EQ(crcx.size(), 1u);
  EXPECT_EQ(crcx[0].endpoint, "ds/ds1-1/1@gw-l9.example");
  gw_ntfy("ds/ds1-1/1@gw-l9.example", "X-TR/ans");
  // The home gateway is back: the facility waits for its call to end.
  gw_rsip("*@gw-l1.example", "restart");
  EXPECT_TRUE(facility_json("l1")["revert_pending"].as_bool());
  EXPECT_EQ(facility_json("l1")["gateway"].as_string(), "gw-l9.example");
  EXPECT_EQ(line(line_a).state, actors::line_state::in_call);
  ntfy(line_a, mta_a, "L/hu");
  ASSERT_TRUE(stop_record(call_id));
  EXPECT_EQ(facility_json("l1")["gateway"].as_string(), "gw-l1.example");
  EXPECT_FALSE(gateway_json("gw-l9.example")["promoted"].as_bool());
  EXPECT_TRUE(ctx->directory.find(l1_ch1));
  EXPECT_EQ(registry.value("cms_trunk_promotions_total", {{"facility", "l1"}}), 1);
  EXPECT_EQ(registry.value("cms_trunk_reverts_total", {{"facility", "l1"}}), 1);
}

TEST_F(trunk_calls, gateway_that_stops_answering_keepalives_is_failed_and_its_spare_promoted) {
  register_both();
  wire.swallow = [](const mgcp::command& c) {
    return c.kind == mgcp::verb::auep && c.endpoint == "*@gw-l1.example";
  };
  for (int i = 0; i < 4; ++i) {
    sched.advance_time(500ms);
    sched.run();
  }
  EXPECT_FALSE(gateway_json("gw-l1.example")["healthy"].as_bool());
  EXPECT_EQ(facility_json("l1")["gateway"].as_string(), "gw-l9.example");
  EXPECT_EQ(registry.value("cms_trunk_gateway_transitions_total",
                           {{"gateway", "gw-l1.example"}, {"to", "failed"}}),
            1);
  // Answers again: healthy, and the idle facility goes home at once.
  wire.swallow = nullptr;
  for (int i = 0; i < 2; ++i) {
    sched.advance_time(500ms);
    sched.run();
  }
  EXPECT_TRUE(gateway_json("gw-l1.example")["healthy"].as_bool());
  EXPECT_EQ(facility_json("l1")["gateway"].as_string(), "gw-l1.example");
}

TEST_F(trunk_calls, failed_partner_gateway_without_spare_sends_calls_to_the_other_carrier) {
  register_both();
  gw_rsip("*@gw-p1.example", "forced");
  EXPECT_EQ(channels("p1", "out_of_service"), 2);
  offnet_call("12125550100");
  EXPECT_TRUE(to_gateway("gw-p1.example", mgcp::verb::crcx).empty());
  EXPECT_EQ(to_gateway("gw-p2.example", mgcp::verb::crcx).size(), 1u);
}

TEST_F(trunk_calls, established_call_is_failed_when_its_gateway_fails_others_untouched) {
  register_both();
  auto call_a = offnet_call("12125550100"); // p1
  gw_ntfy(p1_ch1, "X-TR/ans");
  // B is in a PSTN call on the local segment.
  gw_ntfy(l1_ch1, "X-TR/sup(5551002,2125550100)");
  ntfy(line_b, mta_b, "L/hd");
  EXPECT_EQ(line(line_b).state, actors::line_state::in_call);
  gw_rsip("*@gw-p1.example", "forced");
  auto stop = stop_record(call_a);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 41);
  EXPECT_EQ(line(line_b).state, actors::line_state::in_call);
  EXPECT_EQ(channels("l1", "in_call"), 1);
}

TEST_F(trunk_calls, crashed_trunk_actor_restarts_with_its_channels_and_keeps_the_call) {
  register_both();
  auto call_id = offnet_call("12125550100");
  gw_ntfy(p1_ch1, "X-TR/ans");
  auto before = trunks.context->trunk("p1");
  caf::anon_send_exit(before, caf::exit_reason::kill);
  sched.run();
  auto after = trunks.context->trunk("p1");
  ASSERT_TRUE(after);
  EXPECT_NE(before, after);
  EXPECT_EQ(channels("p1", "in_call"), 1);
  EXPECT_EQ(line(line_a).state, actors::line_state::in_call);
  EXPECT_EQ(ctx->directory.find(p1_ch1), after);
  // The PSTN release reaches the leg through the new trunk actor.
  gw_ntfy(p1_ch1, "X-TR/rel(16)");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 16);
  EXPECT_EQ(channels("p1", "idle"), 2);
}

TEST_F(trunk_calls, flapping_primary_link_leaks_neither_calls_nor_channels) {
  register_both();
  for (int i = 0; i < 30; ++i) {
    primary_link(i % 2 == 0 ? links::link_state::down : links::link_state::up);
    auto id = offnet_call("12125550100");
    auto gw = i % 2 == 0 ? std::string{"gw-l1.example"} : std::string{"gw-p1.example"};
    auto crcx = to_gateway(gw, mgcp::verb::crcx);
    ASSERT_FALSE(crcx.empty()) << i;
    gw_ntfy(crcx.back().endpoint, "X-TR/ans");
    ntfy(line_a, mta_a, "L/hu");
    ASSERT_TRUE(stop_record(id)) << i;
  }
  EXPECT_EQ(gauge("cms_calls_active"), 0);
  for (auto f : {"p1", "p2", "l1"})
    EXPECT_EQ(channels(f, "idle"), 2) << f;
}

} // namespace
