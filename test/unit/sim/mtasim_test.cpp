// The real mtasim binary against a fake call agent over UDP on loopback.

#include "sim_harness.hpp"

#include "runtime/mgcp/parameters.hpp"
#include "runtime/mgcp/sdp.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <set>
#include <thread>

using namespace std::chrono_literals;
using cms::mgcp::verb;
using cms::sim::test::control_client;
using cms::sim::test::fake_call_agent;
using cms::sim::test::make_command;
using cms::sim::test::mtasim_process;
using received = fake_call_agent::received;

namespace {

const std::string line1 = "aaln/1@mta-0001.cable.example";
const std::string line2 = "aaln/2@mta-0001.cable.example";

std::vector<std::string> base_args(const fake_call_agent& ca, int mtas = 1, int lines = 2) {
  return {"--ca",          ca.address(),
          "--mtas",        std::to_string(mtas),
          "--lines",       std::to_string(lines),
          "--base-port",   "0",
          "--control",     "0",
          "--rto-initial", "100",
          "--rto-max",     "400",
          "--max-retrans", "3",
          "--answer",      "never"};
}

auto is(verb v, const std::string& endpoint = {}) {
  return [v, endpoint](const received& r) {
    return r.cmd.kind == v && (endpoint.empty() || r.cmd.endpoint == endpoint);
  };
}

const cms::mgcp::response* response_of(const cms::mgcp::command_outcome& o) {
  return std::get_if<cms::mgcp::response>(&o);
}

/// A parameter of the response, "<missing>" when absent.
std::string param_of(const cms::mgcp::command_outcome& o, const char* name) {
  auto* r = response_of(o);
  auto* v = r ? r->param(name) : nullptr;
  return v ? *v : "<missing>";
}

std::string param_of_cmd(const received& r, const char* name) {
  auto* v = r.cmd.param(name);
  return v ? *v : "<missing>";
}

/// The response code, or -1 when the command got no final response.
int code_of(const cms::mgcp::command_outcome& o) {
  auto* r = response_of(o);
  return r ? r->code : -1;
}

boost::json::object status(control_client& c, const std::string& line) {
  return boost::json::parse(c.request("status " + line)).as_object();
}

/// The MTA's address, learnt from its RSIP like a real call agent does.
cms::mgcp::udp_endpoint registered_mta(fake_call_agent& ca, const std::string& endpoint) {
  auto r = ca.wait_for(is(verb::rsip, endpoint));
  EXPECT_TRUE(r) << "no RSIP from " << endpoint;
  return r ? r->from : cms::mgcp::udp_endpoint{};
}

/// The notified entity naming `ca`, as a call agent puts it in N:.
std::string notified_entity_of(const fake_call_agent& ca) {
  return "ca@[" + ca.endpoint().address().to_string() + "]:" + std::to_string(ca.endpoint().port());
}

/// An mtasim with two call agents in its list, registered at the first.
struct two_agents {
  fake_call_agent first, second{"127.0.0.2"};
  mtasim_process sim{args(first, second)};
  cms::mgcp::udp_endpoint mta = registered_mta(first, line1);
  control_client ctl{sim.control_port()};

  static std::vector<std::string> args(const fake_call_agent& a, const fake_call_agent& b) {
    auto v = base_args(a);
    v[1] = a.address() + "," + b.address();
    return v;
  }
};

} // namespace

