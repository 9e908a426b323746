// Call actor flows on the test scheduler: every case with its tone, cause and billing.

#include "calls_fixture.hpp"

#include "actors/ha/takeover_protocol.hpp"
#include "actors/type_ids.hpp"

using namespace cms;
using namespace cms::actors;
using cms::test::calls_fixture;

class call_flow_test : public calls_fixture {
protected:
  /// No call left, and the call's last billing record is its signaling_stop with normal clearing.
  void expect_released_normally(const std::string& call_id) {
    EXPECT_EQ(gauge("cms_calls_active"), 0);
    flush_billing();
    auto rows = billing_for(call_id);
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(rows.back().event, "signaling_stop");
    EXPECT_EQ(rows.back().release_cause, cause::normal_clearing);
  }
};

namespace {

/// What an MTA answers a request for `event` ("hu"/"hd") when the hook is already there: 402 "phone
/// on hook" / 401 "phone off hook" (RFC 3435), for RQNTs to `endpoint`; everything else as usual.
auto hook_state_refusal(std::string endpoint, std::string event, int code) {
  return [endpoint, event, code](const mgcp::command& c) -> std::optional<mgcp_reply> {
    auto requested = c.param("R");
    if (c.endpoint != endpoint || c.kind != mgcp::verb::rqnt || !requested ||
        std::string{*requested}.find(event) == std::string::npos)
      return std::nullopt;
    mgcp_reply r;
    r.rsp.code = code;
    r.rsp.transaction_id = c.transaction_id;
    return r;
  };
}

/// The MTA of `endpoint` is silent: every command to it fails as after its last retransmission.
auto silent_mta(std::string endpoint) {
  return [endpoint](const mgcp::command& c) -> std::optional<mgcp_reply> {
    if (c.endpoint != endpoint)
      return std::nullopt;
    mgcp_reply r;
    r.fail = mgcp_reply::failure::timeout;
    return r;
  };
}

/// A call manager slow to answer: it passes originate requests to the real manager at once (the
/// call starts and asks its line for dial tone) but holds the reply with the call's handle until
/// told. Under load the manager's reply can reach the line after the call's first request and the
/// MTA's next NTFY; this reproduces that order on the test scheduler.
using release_atom = caf::atom_constant<caf::atom("release")>;

struct slow_manager_state {
  caf::actor real;
  std::vector<std::pair<caf::response_promise, caf::actor>> held;
  static inline const char* name = "slow_manager";
};

caf::behavior slow_manager(caf::stateful_actor<slow_manager_state>* self, caf::actor real) {
  self->state.real = std::move(real);
  return {
    [self](originate_call& req) -> caf::result<caf::actor> {
      auto rp = self->make_response_promise<caf::actor>();
      self->request(self->state.real, caf::infinite, std::move(req))
        .then([self, rp](caf::actor& call) mutable { self->state.held.emplace_back(rp, call); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](call_update& u) { self->send(self->state.real, std::move(u)); },
    [self](release_atom) {
      for (auto& [rp, call] : self->state.held)
        rp.deliver(call);
      self->state.held.clear();
    },
  };
}

} // namespace

TEST_F(call_flow_test, basic_call_from_off_hook_to_billing) {
  register_both();
  wire.sent.clear();
  auto call_id = dial_from_a("");
  auto dial = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(dial);
  EXPECT_EQ(param(*dial, "S"), "L/dl");
  EXPECT_EQ(param(*dial, "R"), "L/hu(N),D/[0-9#*T](D)");
  EXPECT_EQ(param(*dial, "D"), ctx->settings.digit_map);
  EXPECT_EQ(gauge("cms_calls_active"), 1);

  ntfy(line_a, mta_a, "D/5551002");
  auto crcx_a = last(line_a, mgcp::verb::crcx);
  auto crcx_b = last(line_b, mgcp::verb::crcx);
  auto mdcx_a = last(line_a, mgcp::verb::mdcx);
  ASSERT_TRUE(crcx_a && crcx_b && mdcx_a);
  EXPECT_EQ(param(*crcx_a, "C"), call_id);
  EXPECT_EQ(param(*crcx_a, "M"), "recvonly");
  EXPECT_FALSE(crcx_a->sdp);
  EXPECT_EQ(param(*crcx_b, "M"), "sendrecv");
  ASSERT_TRUE(crcx_b->sdp);
  EXPECT_NE(crcx_b->sdp->find("m=audio 40002"), std::string::npos); // A's SDP
  ASSERT_TRUE(mdcx_a->sdp);
  EXPECT_NE(mdcx_a->sdp->find("m=audio 40004"), std::string::npos); // B's SDP
  EXPECT_EQ(param(*mdcx_a, "I"), "C01");
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "S"), "L/rg");
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "R"), "L/hd(N)");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/rt");
  EXPECT_EQ(line(line_b).state, line_state::ringing);
  EXPECT_EQ(registry.value("cms_call_attempts_total"), 1);

  ntfy(line_b, mta_b, "L/hd");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::mdcx), "M"), "sendrecv");
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "R"), "L/hu(N),L/hf(N)");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "<absent>");
  EXPECT_EQ(line(line_a).state, line_state::in_call);
  EXPECT_EQ(line(line_b).state, line_state::in_call);
  EXPECT_EQ(registry.value("cms_call_completions_total"), 1);
  auto listed = ask<std::string>(ctx->catalog(), list_query{"calls", "connected", "", 0, 10});
  EXPECT_EQ(boost::json::parse(*listed).as_object()["total"].as_int64(), 1);

  ntfy(line_a, mta_a, "L/hu");
  ASSERT_EQ(sent(line_a, mgcp::verb::dlcx).size(), 1u);
  ASSERT_EQ(sent(line_b, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(param(*last(line_b, mgcp::verb::dlcx), "I"), "C02");
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "R"), "L/hd(N)");
  // B is still off hook: it waits for the hang-up, then is idle again.
  EXPECT_EQ(line(line_b).state, line_state::off_hook);
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "R"), "L/hu(N)");
  ntfy(line_b, mta_b, "L/hu");
  EXPECT_EQ(line(line_b).state, line_state::idle);
  EXPECT_EQ(gauge("cms_calls_active"), 0);
  EXPECT_TRUE(line(line_a).connection_id.empty());
  EXPECT_TRUE(line(line_b).connection_id.empty());

  flush_billing();
  auto rows = billing_for(call_id);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].event, "signaling_start");
  EXPECT_EQ(rows[1].event, "call_answer");
  EXPECT_EQ(rows[2].event, "signaling_stop");
  EXPECT_EQ(rows[2].release_cause, cause::normal_clearing);
  EXPECT_EQ(rows[2].calling_number, "5551001");
  EXPECT_EQ(rows[2].called_number, "5551002");
  EXPECT_EQ(rows[2].terminating, line_b);
  EXPECT_EQ(rows[2].route, "on-net");
  EXPECT_NE(rows[2].connection_stats.find("orig: PS=100"), std::string::npos);
  EXPECT_NE(rows[2].connection_stats.find("term: PS=100"), std::string::npos);
  // Group commit: the stop record of the same instant shares nothing with a later call, but the
  // rows were written in batches, never one transaction per record when they arrive together.
  EXPECT_EQ(billing.rows.back().sequence, billing.rows.size());
}

