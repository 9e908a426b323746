// Endpoint actor: registration, event arming, spoof and stale-NTFY refusal, restart methods.

#include "calls_fixture.hpp"

using namespace cms;
using namespace cms::actors;
using cms::test::calls_fixture;

using endpoint_test = calls_fixture;

TEST_F(endpoint_test, starts_unregistered_and_suspended_lines_out_of_service) {
  EXPECT_EQ(line(line_a).state, line_state::unregistered);
  EXPECT_EQ(line("aaln/1@mta-c.example").state, line_state::out_of_service);
  EXPECT_EQ(gauge("cms_endpoints_registered"), 0);
  EXPECT_TRUE(wire.sent.empty());
}

TEST_F(endpoint_test, rsip_audits_and_arms_off_hook_with_notified_entity) {
  auto tid = rsip(line_a, mta_a);
  EXPECT_EQ(answer_to(tid), 200);
  auto auep = last(line_a, mgcp::verb::auep);
  ASSERT_TRUE(auep);
  auto rqnt = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(rqnt);
  EXPECT_EQ(param(*rqnt, "N"), "ca@cms-a.example:2727");
  EXPECT_EQ(param(*rqnt, "R"), "L/hd(N)");
  EXPECT_EQ(param(*rqnt, "Q"), "process,step");
  EXPECT_EQ(param(*rqnt, "S"), "<absent>");
  auto st = line(line_a);
  EXPECT_EQ(st.state, line_state::idle);
  EXPECT_EQ(st.peer, mta_a);
  EXPECT_EQ(st.request_id, param(*rqnt, "X"));
  EXPECT_EQ(st.restart_method, "restart");
  EXPECT_EQ(gauge("cms_endpoints_registered"), 1);
}

TEST_F(endpoint_test, line_already_off_hook_at_registration_waits_for_hang_up) {
  wire.script = [](const mgcp::command& c) -> std::optional<mgcp_reply> {
    if (c.kind == mgcp::verb::rqnt && *c.param("R") == "L/hd(N)") {
      mgcp_reply r;
      r.rsp.code = 401;
      return r;
    }
    return std::nullopt;
  };
  rsip(line_a, mta_a);
  EXPECT_EQ(line(line_a).state, line_state::off_hook);
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "R"), "L/hu(N)");
  wire.script = nullptr;
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "R"), "L/hd(N)");
}

TEST_F(endpoint_test, ntfy_from_another_port_is_refused_and_counted) {
  register_both();
  actors::mgcp_peer spoofer{"127.0.0.1", 9999};
  auto tid = ntfy(line_a, spoofer, "L/hd");
  EXPECT_EQ(answer_to(tid), 500);
  EXPECT_EQ(registry.value("cms_mgcp_spoofed_total"), 1);
  auto st = line(line_a);
  EXPECT_EQ(st.state, line_state::idle);
  EXPECT_TRUE(st.call_id.empty());
  EXPECT_EQ(st.spoofed, 1u);
}

TEST_F(endpoint_test, ntfy_before_registration_is_refused) {
  auto tid = ntfy(line_a, mta_a, "L/hd", std::string{"1"});
  EXPECT_EQ(answer_to(tid), 500);
  EXPECT_EQ(registry.value("cms_mgcp_spoofed_total"), 1);
  EXPECT_TRUE(line(line_a).call_id.empty());
}

TEST_F(endpoint_test, rsip_from_an_address_that_is_not_the_provisioned_one_is_refused) {
  auto tid = rsip(line_a, actors::mgcp_peer{"10.9.9.9", 2427});
  EXPECT_EQ(answer_to(tid), 500);
  EXPECT_EQ(line(line_a).state, line_state::unregistered);
  EXPECT_TRUE(line(line_a).peer.empty());
}

TEST_F(endpoint_test, rsip_from_a_new_port_moves_an_idle_line_but_never_one_in_a_call) {
  register_both();
  actors::mgcp_peer moved{"127.0.0.1", 3000};
  EXPECT_EQ(answer_to(rsip(line_a, moved)), 200);
  EXPECT_EQ(line(line_a).peer, moved);
  EXPECT_EQ(line(line_a).state, line_state::idle);
  ntfy(line_a, moved, "L/hd");
  ASSERT_FALSE(line(line_a).call_id.empty());
  auto tid = rsip(line_a, mta_a);
  EXPECT_EQ(answer_to(tid), 500);
  EXPECT_EQ(line(line_a).peer, moved);
}

TEST_F(endpoint_test, stale_request_id_is_answered_and_ignored) {
  register_both();
  auto tid = ntfy(line_a, mta_a, "L/hd", std::string{"deadbeef"});
  EXPECT_EQ(answer_to(tid), 200);
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_TRUE(line(line_a).call_id.empty());
  EXPECT_EQ(registry.value("cms_mgcp_stale_notify_total"), 1);
}