TEST(mtasim, every_line_sends_rsip_restart) {
  fake_call_agent ca;
  mtasim_process sim(base_args(ca, 3, 2));
  ASSERT_NE(sim.control_port(), 0);
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    auto r = ca.wait_for(is(verb::rsip));
    ASSERT_TRUE(r) << "only " << seen.size() << " RSIPs";
    ASSERT_NE(r->cmd.param("RM"), nullptr);
    EXPECT_EQ(*r->cmd.param("RM"), "restart");
    EXPECT_EQ(r->cmd.version, "MGCP 1.0 NCS 1.0");
    seen.insert(r->cmd.endpoint);
  }
  EXPECT_EQ(seen, (std::set<std::string>{
                    "aaln/1@mta-0001.cable.example", "aaln/2@mta-0001.cable.example",
                    "aaln/1@mta-0002.cable.example", "aaln/2@mta-0002.cable.example",
                    "aaln/1@mta-0003.cable.example", "aaln/2@mta-0003.cable.example"}));
  control_client ctl(sim.control_port());
  auto lines = boost::json::parse(ctl.request("lines")).as_array();
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0].at("dn").as_string(), "5551001");
  EXPECT_EQ(lines[5].at("dn").as_string(), "5551006");
  // RSIPs were acknowledged (200 by the fake call agent).
  for (int i = 0; i < 50 && !lines[5].at("registered").as_bool(); ++i) {
    std::this_thread::sleep_for(20ms);
    lines = boost::json::parse(ctl.request("lines")).as_array();
  }
  EXPECT_TRUE(lines[5].at("registered").as_bool());
}

TEST(mtasim, off_hook_after_rqnt_is_notified) {
  fake_call_agent ca;
  mtasim_process sim(base_args(ca));
  auto mta = registered_mta(ca, line1);
  control_client ctl(sim.control_port());

  // Without a request the off-hook is not reported (NCS has no persistent hook events).
  auto rq = ca.send(mta, make_command(verb::rqnt, line1, {{"X", "1A"}, {"R", "L/hd(N)"}}));
  ASSERT_TRUE(response_of(rq));
  EXPECT_EQ(code_of(rq), 200);
  EXPECT_EQ(ctl.request("offhook " + line1), "ok");
  auto ntfy = ca.wait_for(is(verb::ntfy, line1));
  ASSERT_TRUE(ntfy);
  ASSERT_NE(ntfy->cmd.param("O"), nullptr);
  EXPECT_EQ(*ntfy->cmd.param("O"), "L/hd");
  ASSERT_NE(ntfy->cmd.param("X"), nullptr);
  EXPECT_EQ(*ntfy->cmd.param("X"), "1A");
  EXPECT_EQ(status(ctl, "1").at("hook").as_string(), "off");

  // Asking for off-hook on an off-hook line is refused with 401 (NCS).
  auto again = ca.send(mta, make_command(verb::rqnt, line1, {{"X", "1B"}, {"R", "L/hd(N)"}}));
  ASSERT_TRUE(response_of(again));
  EXPECT_EQ(code_of(again), 401);
}

TEST(mtasim, dialled_digits_are_reported_against_the_digit_map) {
  fake_call_agent ca;
  mtasim_process sim(base_args(ca));
  auto mta = registered_mta(ca, line1);
  control_client ctl(sim.control_port());
  ASSERT_EQ(code_of(ca.send(mta, make_command(verb::rqnt, line1, {{"X", "10"}, {"R", "L/hd(N)"}}))),
            200);
  ASSERT_EQ(ctl.request("offhook 1"), "ok");
  ASSERT_TRUE(ca.wait_for(is(verb::ntfy, line1)));

  auto rq = ca.send(mta, make_command(verb::rqnt, line1,
                                      {{"X", "11"},
                                       {"R", "L/hu(N), D/[0-9#*T](D)"},
                                       {"S", "L/dl"},
                                       {"D", "(0T|00|[2-9]xxxxxx|1[2-9]xxxxxxxxx|011x.T)"}}));
  ASSERT_EQ(code_of(rq), 200);
  auto st = status(ctl, "1");
  ASSERT_EQ(st.at("signals").as_array().size(), 1u);
  EXPECT_EQ(st.at("signals").as_array()[0].as_string(), "L/dl");

  EXPECT_EQ(ctl.request("dial 1 5551002"), "ok");
  auto ntfy = ca.wait_for(is(verb::ntfy, line1));
  ASSERT_TRUE(ntfy);
  EXPECT_EQ(*ntfy->cmd.param("O"), "D/5,D/5,D/5,D/1,D/0,D/0,D/2");
  EXPECT_EQ(*ntfy->cmd.param("X"), "11");
  // The first digit stopped the dial tone.
  EXPECT_TRUE(status(ctl, "1").at("signals").as_array().empty());
  // Bad control input is refused, not obeyed.
  EXPECT_EQ(ctl.request("dial 1 55a"), "error dial: bad digit 'a'");
  EXPECT_EQ(ctl.request("offhook 99"), "error unknown line '99'");
  EXPECT_EQ(ctl.request("jump 1"), "error unknown command 'jump'");
}