// The answer to an older request arriving after a newer one's (its first copy was lost and a
// retransmission got through late) must not set the line back to what the older one said, and
// the line is armed again so the MTA ends with the newest request. The end of the 300 calls/s
// soak found one line left "off hook" at the node while its MTA was on hook.
TEST_F(call_flow_test,
       a_late_answer_to_the_reorder_request_does_not_set_a_hung_up_line_back_off_hook) {
  register_both();
  ring_b();
  ntfy(line_b, mta_b, "L/hd");
  ASSERT_EQ(line(line_b).state, line_state::in_call);
  // A hangs up: B (still off hook) is armed for its hang-up with reorder; that answer is held.
  wire.swallow = [this](const mgcp::command& c) {
    return c.kind == mgcp::verb::rqnt && c.endpoint == line_b && *c.param("R") == "L/hu(N)";
  };
  ntfy(line_a, mta_a, "L/hu");
  auto reorder = last(line_b, mgcp::verb::rqnt);
  ASSERT_TRUE(reorder);
  ASSERT_EQ(param(*reorder, "R"), "L/hu(N)");
  // B hangs up before that answer is back: armed idle, answered at once.
  wire.swallow = nullptr;
  ntfy(line_b, mta_b, "L/hu", param(*reorder, "X"));
  EXPECT_EQ(line(line_b).state, line_state::idle);
  auto before = sent(line_b, mgcp::verb::rqnt).size();
  // Now the late answer to the reorder request.
  caf::anon_send(ctx->edge(), cms::test::answer_held_rqnt{line_b});
  sched.run();
  EXPECT_EQ(line(line_b).state, line_state::idle) << "a late answer set the line back off hook";
  ASSERT_EQ(sent(line_b, mgcp::verb::rqnt).size(), before + 1) << "the line must be armed again";
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "R"), "L/hd(N)");
  EXPECT_EQ(line(line_b).request_id, param(*last(line_b, mgcp::verb::rqnt), "X"));
  EXPECT_EQ(gauge("cms_calls_active"), 0);
}

TEST_F(call_flow_test, called_line_busy_gives_busy_tone_and_cause_17) {
  register_both();
  ntfy(line_b, mta_b, "L/hd"); // B is dialling itself
  ASSERT_EQ(line(line_b).state, line_state::dialling);
  auto call_id = dial_from_a("5551002");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/bz");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "R"), "L/hu(N)");
  EXPECT_EQ(line(line_a).state, line_state::off_hook);
  EXPECT_FALSE(last(line_a, mgcp::verb::crcx));
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(line(line_a).state, line_state::idle);
  flush_billing();
  auto rows = billing_for(call_id);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].release_cause, cause::user_busy);
  EXPECT_EQ(registry.value("cms_call_failures_total", {{"cause", "17"}}), 1);
}

