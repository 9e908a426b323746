// Emergency calls on the deterministic scheduler (docs/services.md, "Emergency calls"): the
// dial-tone window an attempt refused by the overload gate or a drain still gets, a 911 dialled
// there routed to the emergency trunk group with the caller's number, ordinary numbers in the
// window refused unbilled, network hold (the caller's hang-up rings the line again, only the far
// end releases), and the pure rules of actors/calls/services/emergency.hpp.

#include "trunks_fixture.hpp"

#include "actors/calls/services/emergency.hpp"
#include "runtime/base/admission.hpp"

using namespace cms;
using namespace std::chrono_literals;

namespace {

class emergency_calls : public test::trunks_fixture {
protected:
  const std::string l1_ch1 = "ds/ds1-1/1@gw-l1.example";

  /// The trunk fixture's network plus the emergency route: 911 to the local exchange only.
  persistence::provisioning provisioning() override {
    auto p = trunks_fixture::provisioning();
    p.routes.push_back({"911", "tg-l", 1});
    return p;
  }

  /// One attempt per 1,000 s: the first off-hook takes the only token, the rest are shed.
  actors::call_settings settings() override {
    auto s = trunks_fixture::settings();
    s.max_call_rate = 0.001;
    s.call_rate_burst = 1;
    s.emergency_codes = {"911", "933"};
    s.emergency_window = 8s;
    return s;
  }

  void spend_the_only_token() {
    ASSERT_EQ(ctx->admission.admit(), actors::call_admission::verdict::admitted);
  }

  boost::json::object call_json(const std::string& call_id) {
    auto listed = ask<std::string>(ctx->catalog(), actors::list_query{"calls", "", "", 0, 100});
    EXPECT_TRUE(listed);
    if (!listed)
      return {};
    auto all = boost::json::parse(*listed); // kept alive for the loop below
    for (auto& item : all.as_object()["items"].as_array())
      if (item.as_object().at("call_id").as_string() == call_id)
        return item.as_object();
    return {};
  }

  /// A is refused by the gate, hears the window's dial tone and dials `number`.
  std::string dial_in_the_window(const std::string& number) {
    ntfy(line_a, mta_a, "L/hd");
    auto call_id = line(line_a).call_id;
    EXPECT_FALSE(call_id.empty());
    auto dl = last(line_a, mgcp::verb::rqnt);
    EXPECT_TRUE(dl);
    if (dl) {
      EXPECT_EQ(param(*dl, "S"), "L/dl");
      EXPECT_EQ(param(*dl, "D"), "(911|933)"); // the emergency codes only
    }
    ntfy(line_a, mta_a, "D/" + number);
    return call_id;
  }

  /// The emergency call is answered by the PSAP on the local trunk.
  void psap_answers() {
    gw_ntfy(l1_ch1, "X-TR/ans");
    EXPECT_EQ(line(line_a).state, actors::line_state::in_call);
  }
};

TEST_F(emergency_calls, a_911_in_the_window_of_an_attempt_shed_by_overload_reaches_the_psap) {
  register_both();
  spend_the_only_token();
  auto call_id = dial_in_the_window("911");
  auto crcx = to_gateway("gw-l1.example", mgcp::verb::crcx);
  ASSERT_EQ(crcx.size(), 1u);
  EXPECT_EQ(param(crcx[0], "S"), "X-TR/sup(911,5551001)"); // the caller's number goes along
  EXPECT_TRUE(to_gateway("gw-p1.example", mgcp::verb::crcx).empty());
  psap_answers();
  EXPECT_EQ(registry.value("cms_emergency_calls_total"), 1);
  EXPECT_EQ(registry.value("cms_emergency_window_total", {{"reason", "overload"}}), 1);
  EXPECT_EQ(registry.value("cms_emergency_calls_past_gate_total", {{"reason", "overload"}}), 1);
  auto c = call_json(call_id);
  EXPECT_TRUE(c["emergency"].as_bool());
  EXPECT_TRUE(c["emergency_only"].as_bool());
  gw_ntfy(l1_ch1, "X-TR/rel(16)");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 16);
  EXPECT_EQ(stop->called_number, "911");
  EXPECT_EQ(stop->calling_number, "5551001");
  EXPECT_EQ(stop->route, "offnet:911:tg-l/l1");
  auto rows = billing_for(call_id);
  ASSERT_EQ(rows.size(), 3u); // start (from the off-hook), answer, stop
  EXPECT_EQ(rows[0].event, "signaling_start");
  EXPECT_EQ(rows[1].event, "call_answer");
}