TEST(mtasim, events_during_lockstep_are_quarantined_until_the_next_request) {
  fake_call_agent ca;
  mtasim_process sim(base_args(ca));
  auto mta = registered_mta(ca, line1);
  control_client ctl(sim.control_port());
  ASSERT_EQ(code_of(ca.send(mta, make_command(verb::rqnt, line1, {{"X", "20"}, {"R", "L/hd(N)"}}))),
            200);
  ASSERT_EQ(ctl.request("offhook 1"), "ok");
  ASSERT_TRUE(ca.wait_for(is(verb::ntfy, line1)));
  // NTFY sent, no new request yet: the on-hook waits in quarantine.
  ASSERT_EQ(ctl.request("onhook 1"), "ok");
  EXPECT_FALSE(ca.wait_for(is(verb::ntfy, line1), 300ms));
  auto st = status(ctl, "1");
  ASSERT_EQ(st.at("quarantine").as_array().size(), 1u);
  // The next request arms on-hook; the quarantined event is processed and reported.
  ASSERT_EQ(code_of(ca.send(mta, make_command(verb::rqnt, line1, {{"X", "21"}, {"R", "L/hu(N)"}}))),
            402)
    << "the line is on-hook again, so asking for on-hook is refused";
  ASSERT_EQ(
    code_of(ca.send(mta, make_command(verb::rqnt, line1,
                                      {{"X", "22"}, {"R", "L/hd(N),L/hf(N)"}, {"Q", "discard"}}))),
    200);
  EXPECT_TRUE(status(ctl, "1").at("quarantine").as_array().empty());
}