TEST_F(call_flow_test, no_answer_releases_with_cause_19) {
  register_both();
  auto call_id = ring_b();
  sched.advance_time(ctx->settings.no_answer_timeout + std::chrono::seconds{1});
  sched.run();
  EXPECT_EQ(sent(line_a, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(sent(line_b, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(line(line_b).state, line_state::idle); // ringing stopped, L/hd armed again
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "R"), "L/hd(N)");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  flush_billing();
  auto rows = billing_for(call_id);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].release_cause, cause::no_answer);
}

TEST_F(call_flow_test, unallocated_on_net_number_gets_reorder_and_cause_1) {
  register_both();
  auto call_id = dial_from_a("5559999");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  flush_billing();
  ASSERT_EQ(billing_for(call_id).size(), 2u);
  EXPECT_EQ(billing_for(call_id)[1].release_cause, cause::unallocated_number);
  EXPECT_EQ(billing_for(call_id)[1].route, "unallocated");
}

TEST_F(call_flow_test, off_net_number_without_route_gets_cause_3) {
  register_both();
  auto call_id = dial_from_a("12125551234");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::no_route);
}

TEST_F(call_flow_test, partial_dial_reported_by_the_mta_gets_cause_28) {
  register_both();
  auto call_id = dial_from_a("555T");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::invalid_number);
}

TEST_F(call_flow_test, dial_timeout_on_the_actor_clock_gets_cause_28) {
  register_both();
  auto call_id = dial_from_a("");
  sched.advance_time(ctx->settings.dial_timeout + std::chrono::seconds{1});
  sched.run();
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  EXPECT_EQ(line(line_a).state, line_state::off_hook);
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::invalid_number);
}

TEST_F(call_flow_test, caller_abandons_while_dialling) {
  register_both();
  auto call_id = dial_from_a("");
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_FALSE(last(line_a, mgcp::verb::crcx));
  EXPECT_EQ(gauge("cms_calls_active"), 0);
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::normal_clearing);
}