TEST_F(endpoint_test, commands_a_call_agent_does_not_take_get_504) {
  register_both();
  auto tid = send_command(line_a, mta_a, mgcp::verb::crcx, {{"C", "1"}});
  EXPECT_EQ(answer_to(tid), 504);
}

TEST_F(endpoint_test, unexpected_event_re_arms_the_line) {
  register_both();
  auto before = sent(line_a, mgcp::verb::rqnt).size();
  ntfy(line_a, mta_a, "L/hf");
  EXPECT_EQ(sent(line_a, mgcp::verb::rqnt).size(), before + 1);
  EXPECT_EQ(line(line_a).state, line_state::idle);
}

TEST_F(endpoint_test, forced_restart_takes_the_line_out_of_service_until_it_restarts) {
  register_both();
  rsip(line_a, mta_a, "forced");
  EXPECT_EQ(line(line_a).state, line_state::out_of_service);
  EXPECT_EQ(gauge("cms_endpoints_registered"), 1);
  rsip(line_a, mta_a, "restart");
  EXPECT_EQ(line(line_a).state, line_state::idle);
}

TEST_F(endpoint_test, graceful_restart_waits_for_the_restart_delay) {
  register_both();
  rsip(line_a, mta_a, "graceful", "30");
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_TRUE(line(line_a).graceful_pending);
  sched.advance_time(std::chrono::seconds{31});
  sched.run();
  EXPECT_EQ(line(line_a).state, line_state::out_of_service);
}

TEST_F(endpoint_test, cancel_graceful_keeps_the_line) {
  register_both();
  rsip(line_a, mta_a, "graceful", "30");
  rsip(line_a, mta_a, "cancel-graceful");
  sched.advance_time(std::chrono::seconds{31});
  sched.run();
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_FALSE(line(line_a).graceful_pending);
}

TEST_F(endpoint_test, mta_that_does_not_answer_the_audit_is_disconnected) {
  wire.script = [](const mgcp::command& c) -> std::optional<mgcp_reply> {
    if (c.kind != mgcp::verb::auep)
      return std::nullopt;
    mgcp_reply r;
    r.fail = mgcp_reply::failure::timeout;
    return r;
  };
  rsip(line_a, mta_a);
  EXPECT_EQ(line(line_a).state, line_state::disconnected);
  wire.script = nullptr;
  rsip(line_a, mta_a, "disconnected");
  EXPECT_EQ(line(line_a).state, line_state::idle);
}

TEST_F(endpoint_test, suspended_line_answers_rsip_but_stays_out_of_service) {
  auto tid = rsip("aaln/1@mta-c.example", mta_a);
  EXPECT_EQ(answer_to(tid), 200);
  EXPECT_EQ(line("aaln/1@mta-c.example").state, line_state::out_of_service);
  EXPECT_FALSE(last("aaln/1@mta-c.example", mgcp::verb::rqnt));
}

TEST_F(endpoint_test, catalogue_lists_with_filters_and_paging) {
  register_both();
  auto page = ask<std::string>(ctx->catalog(), list_query{"endpoints", "idle", "", 0, 1});
  ASSERT_TRUE(page) << sys.render(page.error());
  auto v = boost::json::parse(*page).as_object();
  EXPECT_EQ(v["total"].as_int64(), 2);
  EXPECT_EQ(v["items"].as_array().size(), 1u);
  EXPECT_EQ(v["limit"].as_int64(), 1);
  auto by_mta =
    ask<std::string>(ctx->catalog(), list_query{"endpoints", "", "mta-b.example", 0, 10});
  auto w = boost::json::parse(*by_mta).as_object();
  ASSERT_EQ(w["total"].as_int64(), 1);
  EXPECT_EQ(w["items"].as_array()[0].as_object()["name"].as_string(), line_b);
  auto oos = ask<std::string>(ctx->catalog(), list_query{"endpoints", "out_of_service", "", 0, 10});
  EXPECT_EQ(boost::json::parse(*oos).as_object()["total"].as_int64(), 1);
}

namespace {
struct sink_state {
  std::vector<state_change>* out = nullptr;
};
caf::behavior sink(caf::stateful_actor<sink_state>* self, std::vector<state_change>* out) {
  self->state.out = out;
  return {[self](state_change& c) { self->state.out->push_back(c); }};
}
} // namespace

TEST_F(endpoint_test, every_transition_reaches_the_replication_hook) {
  std::vector<state_change> changes;
  auto s = sys.spawn(sink, &changes);
  caf::anon_send(ctx->catalog(), state_subscribe{s});
  sched.run();
  rsip(line_a, mta_a);
  ASSERT_GE(changes.size(), 2u);
  std::vector<line_state> seen;
  for (auto& c : changes) {
    EXPECT_EQ(c.kind, "endpoint");
    EXPECT_EQ(c.key, line_a);
    endpoint_state st;
    ASSERT_TRUE(decode_state(sys, c.state, st));
    seen.push_back(st.state);
  }
  EXPECT_EQ(seen.front(), line_state::unregistered);
  EXPECT_EQ(seen.back(), line_state::idle);
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
}