TEST(mtasim, connections_carry_rtp_and_dlcx_returns_statistics) {
  fake_call_agent ca;
  mtasim_process sim(base_args(ca));
  auto mta = registered_mta(ca, line1);
  control_client ctl(sim.control_port());

  auto c1 = ca.send(mta, make_command(verb::crcx, line1,
                                      {{"C", "CA01"}, {"M", "recvonly"}, {"L", "p:20, a:PCMU"}}));
  ASSERT_TRUE(response_of(c1));
  ASSERT_EQ(code_of(c1), 200);
  ASSERT_NE(response_of(c1)->param("I"), nullptr);
  ASSERT_TRUE(response_of(c1)->sdp);
  auto sdp1 = cms::mgcp::parse_sdp(*response_of(c1)->sdp);
  ASSERT_TRUE(sdp1) << *response_of(c1)->sdp;

  auto c2 = ca.send(mta, make_command(verb::crcx, line2, {{"C", "CA01"}, {"M", "sendrecv"}},
                                      *response_of(c1)->sdp));
  ASSERT_EQ(code_of(c2), 200);
  ASSERT_TRUE(response_of(c2)->sdp);
  auto id1 = param_of(c1, "I");
  auto id2 = param_of(c2, "I");
  EXPECT_NE(id1, id2);

  auto m1 =
    ca.send(mta, make_command(verb::mdcx, line1, {{"C", "CA01"}, {"I", id1}, {"M", "sendrecv"}},
                              *response_of(c2)->sdp));
  ASSERT_EQ(code_of(m1), 200);

  // Media flows both ways: each line receives the other's 20 ms packets.
  std::int64_t rx1 = 0, rx2 = 0;
  for (int i = 0; i < 100 && (rx1 < 10 || rx2 < 10); ++i) {
    std::this_thread::sleep_for(20ms);
    auto s1 = status(ctl, "1"), s2 = status(ctl, "2");
    rx1 = s1.at("connections").as_array()[0].at("rtp").at("received").as_int64();
    rx2 = s2.at("connections").as_array()[0].at("rtp").at("received").as_int64();
  }
  EXPECT_GE(rx1, 10);
  EXPECT_GE(rx2, 10);

  // A wrong connection id and a wrong call id are refused.
  EXPECT_EQ(
    code_of(ca.send(mta, make_command(verb::mdcx, line1, {{"I", "FFFFFF"}, {"M", "inactive"}}))),
    515);
  EXPECT_EQ(code_of(ca.send(mta, make_command(verb::dlcx, line1, {{"C", "0BE7"}, {"I", id1}}))),
            516);

  auto d1 = ca.send(mta, make_command(verb::dlcx, line1, {{"C", "CA01"}, {"I", id1}}));
  ASSERT_EQ(code_of(d1), 250);
  ASSERT_NE(response_of(d1)->param("P"), nullptr);
  auto p = cms::mgcp::parse_connection_parameters(param_of(d1, "P"));
  ASSERT_TRUE(p) << param_of(d1, "P");
  EXPECT_EQ(p->packets_sent.value_or(0) > 0, true);
  EXPECT_EQ(p->packets_received.value_or(0) > 0, true);
  EXPECT_EQ(p->octets_sent.value_or(0), p->packets_sent.value_or(0) * 160);

  auto d2 = ca.send(mta, make_command(verb::dlcx, line2, {{"C", "CA01"}}));
  ASSERT_EQ(code_of(d2), 250);
  EXPECT_TRUE(status(ctl, "2").at("connections").as_array().empty());
  auto report = boost::json::parse(ctl.request("report")).as_object();
  EXPECT_GE(report.at("rtp").at("packets_received").as_int64(), 20);
  EXPECT_EQ(report.at("rtp").at("streams").as_int64(), 2);
}

TEST(mtasim, audits_and_refuses_unknown_endpoints) {
  fake_call_agent ca;
  mtasim_process sim(base_args(ca));
  auto mta = registered_mta(ca, line1);
  ASSERT_EQ(
    code_of(ca.send(
      mta, make_command(verb::rqnt, line1, {{"X", "77"}, {"R", "L/hd(N)"}, {"D", "(xxxxxxx)"}}))),
    200);
  auto a = ca.send(mta, make_command(verb::auep, line1, {{"F", "R,D,X,ES,I"}}));
  ASSERT_EQ(code_of(a), 200);
  EXPECT_EQ(param_of(a, "R"), "L/hd(N)");
  EXPECT_EQ(param_of(a, "D"), "(xxxxxxx)");
  EXPECT_EQ(param_of(a, "X"), "77");
  EXPECT_EQ(param_of(a, "ES"), "L/hu");
  EXPECT_EQ(param_of(a, "I"), "<missing>");

  auto all = ca.send(mta, make_command(verb::auep, "*@mta-0001.cable.example"));
  ASSERT_EQ(code_of(all), 200);
  std::set<std::string> names;
  for (const auto& p : response_of(all)->params)
    if (p.name == "Z")
      names.insert(p.value);
  EXPECT_EQ(names, (std::set<std::string>{line1, line2}));

  EXPECT_EQ(
    code_of(ca.send(mta, make_command(verb::rqnt, "aaln/9@mta-0001.cable.example", {{"X", "1"}}))),
    500);
  EXPECT_EQ(code_of(ca.send(mta, make_command(verb::rqnt, "aaln/1@other.example", {{"X", "1"}}))),
            500);
  EXPECT_EQ(code_of(ca.send(mta, make_command(verb::rqnt, line1, {{"X", "2"}, {"R", "Q/zz(N)"}}))),
            518);
  EXPECT_EQ(
    code_of(ca.send(mta, make_command(verb::rqnt, line1, {{"X", "3"}, {"S", "L/nonsense"}}))), 513);
  EXPECT_EQ(code_of(ca.send(mta, make_command(verb::crcx, line1, {{"C", "1"}, {"M", "x-bogus"}}))),
            517);
  // A broken digit map never reaches the line: the codec refuses it (539) before the MTA would (538).
  auto bad_map =
    code_of(ca.send(mta, make_command(verb::rqnt, line1, {{"X", "4"}, {"D", "(xx[9-1])"}})));
  EXPECT_TRUE(bad_map == 538 || bad_map == 539) << bad_map;
}