TEST_F(call_flow_test, caller_abandons_while_ringing) {
  register_both();
  auto call_id = ring_b();
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(sent(line_a, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(sent(line_b, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_EQ(line(line_b).state, line_state::idle);
  flush_billing();
  auto rows = billing_for(call_id);
  ASSERT_EQ(rows.size(), 2u); // no call_answer
  EXPECT_EQ(rows[1].release_cause, cause::normal_clearing);
}

TEST_F(call_flow_test, hang_up_with_a_silent_far_end_still_releases_everything) {
  register_both();
  auto call_id = connect_a_b();
  // B's MTA goes silent: the agent reports a transaction failure (Max2) on everything to it.
  wire.script = silent_mta(line_b);
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_TRUE(line(line_a).connection_id.empty());
  EXPECT_EQ(line(line_b).state, line_state::disconnected);
  EXPECT_TRUE(line(line_b).call_id.empty());
  EXPECT_EQ(gauge("cms_calls_active"), 0);
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::normal_clearing);
}

// A command of ours timed out (the MTA was busy, not gone): we hold the line disconnected while the
// MTA believes it is registered. Its next NTFY used to be answered 200 and ignored, and in NCS
// lockstep the MTA then waited for a request that never came: the line was dead for good (one line
// of the 1-hour soak). Now that NTFY re-audits the line, and its off-hook is the attempt.
TEST_F(call_flow_test,
       an_ntfy_from_a_line_held_disconnected_brings_it_back_and_its_off_hook_dials) {
  register_both();
  wire.script = silent_mta(line_b);
  auto call_id = dial_from_a("5551002"); // B's ringing request times out: B disconnected
  EXPECT_EQ(line(line_b).state, line_state::disconnected);
  ntfy(line_a, mta_a, "L/hu");
  wire.script = hook_state_refusal(line_b, "hd", 401);
  auto auep_before = sent(line_b, mgcp::verb::auep).size();
  EXPECT_EQ(answer_to(ntfy(line_b, mta_b, "L/hd")), 200);
  wire.script = nullptr;
  EXPECT_EQ(sent(line_b, mgcp::verb::auep).size(), auep_before + 1);
  EXPECT_EQ(registry.value("cms_endpoint_rejoined_on_notify_total"), 1);
  EXPECT_EQ(line(line_b).state, line_state::dialling);
  EXPECT_NE(line(line_b).call_id, call_id);
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "S"), "L/dl");
}

class audited_call_test : public calls_fixture {
protected:
  actors::call_settings settings() override {
    auto s = calls_fixture::settings();
    s.in_call_audit_interval = std::chrono::seconds{10};
    return s;
  }
};

TEST_F(audited_call_test, mta_silent_mid_call_is_found_by_the_audit_and_the_call_torn_down) {
  register_both();
  auto call_id = connect_a_b();
  wire.script = silent_mta(line_b);
  sched.advance_time(std::chrono::seconds{11});
  sched.run();
  EXPECT_EQ(line(line_b).state, line_state::disconnected);
  EXPECT_TRUE(line(line_b).call_id.empty());
  // A's connection is deleted, A hears reorder? No: A is the caller; it gets nothing and waits
  // for its hang-up (a caller never hears a tone for the far end's failure after answer).
  EXPECT_EQ(sent(line_a, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(line(line_a).state, line_state::off_hook);
  EXPECT_TRUE(line(line_a).connection_id.empty());
  EXPECT_EQ(gauge("cms_calls_active"), 0);
  flush_billing();
  auto rows = billing_for(call_id);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].release_cause, cause::temporary_failure);
  // B comes back with RSIP and is usable again.
  wire.script = nullptr;
  rsip(line_b, mta_b, "disconnected");
  EXPECT_EQ(line(line_b).state, line_state::off_hook); // its handset is still off hook
  ntfy(line_b, mta_b, "L/hu");
  EXPECT_EQ(line(line_b).state, line_state::idle);
}

TEST_F(audited_call_test, a_line_whose_mta_was_heard_within_the_interval_is_not_audited) {
  register_both();
  connect_a_b();
  auto auep_a = sent(line_a, mgcp::verb::auep).size();
  auto auep_b = sent(line_b, mgcp::verb::auep).size();
  sched.advance_time(std::chrono::seconds{6});
  sched.run();
  // mta-a speaks at 6 s (an NTFY under an old request id: answered and ignored, but alive).
  EXPECT_EQ(answer_to(ntfy(line_a, mta_a, "L/hf", std::string{"0"})), 200);
  sched.advance_time(std::chrono::seconds{5}); // 11 s: both lines' audits are due
  sched.run();
  EXPECT_EQ(sent(line_a, mgcp::verb::auep).size(), auep_a);     // heard 5 s ago: spared
  EXPECT_EQ(sent(line_b, mgcp::verb::auep).size(), auep_b + 1); // silent for 11 s: audited
  EXPECT_EQ(registry.value("cms_endpoint_audits_spared_total"), 1);
  sched.advance_time(std::chrono::seconds{6}); // 17 s: mta-a silent for 11 s now
  sched.run();
  EXPECT_EQ(sent(line_a, mgcp::verb::auep).size(), auep_a + 1);
  EXPECT_EQ(line(line_a).state, line_state::in_call);
  EXPECT_EQ(line(line_b).state, line_state::in_call);
}

// NCS races between the MTA and the answer to our RQNT: the MTA acts on a request as soon as it
// has it, and its next NTFY (straight to the line) can overtake the RQNT's answer (which comes
// through the edge). These were the soak's stuck lines (docs/calls.md, "Races with the MTA").

TEST_F(call_flow_test, off_hook_that_overtakes_the_idle_rqnt_answer_starts_a_call) {
  register_both();
  dial_from_a("5559999"); // unallocated: reorder, A waits for its hang-up
  ASSERT_EQ(line(line_a).state, line_state::off_hook);
  // A hangs up; the node arms L/hd, but the MTA's answer is slow to come back...
  wire.swallow = [this](const mgcp::command& c) {
    return c.endpoint == line_a && c.kind == mgcp::verb::rqnt;
  };
  ntfy(line_a, mta_a, "L/hu");
  auto idle_rqnt = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(idle_rqnt);
  ASSERT_EQ(param(*idle_rqnt, "R"), "L/hd(N)");
  wire.swallow = nullptr;
  // ...and A lifts the handset again: the MTA reports it under that request's X.
  ntfy(line_a, mta_a, "L/hd", param(*idle_rqnt, "X"));
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/dl"); // dial tone: a call started
  EXPECT_EQ(line(line_a).state, line_state::dialling);
  EXPECT_FALSE(line(line_a).call_id.empty());
  // The late answer changes nothing, and the call goes on.
  caf::anon_send(ctx->edge(), cms::test::answer_held_rqnt{line_a});
  sched.run();
  EXPECT_EQ(line(line_a).state, line_state::dialling);
  ntfy(line_a, mta_a, "D/5551002");
  EXPECT_EQ(line(line_b).state, line_state::ringing);
}

TEST_F(call_flow_test, a_line_being_armed_for_off_hook_can_be_called) {
  register_both();
  connect_a_b();
  // B hangs up: the call ends and B is armed for off-hook, but that RQNT's answer is slow...
  wire.swallow = [this](const mgcp::command& c) {
    return c.endpoint == line_b && c.kind == mgcp::verb::rqnt;
  };
  ntfy(line_b, mta_b, "L/hu");
  auto idle_rqnt = last(line_b, mgcp::verb::rqnt);
  ASSERT_TRUE(idle_rqnt);
  ASSERT_EQ(param(*idle_rqnt, "R"), "L/hd(N)");
  wire.swallow = nullptr;
  ntfy(line_a, mta_a, "L/hu");
  ASSERT_EQ(line(line_a).state, line_state::idle);
  // ...while A calls B again: B is on hook and armed, so it rings (it used to be "busy").
  auto call_id = dial_from_a("5551002");
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "S"), "L/rg");
  EXPECT_EQ(line(line_b).state, line_state::ringing);
  caf::anon_send(ctx->edge(), cms::test::answer_held_rqnt{line_b});
  sched.run();
  EXPECT_EQ(line(line_b).state, line_state::ringing);
  EXPECT_EQ(line(line_b).call_id, call_id);
  ntfy(line_b, mta_b, "L/hd");
  EXPECT_EQ(line(line_a).state, line_state::in_call);
  EXPECT_EQ(line(line_b).state, line_state::in_call);
}