TEST_F(emergency_calls, an_ordinary_number_in_the_window_is_refused_with_reorder_and_not_billed) {
  register_both();
  spend_the_only_token();
  auto call_id = dial_in_the_window("5551002");
  flush_billing();
  EXPECT_TRUE(billing_for(call_id).empty());
  EXPECT_TRUE(line(line_b).call_id.empty()); // never seized
  auto rq = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(rq);
  EXPECT_EQ(param(*rq, "S"), "L/ro");
  EXPECT_EQ(registry.value("cms_calls_shed_total", {{"reason", "overload"}}), 1);
  EXPECT_EQ(registry.value("cms_emergency_calls_total"), 0);
  EXPECT_EQ(registry.value("cms_call_failures_total", {{"cause", "42"}}), 0);
  EXPECT_EQ(gauge("cms_calls_active"), 0);
}

TEST_F(emergency_calls, the_window_closes_with_reorder_when_nothing_is_dialled) {
  register_both();
  spend_the_only_token();
  ntfy(line_a, mta_a, "L/hd");
  auto call_id = line(line_a).call_id;
  ASSERT_FALSE(call_id.empty());
  sched.advance_time(ctx->settings.emergency_window + 1s);
  sched.run();
  auto rq = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(rq);
  EXPECT_EQ(param(*rq, "S"), "L/ro");
  flush_billing();
  EXPECT_TRUE(billing_for(call_id).empty());
  EXPECT_EQ(gauge("cms_calls_active"), 0);
}

TEST_F(emergency_calls, a_911_during_a_drain_is_admitted_and_ordinary_attempts_are_refused) {
  register_both();
  cms::admission drain;
  drain.drain("maintenance");
  ctx->admission.attach_drain(&drain);
  // B's ordinary attempt in its window: refused.
  ntfy(line_b, mta_b, "L/hd");
  ntfy(line_b, mta_b, "D/5551001");
  EXPECT_TRUE(line(line_b).call_id.empty());
  auto call_id = dial_in_the_window("933"); // a configured code beside 911, no route of its own
  // 933 has no route of its own in this network: the default route decides (here none).
  flush_billing();
  EXPECT_EQ(registry.value("cms_emergency_calls_past_gate_total", {{"reason", "drain"}}), 1);
  EXPECT_EQ(registry.value("cms_emergency_window_total", {{"reason", "drain"}}), 2);
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop); // billed although it found no route
  EXPECT_EQ(stop->release_cause, 3);
  ntfy(line_a, mta_a, "L/hu");
  // A 911 now, still draining: reaches the PSAP.
  auto second = dial_in_the_window("911");
  ASSERT_EQ(to_gateway("gw-l1.example", mgcp::verb::crcx).size(), 1u);
  psap_answers();
  gw_ntfy(l1_ch1, "X-TR/rel(16)");
  ASSERT_TRUE(stop_record(second));
  ctx->admission.attach_drain(nullptr);
}

