// Scenario mode of the real mtasim binary against a small call agent written here: the NCS basic
// call (RFC 3435 / PacketCable NCS call flow) reduced to its essentials, so the call generator,
// the answering subscribers, RTP and the report are exercised end to end over UDP.

#include "sim_harness.hpp"

#include "runtime/mgcp/events.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

using namespace std::chrono_literals;
using cms::mgcp::verb;

namespace {

/// A call agent for N lines; numbers in `unknown` get reorder. Runs on its own io thread; all its
/// state is touched only there.
class mini_call_agent {
public:
  mini_call_agent(int mtas, int lines, std::set<std::string> unknown)
    : unknown_(std::move(unknown)) {
    int k = 0;
    for (int m = 1; m <= mtas; ++m)
      for (int l = 1; l <= lines; ++l) {
        char name[64];
        std::snprintf(name, sizeof name, "aaln/%d@mta-%04d.cable.example", l, m);
        dn_to_endpoint_[std::to_string(5551001 + k++)] = name;
      }
    cms::mgcp::agent_config cfg;
    cfg.port = 0;
    agent_ = std::make_unique<cms::mgcp::agent>(io_, cfg, metrics_);
    agent_->on_command([this](const cms::mgcp::udp_endpoint& from, cms::mgcp::command cmd) {
      on_command(from, std::move(cmd));
    });
    agent_->start();
    thread_ = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
  ~mini_call_agent() {
    boost::asio::post(io_, [this] { agent_->stop(); });
    std::this_thread::sleep_for(50ms);
    io_.stop();
    thread_.join();
  }
  std::string address() const {
    auto ep = agent_->local_endpoint();
    return ep.address().to_string() + ":" + std::to_string(ep.port());
  }

private:
  struct endpoint_state {
    cms::mgcp::udp_endpoint mta;
    std::string peer; ///< the other endpoint of the call
    std::string call_id;
    std::string conn_id;
    bool ringing = false;
    bool talking = false;
  };

  static endpoint_state fresh(const cms::mgcp::udp_endpoint& mta) {
    endpoint_state s;
    s.mta = mta;
    return s;
  }

  void send(const std::string& ep, verb v, std::vector<cms::mgcp::parameter> params,
            std::optional<std::string> sdp = std::nullopt,
            std::function<void(const cms::mgcp::response&)> then = nullptr) {
    auto cmd = cms::sim::test::make_command(v, ep, std::move(params), std::move(sdp));
    agent_->send(state_[ep].mta, std::move(cmd), [then](cms::mgcp::command_outcome o) {
      if (auto* r = std::get_if<cms::mgcp::response>(&o); r && then)
        then(*r);
    });
  }
  std::string next_id() { return std::to_string(++ids_); }
  void arm_idle(const std::string& ep) {
    send(ep, verb::rqnt, {{"X", next_id()}, {"R", "L/hd(N)"}});
  }

  void on_command(const cms::mgcp::udp_endpoint& from, cms::mgcp::command cmd) {
    cms::mgcp::response ok;
    ok.code = 200;
    ok.transaction_id = cmd.transaction_id;
    ok.comment = "OK";
    agent_->respond(from, ok);
    auto ep = cmd.endpoint;
    if (cmd.kind == verb::rsip) {
      state_[ep] = fresh(from);
      arm_idle(ep);
      return;
    }
    if (cmd.kind != verb::ntfy || !cmd.param("O"))
      return;
    auto observed = cms::mgcp::parse_observed_events(*cmd.param("O"));
    if (!observed || observed->empty())
      return;
    auto& st = state_[ep];
    auto first = observed->front().name.event;
    if (first == "hd" && st.ringing) {
      answer(ep);
    } else if (first == "hd") {
      send(ep, verb::rqnt,
           {{"X", next_id()}, {"R", "L/hu(N), D/[0-9#*T](D)"}, {"S", "L/dl"}, {"D", "(xxxxxxx)"}});
    } else if (first == "hu") {
      release(ep);
    } else if (observed->front().name.is_digit()) {
      route(ep, cms::mgcp::observed_digits(*observed));
    }
  }

  void route(const std::string& caller, const std::string& number) {
    auto it = dn_to_endpoint_.find(number);
    if (it == dn_to_endpoint_.end() || unknown_.count(number)) {
      send(caller, verb::rqnt, {{"X", next_id()}, {"R", "L/hu(N)"}, {"S", "L/ro"}});
      return;
    }
    auto callee = it->second;
    auto call_id = next_id() + "ABC";
    state_[caller].peer = callee;
    state_[caller].call_id = call_id;
    send(caller, verb::crcx, {{"C", call_id}, {"M", "recvonly"}}, std::nullopt,
         [this, caller, callee, call_id](const cms::mgcp::response& r) {
           if (r.code != 200 || !r.sdp)
             return;
           state_[caller].conn_id = r.param("I") ? *r.param("I") : "";
           send(
             callee, verb::crcx,
             {{"C", call_id}, {"M", "sendrecv"}, {"X", next_id()}, {"R", "L/hd(N)"}, {"S", "L/rg"}},
             r.sdp, [this, caller, callee, call_id](const cms::mgcp::response& r2) {
               if (r2.code != 200) {
                 send(caller, verb::dlcx, {{"C", call_id}});
                 send(caller, verb::rqnt, {{"X", next_id()}, {"R", "L/hu(N)"}, {"S", "L/bz"}});
                 return;
               }
               auto& cs = state_[callee];
               cs.peer = caller;
               cs.call_id = call_id;
               cs.conn_id = r2.param("I") ? *r2.param("I") : "";
               cs.ringing = true;
               send(caller, verb::mdcx,
                    {{"C", call_id},
                     {"I", state_[caller].conn_id},
                     {"M", "recvonly"},
                     {"X", next_id()},
                     {"R", "L/hu(N)"},
                     {"S", "L/rt"}},
                    r2.sdp);
             });
         });
  }

  void answer(const std::string& callee) {
    auto& cs = state_[callee];
    cs.ringing = false;
    cs.talking = true;
    auto caller = cs.peer;
    state_[caller].talking = true;
    send(callee, verb::rqnt, {{"X", next_id()}, {"R", "L/hu(N)"}});
    send(caller, verb::mdcx,
         {{"C", cs.call_id},
          {"I", state_[caller].conn_id},
          {"M", "sendrecv"},
          {"X", next_id()},
          {"R", "L/hu(N)"},
          {"S", ""}});
  }

  void release(const std::string& ep) {
    auto& st = state_[ep];
    auto peer = st.peer;
    if (!st.call_id.empty())
      send(ep, verb::dlcx, {{"C", st.call_id}});
    if (!peer.empty() && state_[peer].call_id == st.call_id) {
      auto& ps = state_[peer];
      if (!ps.call_id.empty())
        send(peer, verb::dlcx,
             {{"C", ps.call_id},
              {"X", next_id()},
              {"R", ps.talking || !ps.ringing ? "L/hu(N)" : "L/hd(N)"},
              {"S", ""}});
      ps = fresh(ps.mta);
    }
    st = fresh(st.mta);
    arm_idle(ep);
  }

  std::set<std::string> unknown_;
  std::map<std::string, std::string> dn_to_endpoint_;
  std::map<std::string, endpoint_state> state_;
  int ids_ = 0;
  cms::metrics::registry metrics_;
  boost::asio::io_context io_;
  std::unique_ptr<cms::mgcp::agent> agent_;
  std::thread thread_;
};

} // namespace

TEST(mtasim_scenario, places_answers_holds_and_releases_calls_with_media) {
  mini_call_agent ca(3, 2, {"5551004"});
  cms::sim::test::mtasim_process sim(
    {"--ca",           ca.address(), "--mtas",           "3",     "--lines",         "2",
     "--base-port",    "0",          "--scenario",       "calls", "--rate",          "4",
     "--hold",         "0.4",        "--duration",       "3",     "--answer-delay",  "100",
     "--hangup-delay", "300",        "--digit-interval", "0",     "--setup-timeout", "3",
     "--json"});
  std::string out;
  ASSERT_EQ(sim.wait_exit(60s, &out), 0) << out;
  auto brace = out.rfind("\n{");
  ASSERT_NE(brace, std::string::npos) << out;
  std::cout << out.substr(brace + 1);
  auto report = boost::json::parse(out.substr(brace + 1)).as_object();
  const auto& calls = report.at("calls").as_object();
  auto attempts = calls.at("attempts").as_int64();
  auto completed = calls.at("completed").as_int64();
  EXPECT_EQ(report.at("mode").as_string(), "calls");
  EXPECT_EQ(report.at("lines_registered").as_int64(), 6);
  // The scenario ends once the last callee hung up too (300 ms after its caller), not before.
  EXPECT_EQ(report.at("lines_off_hook").as_int64(), 0);
  EXPECT_GT(attempts, 2);
  EXPECT_GT(completed, 0);
  EXPECT_EQ(calls.at("answered").as_int64(), completed);
  EXPECT_EQ(calls.at("release_timeouts").as_int64(), 0);
  // Every attempt ends as a completion or a classified failure; only the unknown number fails.
  EXPECT_EQ(completed + calls.at("failed").as_int64(), attempts) << out;
  for (const auto& [cause, n] : calls.at("failures").as_object())
    EXPECT_EQ(cause, "reorder") << n.as_int64() << " failures for " << cause;
  auto* reorders = calls.at("failures").as_object().if_contains("reorder");
  ASSERT_TRUE(reorders) << "the unknown number 5551004 was never dialled";
  EXPECT_GT(reorders->as_int64(), 0);
  EXPECT_GT(calls.at("setup_latency_ms").at("count").as_int64(), 0);
  EXPECT_GT(calls.at("setup_latency_ms").at("p99").as_double(), 0.0);
  EXPECT_GT(report.at("rtp").at("packets_received").as_int64(), 0);
  EXPECT_GE(report.at("rtp").at("streams").as_int64(), 2 * completed);
}