TEST_F(call_flow_test, called_mta_silent_during_setup_gives_reorder_and_cause_41) {
  register_both();
  wire.script = [this](const mgcp::command& c) -> std::optional<mgcp_reply> {
    if (c.endpoint != line_b || c.kind != mgcp::verb::crcx)
      return std::nullopt;
    mgcp_reply r;
    r.fail = mgcp_reply::failure::timeout;
    return r;
  };
  auto call_id = dial_from_a("5551002");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  EXPECT_EQ(sent(line_a, mgcp::verb::dlcx).size(), 1u); // A's connection released
  EXPECT_EQ(line(line_b).state, line_state::disconnected);
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::temporary_failure);
}

TEST_F(call_flow_test, crashed_call_actor_is_contained) {
  register_both();
  auto call_id = connect_a_b();
  auto call = ask<caf::actor>(ctx->manager(), atom::lookup_v, call_id);
  ASSERT_TRUE(call);
  // What an uncaught exception in the call actor would do to it.
  caf::anon_send_exit(*call, caf::exit_reason::unhandled_exception);
  sched.run();
  // Both lines deleted their own connection and re-armed.
  EXPECT_EQ(sent(line_a, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(sent(line_b, mgcp::verb::dlcx).size(), 1u);
  EXPECT_TRUE(line(line_a).call_id.empty());
  EXPECT_TRUE(line(line_b).call_id.empty());
  EXPECT_EQ(line(line_a).state, line_state::off_hook);
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "R"), "L/hu(N)");
  EXPECT_EQ(registry.value("cms_calls_crashed_total"), 2); // seen by both lines
  EXPECT_EQ(gauge("cms_calls_active"), 0);
  ntfy(line_a, mta_a, "L/hu");
  ntfy(line_b, mta_b, "L/hu");
  EXPECT_EQ(line(line_a).state, line_state::idle);
  flush_billing();
  auto rows = billing_for(call_id);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].event, "signaling_stop");
  EXPECT_EQ(rows[2].release_cause, cause::temporary_failure);
  // The node keeps serving: a new call goes through.
  auto next = connect_a_b();
  EXPECT_NE(next, call_id);
}

// The hang-up NTFY was lost (sent to a node that died, or while the MTA was in its disconnected
// procedure); the MTA comes back with RSIP disconnected already on hook. Re-arming the call's
// request gets 402 ("phone on hook"): that is the hang-up, and the call must end on it instead of
// lingering until an audit that a line heard from is spared.
TEST_F(call_flow_test, rsip_disconnected_from_a_line_that_hung_up_meanwhile_releases_the_call) {
  register_both();
  auto call_id = connect_a_b();
  wire.script = hook_state_refusal(line_b, "hu", 402);
  rsip(line_b, mta_b, "disconnected");
  wire.script = nullptr;
  EXPECT_TRUE(line(line_b).call_id.empty());
  EXPECT_EQ(line(line_b).state, line_state::idle);
  EXPECT_EQ(line(line_a).state, line_state::off_hook);
  expect_released_normally(call_id);
}

// The subscriber went off hook while no node listened (its NTFY went to the node that died); the
// MTA then re-registers (RSIP disconnected). The idle request is refused with 401 "phone off hook":
// that is the attempt, and it gets dial tone now instead of silence until the caller gives up.
TEST_F(call_flow_test, off_hook_found_when_an_idle_line_comes_back_starts_the_call) {
  register_both();
  wire.script = hook_state_refusal(line_a, "hd", 401);
  wire.sent.clear();
  rsip(line_a, mta_a, "disconnected");
  wire.script = nullptr;
  EXPECT_FALSE(line(line_a).call_id.empty());
  EXPECT_EQ(line(line_a).state, line_state::dialling);
  auto dial = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(dial);
  EXPECT_EQ(param(*dial, "S"), "L/dl");
  EXPECT_EQ(registry.value("cms_endpoint_offhook_while_unheard_total"), 1);
  ntfy(line_a, mta_a, "D/5551002");
  EXPECT_EQ(line(line_b).state, line_state::ringing);
  // Back on hook, idle again: a later 401 (phone left off hook after a call) is not an attempt.
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(line(line_a).state, line_state::idle);
}