TEST_F(emergency_calls, the_callers_hang_up_holds_the_call_rings_the_line_and_pick_up_reconnects) {
  register_both();
  // Admitted normally (the token is there): a 911 is an emergency call all the same.
  auto call_id = dial_from_a("911");
  sched.run();
  EXPECT_EQ(registry.value("cms_emergency_calls_total"), 1);
  EXPECT_EQ(registry.value("cms_emergency_window_total", {{"reason", "overload"}}), 0);
  psap_answers();
  auto crcx_before = to_gateway("gw-l1.example", mgcp::verb::dlcx).size();
  ntfy(line_a, mta_a, "L/hu");
  // Network hold: no DLCX anywhere, the line rings again, the call stays connected.
  EXPECT_EQ(to_gateway("gw-l1.example", mgcp::verb::dlcx).size(), crcx_before);
  EXPECT_FALSE(last(line_a, mgcp::verb::dlcx).has_value());
  auto rg = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(rg);
  EXPECT_EQ(param(*rg, "S"), "L/rg");
  EXPECT_EQ(param(*rg, "R"), "L/hd(N)");
  EXPECT_EQ(line(line_a).state, actors::line_state::ringing);
  EXPECT_EQ(line(line_a).call_id, call_id);
  auto c = call_json(call_id);
  EXPECT_EQ(c["phase"].as_string(), "connected");
  EXPECT_TRUE(c["caller_on_hook"].as_bool());
  // The caller picks up: talking again on the same connection.
  ntfy(line_a, mta_a, "L/hd");
  auto talk = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(talk);
  EXPECT_EQ(param(*talk, "R"), "L/hu(N),L/hf(N)");
  EXPECT_EQ(line(line_a).state, actors::line_state::in_call);
  EXPECT_FALSE(call_json(call_id)["caller_on_hook"].as_bool());
  // Hangs up again, and this time the PSAP releases: the call ends, the line is idle.
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(line(line_a).state, actors::line_state::ringing);
  gw_ntfy(l1_ch1, "X-TR/rel(16)");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 16);
  EXPECT_EQ(line(line_a).state, actors::line_state::idle);
  EXPECT_TRUE(line(line_a).call_id.empty());
  EXPECT_EQ(gauge("cms_calls_active"), 0);
}

TEST_F(emergency_calls, a_caller_hanging_up_before_the_psap_answers_ends_the_call) {
  register_both();
  auto call_id = dial_from_a("911");
  sched.run();
  ntfy(line_a, mta_a, "L/hu");
  auto stop = stop_record(call_id);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->release_cause, 16);
}

TEST_F(emergency_calls, a_standby_gives_no_window) {
  register_both();
  ctx->admission.follow_ha_role(); // closed until a role says active
  ntfy(line_a, mta_a, "L/hd");
  EXPECT_TRUE(line(line_a).call_id.empty());
  auto rq = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(rq);
  EXPECT_EQ(param(*rq, "S"), "L/ro");
  EXPECT_EQ(registry.value("cms_emergency_window_total", {{"reason", "overload"}}), 0);
}

TEST(emergency_rules, codes_digit_maps_and_network_hold) {
  using namespace actors::services;
  std::vector<std::string> codes{"911", "933"};
  EXPECT_TRUE(is_emergency_number(codes, "911"));
  EXPECT_FALSE(is_emergency_number(codes, "9110"));
  EXPECT_FALSE(is_emergency_number(codes, ""));
  EXPECT_EQ(emergency_digit_map(codes), "(911|933)");
  EXPECT_EQ(emergency_digit_map({}), "");
  EXPECT_EQ(emergency_digit_map({"91a"}), "");
  // The default map already dials 911: unchanged; 933 is added.
  const std::string map = "(0T|00T|[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx|011x.T|911)";
  EXPECT_EQ(digit_map_with_codes(map, {"911"}), map);
  EXPECT_EQ(digit_map_with_codes(map, codes),
            "(0T|00T|[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx|011x.T|911|933)");
  EXPECT_EQ(digit_map_with_codes("xxxx", {"112"}), "(xxxx|112)");
  EXPECT_TRUE(valid_emergency_code("*911"));
  EXPECT_FALSE(valid_emergency_code("9-1-1"));
  EXPECT_EQ(on_caller_hook(true, true, false, false), hold_action::hold);
  EXPECT_EQ(on_caller_hook(true, true, true, false), hold_action::hold);
  EXPECT_EQ(on_caller_hook(true, true, true, true), hold_action::reconnect);
  EXPECT_EQ(on_caller_hook(true, true, false, true), hold_action::none);
  EXPECT_EQ(on_caller_hook(true, false, false, false), hold_action::none); // not answered
  EXPECT_EQ(on_caller_hook(false, true, false, false), hold_action::none); // ordinary call
}

} // namespace