TEST(mtasim, follows_a_new_notified_entity) {
  fake_call_agent ca, other;
  mtasim_process sim(base_args(ca));
  auto mta = registered_mta(ca, line1);
  control_client ctl(sim.control_port());
  auto ne = "ca@[" + other.endpoint().address().to_string() +
            "]:" + std::to_string(other.endpoint().port());
  ASSERT_EQ(code_of(ca.send(
              mta, make_command(verb::rqnt, line1, {{"X", "5"}, {"R", "L/hd(N)"}, {"N", ne}}))),
            200);
  ASSERT_EQ(ctl.request("offhook 1"), "ok");
  auto ntfy = other.wait_for(is(verb::ntfy, line1));
  ASSERT_TRUE(ntfy);
  EXPECT_EQ(*ntfy->cmd.param("O"), "L/hd");
  EXPECT_EQ(ca.count(is(verb::ntfy)), 0u);
}

TEST(mtasim, moves_to_the_next_call_agent_when_the_first_stops_answering) {
  fake_call_agent first, second("127.0.0.2");
  auto args = base_args(first);
  args[1] = first.address() + "," + second.address();
  mtasim_process sim(args);
  auto mta = registered_mta(first, line1);
  control_client ctl(sim.control_port());
  ASSERT_EQ(
    code_of(first.send(mta, make_command(verb::rqnt, line1, {{"X", "9"}, {"R", "L/hd(N)"}}))), 200);
  first.stop();
  ASSERT_EQ(ctl.request("offhook 1"), "ok");
  // The NTFY is retransmitted to the dead agent, then every line restarts at the second one.
  auto rsip1 = second.wait_for(is(verb::rsip, line1), 15s);
  ASSERT_TRUE(rsip1);
  EXPECT_EQ(*rsip1->cmd.param("RM"), "disconnected");
  auto rsip2 = second.wait_for(is(verb::rsip, line2), 5s);
  ASSERT_TRUE(rsip2);
  // The off-hook is still pending (NTFY failed): the line reports it to the new call agent once
  // that one asks for events again.
  auto mta2 = rsip1->from;
  ASSERT_EQ(
    code_of(second.send(mta2, make_command(verb::rqnt, line1, {{"X", "A"}, {"R", "L/hu(N)"}}))),
    200);
  ASSERT_EQ(ctl.request("onhook 1"), "ok");
  auto ntfy = second.wait_for(is(verb::ntfy, line1));
  ASSERT_TRUE(ntfy);
  EXPECT_EQ(param_of_cmd(*ntfy, "O"), "L/hu");
  std::string out;
  EXPECT_EQ(sim.terminate(&out), 0);
  EXPECT_NE(out.find("failovers 1"), std::string::npos) << out;
}