// Takeover from an image that may be stale: an idle line the claim finds off hook does not start a
// call (the off-hook may be the answer to a call the old node lost), but it is not left silent
// either: reorder tells the subscriber to hang up, and the hang-up brings the line back to idle.
// Before, such a line stayed off hook with no tone for good (5 of 2,048 lines after the 1-hour soak).
TEST_F(call_flow_test,
       a_line_the_claim_finds_off_hook_without_a_call_hears_reorder_until_it_hangs_up) {
  register_both();
  auto a = line(line_a);
  caf::anon_send(ctx->directory.find(line_a), quiesce_line{});
  sched.run();
  wire.script = hook_state_refusal(line_a, "hd", 401);
  wire.sent.clear();
  caf::anon_send(ctx->directory.find(line_a), adopt_line{a, false});
  sched.run();
  wire.script = nullptr;
  EXPECT_TRUE(line(line_a).call_id.empty());
  EXPECT_EQ(line(line_a).state, line_state::off_hook);
  auto parked = last(line_a, mgcp::verb::rqnt);
  ASSERT_TRUE(parked);
  EXPECT_EQ(param(*parked, "S"), "L/ro");
  EXPECT_EQ(param(*parked, "R"), "L/hu(N)");
  EXPECT_EQ(registry.value("cms_endpoint_offhook_while_unheard_total"), 0);
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(line(line_a).state, line_state::idle);
}

// Takeover: lines are claimed before their calls resume. A claim that learns the callee hung up
// meanwhile (402 to the re-armed request: the NTFY went to the dead node) keeps that for the call,
// which hears it when it attaches; before, it was re-armed and forgotten, and the call stayed up.
TEST_F(call_flow_test, a_hang_up_learnt_by_the_claim_before_the_call_resumed_ends_the_call) {
  register_both();
  auto call_id = connect_a_b();
  auto a = line(line_a), b = line(line_b);
  call_state c;
  c.call_id = call_id;
  c.phase = call_phase::connected;
  c.originating = line_a;
  c.terminating = line_b;
  c.calling_number = "5551001";
  c.called_number = "5551002";
  c.route = "on-net";
  c.orig_connection = a.connection_id;
  c.term_connection = b.connection_id;
  // This node steps down (calls and lines quiesced), then becomes active again with that image.
  for (auto& name : {line_a, line_b})
    caf::anon_send(ctx->directory.find(name), quiesce_line{});
  caf::anon_send(ctx->manager(), quiesce_calls{});
  sched.run();
  wire.script = hook_state_refusal(line_b, "hu", 402);
  caf::anon_send(ctx->directory.find(line_a), adopt_line{a, true});
  caf::anon_send(ctx->directory.find(line_b), adopt_line{b, true});
  sched.run(); // the claims: B's re-armed request answered 402, no call attached yet
  wire.script = nullptr;
  caf::anon_send(ctx->manager(), resume_call{c});
  sched.run();
  EXPECT_TRUE(line(line_b).call_id.empty());
  expect_released_normally(call_id);
}

// Takeover (or a restart from the node's own store) with an image whose lines are in a call that
// never resumes here: the call ended with the old active, or its record never reached the image.
// The lines must not stay busy for good: after the grace they delete their connections and rest.
TEST_F(call_flow_test, lines_adopted_in_a_call_that_never_resumes_are_released_after_the_grace) {
  register_both();
  auto call_id = connect_a_b();
  auto a = line(line_a), b = line(line_b);
  for (auto& name : {line_a, line_b})
    caf::anon_send(ctx->directory.find(name), quiesce_line{});
  caf::anon_send(ctx->manager(), quiesce_calls{});
  sched.run();
  wire.sent.clear();
  caf::anon_send(ctx->directory.find(line_a), adopt_line{a, true});
  caf::anon_send(ctx->directory.find(line_b), adopt_line{b, true});
  sched.run();
  EXPECT_EQ(line(line_a).call_id, call_id) << "within the grace the call may still resume";
  EXPECT_TRUE(sent(line_a, mgcp::verb::dlcx).empty());
  sched.advance_time(ctx->settings.adopted_call_grace + std::chrono::seconds{1});
  sched.run();
  for (auto& name : {line_a, line_b}) {
    EXPECT_TRUE(line(name).call_id.empty()) << name;
    EXPECT_NE(line(name).state, line_state::in_call) << name;
    auto dlcx = last(name, mgcp::verb::dlcx);
    ASSERT_TRUE(dlcx) << name;
    EXPECT_EQ(param(*dlcx, "C"), call_id);
  }
  EXPECT_EQ(registry.value("cms_endpoint_calls_not_resumed_total"), 2);
}

// The same for a line the image holds unregistered (its MTA restarted while the old active held
// the call): without the release it kept the stale call for good, and its next registration
// handed hook changes to a call that no longer existed (seen in the lab after two switchovers).
TEST_F(call_flow_test, a_line_adopted_unregistered_with_a_call_forgets_that_call_after_the_grace) {
  register_both();
  auto call_id = connect_a_b();
  auto a = line(line_a);
  caf::anon_send(ctx->directory.find(line_a), quiesce_line{});
  caf::anon_send(ctx->manager(), quiesce_calls{});
  sched.run();
  a.state = line_state::unregistered;
  caf::anon_send(ctx->directory.find(line_a), adopt_line{a, true});
  sched.run();
  EXPECT_EQ(line(line_a).call_id, call_id);
  sched.advance_time(ctx->settings.adopted_call_grace + std::chrono::seconds{1});
  sched.run();
  EXPECT_TRUE(line(line_a).call_id.empty());
  EXPECT_EQ(registry.value("cms_endpoint_calls_not_resumed_total"), 1);
}

class slow_manager_test : public call_flow_test {
protected:
  caf::actor real_manager, proxy;

  /// A goes off hook; its call starts and plays dial tone, but the line has not got the call's
  /// handle yet.
  std::string off_hook_with_the_call_handle_held() {
    register_both();
    real_manager = ctx->manager();
    proxy = sys.spawn(slow_manager, real_manager);
    ctx->set_manager(proxy);
    ntfy(line_a, mta_a, "L/hd");
    // Only the reply to the line is held: the call's updates go straight to the manager again, so
    // that its last update is not overtaken by its down message.
    ctx->set_manager(real_manager);
    auto dial = last(line_a, mgcp::verb::rqnt);
    EXPECT_TRUE(dial && param(*dial, "S") == "L/dl");
    EXPECT_EQ(gauge("cms_calls_active"), 1);
    return line(line_a).call_id;
  }

  void release_handle() {
    caf::anon_send(proxy, release_atom::value);
    sched.run();
  }

  void TearDown() override {
    if (proxy)
      caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
    call_flow_test::TearDown();
  }
};

TEST_F(slow_manager_test, digits_that_overtake_the_call_handle_still_route_the_call) {
  auto call_id = off_hook_with_the_call_handle_held();
  ASSERT_FALSE(call_id.empty());
  // The MTA's digits under the dial-tone request arrive before the manager's reply: the line
  // keeps them (before, it dropped them and the caller waited for ringback until it gave up).
  ntfy(line_a, mta_a, "D/5551002");
  EXPECT_EQ(line(line_b).state, line_state::idle);
  release_handle();
  EXPECT_EQ(line(line_b).state, line_state::ringing);
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/rt");
  ntfy(line_b, mta_b, "L/hd");
  EXPECT_EQ(line(line_a).state, line_state::in_call);
  ntfy(line_a, mta_a, "L/hu");
  ntfy(line_b, mta_b, "L/hu");
  expect_released_normally(call_id);
}

TEST_F(slow_manager_test, a_hang_up_that_overtakes_the_call_handle_ends_the_call) {
  auto call_id = off_hook_with_the_call_handle_held();
  ntfy(line_a, mta_a, "D/5551002");
  ntfy(line_a, mta_a, "L/hu");
  release_handle();
  // The digits and then the hang-up, in that order: B may have been seized, but the call ends.
  EXPECT_TRUE(line(line_a).call_id.empty());
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_NE(line(line_b).state, line_state::ringing);
  expect_released_normally(call_id);
}

TEST_F(call_flow_test,
       a_node_stopping_alone_ends_its_calls_with_their_stop_records_then_refuses_new_ones) {
  register_both();
  auto call_id = connect_a_b();
  wire.sent.clear();
  auto ended = ask<std::size_t>(ctx->manager(), end_all_calls{cause::temporary_failure});
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, 1u);
  // Both connections deleted on the MTAs, and both parties (still off hook) hear reorder.
  EXPECT_EQ(sent(line_a, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(sent(line_b, mgcp::verb::dlcx).size(), 1u);
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "S"), "L/ro");
  EXPECT_EQ(gauge("cms_calls_active"), 0);
  // The stop record is in the outbox's hands (queued: a lone node's outbox answers then, and
  // flushes its queue before it stops).
  flush_billing();
  auto rows = billing_for(call_id);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.back().event, "signaling_stop");
  EXPECT_EQ(rows.back().release_cause, cause::temporary_failure);
  // No new call while stopping: an off-hook gets reorder at once.
  ntfy(line_a, mta_a, "L/hu");
  ntfy(line_a, mta_a, "L/hd");
  EXPECT_TRUE(line(line_a).call_id.empty());
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  EXPECT_EQ(gauge("cms_calls_active"), 0);
  // Asked again (or with no call at all): answered at once.
  EXPECT_EQ(ask<std::size_t>(ctx->manager(), end_all_calls{cause::temporary_failure}), 1u);
}