// A takeover moves the lines (N:) to the second call agent without the MTA choosing it. When that
// one dies, the MTA must fail over to the agent after the one that failed (the first), not to the
// entry after its own starting choice (the second again, dead: a pause and a second failover).
TEST(mtasim, fails_over_from_the_call_agent_that_failed_not_from_its_first_choice) {
  two_agents t;
  for (const auto& l : {line1, line2})
    ASSERT_EQ(
      code_of(t.second.send(
        t.mta, make_command(verb::rqnt, l,
                            {{"X", "B1"}, {"R", "L/hd(N)"}, {"N", notified_entity_of(t.second)}}))),
      200);
  t.second.stop();
  ASSERT_EQ(t.ctl.request("offhook 1"), "ok");
  auto rsip = t.first.wait_for(
    [](const received& r) {
      return r.cmd.kind == verb::rsip && r.cmd.endpoint == line1 && r.cmd.param("RM") &&
             *r.cmd.param("RM") == "disconnected";
    },
    15s);
  ASSERT_TRUE(rsip);
  std::string out;
  EXPECT_EQ(t.sim.terminate(&out), 0);
  EXPECT_NE(out.find("failovers 1"), std::string::npos) << out;
}

// The old call agent stops answering while the MTA retransmits an NTFY to it, and meanwhile the new
// one redirects the line (N:): the failed NTFY is the old agent's, not a reason to restart.
TEST(mtasim, a_failure_of_the_agent_the_line_was_redirected_from_is_not_a_failover) {
  two_agents t;
  ASSERT_EQ(
    code_of(t.first.send(t.mta, make_command(verb::rqnt, line1, {{"X", "9"}, {"R", "L/hd(N)"}}))),
    200);
  t.first.stop();
  ASSERT_EQ(t.ctl.request("offhook 1"), "ok");
  std::this_thread::sleep_for(150ms); // the NTFY is out, retransmitted to the dead agent
  ASSERT_EQ(
    code_of(t.second.send(
      t.mta, make_command(verb::rqnt, line1,
                          {{"X", "B2"}, {"R", "L/hu(N)"}, {"N", notified_entity_of(t.second)}}))),
    200);
  std::this_thread::sleep_for(2500ms); // past the NTFY's last retransmission to the first agent
  EXPECT_EQ(t.second.count(is(verb::rsip)), 0u);
  ASSERT_EQ(t.ctl.request("onhook 1"), "ok");
  auto ntfy = t.second.wait_for(is(verb::ntfy, line1));
  ASSERT_TRUE(ntfy);
  EXPECT_EQ(param_of_cmd(*ntfy, "O"), "L/hu");
  std::string out;
  EXPECT_EQ(t.sim.terminate(&out), 0);
  EXPECT_NE(out.find("failovers 0"), std::string::npos) << out;
}

TEST(mtasim, rejects_bad_command_lines) {
  std::string out;
  mtasim_process bad({"--mtas", "x"});
  EXPECT_EQ(bad.wait_exit(5s, &out), 2);
  mtasim_process bad_ca({"--ca", "not-an-address"});
  EXPECT_EQ(bad_ca.wait_exit(5s, &out), 2);
}

TEST(mtasim, each_mta_can_have_its_own_address_as_provisioned) {
  fake_call_agent ca;
  auto args = base_args(ca, 2, 2);
  args.insert(args.end(), {"--mta-address-base", "127.0.0.101"});
  mtasim_process sim(args);
  auto a = registered_mta(ca, "aaln/2@mta-0001.cable.example");
  auto b = registered_mta(ca, "aaln/1@mta-0002.cable.example");
  EXPECT_EQ(a.address().to_string(), "127.0.0.101");
  EXPECT_EQ(b.address().to_string(), "127.0.0.102");
  auto c = ca.send(
    b, make_command(verb::crcx, "aaln/1@mta-0002.cable.example", {{"C", "77"}, {"M", "recvonly"}}));
  ASSERT_EQ(code_of(c), 200);
  ASSERT_TRUE(response_of(c)->sdp);
  EXPECT_NE(response_of(c)->sdp->find("c=IN IP4 127.0.0.102"), std::string::npos)
    << *response_of(c)->sdp;
}