TEST_F(call_flow_test, called_party_hangs_up_first) {
  register_both();
  auto call_id = connect_a_b();
  ntfy(line_b, mta_b, "L/hu");
  EXPECT_EQ(line(line_b).state, line_state::idle);
  EXPECT_EQ(line(line_a).state, line_state::off_hook);
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::normal_clearing);
}

// The caller hangs up first: the callee, still off hook with no call, hears reorder until it
// hangs up. Before, it was parked in silence; a subscriber (or mtasim) that waits for a tone or a
// released connection never hung up when the connection went with a node that died.
TEST_F(call_flow_test, the_party_left_off_hook_after_the_other_hung_up_hears_reorder) {
  register_both();
  connect_a_b();
  ntfy(line_a, mta_a, "L/hu");
  EXPECT_EQ(line(line_a).state, line_state::idle);
  EXPECT_EQ(line(line_b).state, line_state::off_hook);
  auto parked = last(line_b, mgcp::verb::rqnt);
  ASSERT_TRUE(parked);
  EXPECT_EQ(param(*parked, "S"), "L/ro");
  EXPECT_EQ(param(*parked, "R"), "L/hu(N)");
  ntfy(line_b, mta_b, "L/hu");
  EXPECT_EQ(line(line_b).state, line_state::idle);
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "S"), "<absent>");
}

TEST_F(call_flow_test, calling_yourself_is_busy) {
  register_both();
  auto call_id = dial_from_a("5551001");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/bz");
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::user_busy);
}

TEST_F(call_flow_test, unregistered_called_line_is_absent) {
  rsip(line_a, mta_a);
  auto call_id = dial_from_a("5551002");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::rqnt), "S"), "L/ro");
  flush_billing();
  EXPECT_EQ(billing_for(call_id).back().release_cause, cause::subscriber_absent);
}

TEST_F(call_flow_test, billing_records_arriving_together_share_one_transaction_and_survive_errors) {
  register_both();
  billing.fail = 1;
  auto call_id = dial_from_a("5559999"); // start + stop within one window
  flush_billing();                       // first write fails, batch kept
  EXPECT_TRUE(billing.rows.empty());
  EXPECT_EQ(registry.value("cms_billing_write_errors_total"), 1);
  sched.advance_time(std::chrono::seconds{2});
  sched.run();
  ASSERT_EQ(billing_for(call_id).size(), 2u);
  ASSERT_EQ(billing.batch_sizes.size(), 1u);
  EXPECT_EQ(billing.batch_sizes[0], 2u);
}

TEST_F(call_flow_test, call_states_are_replicable_images) {
  register_both();
  auto call_id = ring_b();
  auto listed = ask<std::string>(ctx->catalog(), list_query{"calls", "", "mta-b.example", 0, 10});
  auto v = boost::json::parse(*listed).as_object();
  ASSERT_EQ(v["total"].as_int64(), 1);
  auto item = v["items"].as_array()[0].as_object();
  EXPECT_EQ(item["call_id"].as_string(), call_id);
  EXPECT_EQ(item["phase"].as_string(), "alerting");
  call_state st;
  st.call_id = call_id;
  st.phase = call_phase::alerting;
  std::vector<char> image;
  caf::binary_serializer sink{sys, image};
  ASSERT_FALSE(sink(st));
  call_state back;
  ASSERT_TRUE(decode_state(sys, image, back));
  EXPECT_EQ(back.call_id, call_id);
  EXPECT_EQ(back.phase, call_phase::alerting);
}

TEST_F(call_flow_test, called_party_answering_before_ringback_is_confirmed_still_connects) {
  register_both();
  // Hold A's ringback RQNT at the fake MTA: B answers in the meantime.
  wire.swallow = [this](const mgcp::command& c) {
    auto s = c.param("S");
    return c.endpoint == line_a && c.kind == mgcp::verb::rqnt && s && *s == "L/rt";
  };
  auto call_id = dial_from_a("5551002");
  ASSERT_EQ(line(line_b).state, line_state::ringing);
  ntfy(line_b, mta_b, "L/hd");
  EXPECT_EQ(param(*last(line_a, mgcp::verb::mdcx), "M"), "sendrecv");
  EXPECT_EQ(param(*last(line_b, mgcp::verb::rqnt), "R"), "L/hu(N),L/hf(N)");
  EXPECT_EQ(line(line_b).state, line_state::in_call);
  auto listed = ask<std::string>(ctx->catalog(), list_query{"calls", "connected", "", 0, 10});
  EXPECT_EQ(boost::json::parse(*listed).as_object()["total"].as_int64(), 1);
  (void)call_id;
}
