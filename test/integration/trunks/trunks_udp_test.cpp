// Off-net calling over real UDP: the real MGCP agent, call_control and trunk_control under the
// real supervisor on a threaded actor system; an MTA (test_mta) and trunking gateways played by
// test_gateway, each on its own agent and socket on 127.0.0.1.

#include "support/eventually.hpp"
#include "actors/calls/call_control.hpp"
#include "actors/supervision/supervisor.hpp"
#include "actors/trunks/trunk_actor.hpp"
#include "actors/trunks/trunk_control.hpp"
#include "actors/type_ids.hpp"
#include "integration/calls/test_mta.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

using namespace cms;
using namespace std::chrono_literals;

namespace {

struct system_config : caf::actor_system_config {
  system_config() {
    add_message_types<caf::id_block::cms>();
    set("scheduler.max-threads", 2);
  }
};

/// Waits up to 15 s: a line's first RSIP can race call control's start under a loaded CI.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
  return cms::test::eventually(pred, limit, 5ms);
}

/// A trunking gateway's MGCP side (docs/trunks.md): answers CRCX with a connection and SDP, DLCX
/// with 250, everything else 200; records what it got; `silent` stops it answering (dead gateway).
class test_gateway {
public:
  test_gateway(boost::asio::io_context& io, std::string name, mgcp::udp_endpoint ca)
    : name_(std::move(name)),
      ca_(ca),
      agent_(io, test::test_mta::config(), registry_) {
    agent_.on_command([this](const mgcp::udp_endpoint& from, mgcp::command cmd) {
      std::lock_guard guard{mutex_};
      received_.push_back(cmd);
      if (silent_)
        return;
      mgcp::response rsp;
      rsp.transaction_id = cmd.transaction_id;
      rsp.code = 200;
      if (cmd.kind == mgcp::verb::crcx) {
        rsp.set_param("I", "A" + std::to_string(++connections_));
        rsp.sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                  "m=audio 40000 RTP/AVP 0\r\n";
      } else if (cmd.kind == mgcp::verb::dlcx) {
        rsp.code = 250;
      }
      agent_.respond(from, std::move(rsp));
    });
    agent_.start();
  }

  const std::string& name() const { return name_; }
  std::uint16_t port() const { return agent_.local_endpoint().port(); }
  mgcp::agent& agent() { return agent_; }
  void silent(bool s) {
    std::lock_guard guard{mutex_};
    silent_ = s;
  }

  int send(const std::string& endpoint, mgcp::verb v, mgcp::parameter_list params) {
    mgcp::command cmd;
    cmd.kind = v;
    cmd.endpoint = endpoint;
    cmd.params = std::move(params);
    std::promise<int> done;
    auto f = done.get_future();
    agent_.send(ca_, std::move(cmd), [&done](mgcp::command_outcome out) {
      auto r = std::get_if<mgcp::response>(&out);
      done.set_value(r ? r->code : 0);
    });
    return f.get();
  }

  int ntfy(const std::string& endpoint, const std::string& observed) {
    return send(endpoint, mgcp::verb::ntfy, {{"X", "0"}, {"O", observed}});
  }

  std::vector<mgcp::command> received(mgcp::verb v) const {
    std::lock_guard guard{mutex_};
    std::vector<mgcp::command> out;
    for (auto& c : received_)
      if (c.kind == v)
        out.push_back(c);
    return out;
  }

private:
  std::string name_;
  mgcp::udp_endpoint ca_;
  metrics::registry registry_;
  mgcp::agent agent_;
  mutable std::mutex mutex_;
  std::vector<mgcp::command> received_;
  bool silent_ = false;
  int connections_ = 0;
};

class trunks_udp_test : public ::testing::Test {
protected:
  std::filesystem::path dir;
  metrics::registry registry;
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::thread io_thread;
  std::unique_ptr<mgcp::agent> agent;
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  actors::call_control calls;
  trunks::trunk_control trunks;
  caf::actor root;
  std::unique_ptr<test::test_mta> phone;
  std::map<std::string, std::unique_ptr<test_gateway>> gateways;
  /// Overload gate of call admission (attempts per second, 0 = none); set before SetUp.
  double call_rate = 0;

  persistence::provisioning provisioning() {
    persistence::provisioning p;
    auto gw = [&](std::string name, std::string role, std::string segment) {
      persistence::gateway g;
      g.name = name;
      g.address = "127.0.0.1";
      g.port = gateways.at(name)->port();
      g.role = std::move(role);
      g.segment = std::move(segment);
      if (g.role == "cold_spare")
        g.spare_for = std::string{"gw-l1.example"};
      return g;
    };
    p.gateways = {gw("gw-p1.example", "active", "partner"), gw("gw-l1.example", "active", "local"),
                  gw("gw-l9.example", "cold_spare", "local")};
    auto fac = [](std::string id, std::string g, std::string carrier) {
      persistence::facility f;
      f.id = std::move(id);
      f.gateway = std::move(g);
      f.kind = "pri";
      f.carrier = std::move(carrier);
      f.channels = 4;
      return f;
    };
    p.facilities = {fac("p1", "gw-p1.example", "northtel"), fac("l1", "gw-l1.example", "bluewave")};
    p.trunk_groups = {{"tg-p", "", "partner", {{"p1", 1}}}, {"tg-l", "", "local", {{"l1", 1}}}};
    // 911: the emergency route, to the local exchange only.
    p.routes = {{"1", "tg-p", 1}, {"1", "tg-l", 2}, {"911", "tg-l", 1}};
    persistence::subscriber s;
    s.directory_number = "5551011";
    s.endpoint_name = "aaln/1@mta-1.example";
    s.mta_fqdn = "mta-1.example";
    s.mta_address = "127.0.0.1";
    auto second = s;
    second.directory_number = "5551012";
    second.endpoint_name = "aaln/2@mta-1.example";
    p.subscribers = {s, second};
    return p;
  }

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("cms-trunks-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    mgcp::agent_config ac;
    ac.bind_address = "127.0.0.1";
    ac.port = 0;
    ac.timers.initial = 50ms;
    ac.timers.max = 200ms;
    ac.timers.max1 = 2;
    ac.timers.max2 = 4;
    agent = std::make_unique<mgcp::agent>(io, ac, registry);
    work.emplace(io.get_executor());
    sys = std::make_unique<caf::actor_system>(cfg);
    agent->start();
    for (auto n : {"gw-p1.example", "gw-l1.example", "gw-l9.example"})
      gateways[n] = std::make_unique<test_gateway>(io, n, agent->local_endpoint());
    auto prov = provisioning();
    auto offnet = trunks::make_offnet_router(prov);
    actors::call_control_options opts;
    opts.settings.notified_entity =
      "ca@[127.0.0.1]:" + std::to_string(agent->local_endpoint().port());
    opts.settings.on_net_prefixes = {"555"};
    opts.settings.in_call_audit_interval = 0ms;
    opts.settings.line_request_timeout = 10s;
    opts.settings.mgcp_request_timeout = 8s;
    opts.settings.max_call_rate = call_rate;
    opts.settings.call_rate_burst = call_rate > 0 ? 1 : 0;
    opts.lines = prov.subscribers;
    opts.offnet = offnet;
    auto db_file = dir / "cms.db";
    opts.billing = [db_file] { return actors::make_sqlite_billing_writer(db_file); };
    calls = actors::make_call_control(*agent, std::move(opts), registry);
    trunks::trunk_options topts;
    topts.settings.keepalive_interval = 200ms;
    topts.settings.keepalive_misses = 2;
    topts.settings.mgcp_request_timeout = 1500ms;
    trunks = trunks::make_trunk_control(calls.context, offnet, prov, topts, registry);
    io_thread = std::thread{[this] { io.run(); }};
    auto children = calls.children;
    children.push_back(trunks.child);
    root = sys->spawn(actors::supervisor, std::string{"root"}, children,
                      actors::restart_intensity{}, &registry);
    ASSERT_TRUE(eventually([&] { return trunks.context->trunk("l1") && trunks.context->router(); }))
      << "trunk tree did not start";
    phone = std::make_unique<test::test_mta>(io, "mta-1.example", agent->local_endpoint());
    // 500 (endpoint unknown) until call control has spawned the line: an MTA retries its RSIP.
    ASSERT_TRUE(eventually([&] { return phone->rsip(phone->line(1)) == 200; }));
    ASSERT_TRUE(phone->wait_for(phone->line(1), [](auto& v) { return v.r == "L/hd(N)"; }));
    // Registered means audited and idle; calls before that are refused (cause 20).
    ASSERT_TRUE(eventually([&] {
      auto s = calls.context->snapshot(phone->line(1));
      return s && s->state == actors::line_state::idle;
    }));
  }

  void TearDown() override {
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    root = nullptr;
    trunks.shutdown();
    calls.shutdown();
    boost::asio::post(io, [this] {
      phone->agent().stop();
      for (auto& [n, g] : gateways)
        g->agent().stop();
      agent->stop();
    });
    work.reset();
    io_thread.join();
    sys.reset();
    phone.reset();
    gateways.clear();
    agent.reset();
    std::filesystem::remove_all(dir);
  }

  std::string facility_gateway(const std::string& id) {
    auto s = trunks.context->snapshot(id);
    return s ? s->gateway : std::string{};
  }

  /// The line dials `number`; waits for the seizure at `gw` and returns that CRCX.
  mgcp::command place_call(const std::string& number, test_gateway& gw, std::size_t before) {
    auto l = phone->line(1);
    EXPECT_EQ(phone->ntfy(l, "L/hd"), 200);
    EXPECT_TRUE(phone->wait_for(l, [](auto& v) { return v.s == "L/dl"; }));
    EXPECT_EQ(phone->ntfy(l, "D/" + number), 200);
    EXPECT_TRUE(eventually([&] { return gw.received(mgcp::verb::crcx).size() > before; }))
      << gw.name();
    auto all = gw.received(mgcp::verb::crcx);
    return all.empty() ? mgcp::command{} : all.back();
  }

  void hang_up_and_wait_idle() {
    auto l = phone->line(1);
    EXPECT_EQ(phone->ntfy(l, "L/hu"), 200);
    EXPECT_TRUE(eventually([&] {
      auto s = calls.context->snapshot(l);
      return s && s->state == actors::line_state::idle;
    }));
  }
};

TEST_F(trunks_udp_test, offnet_call_reaches_the_partner_gateway_and_connects_on_pstn_answer) {
  auto& p1 = *gateways.at("gw-p1.example");
  auto crcx = place_call("12125550100", p1, 0);
  EXPECT_EQ(crcx.endpoint, "ds/ds1-1/1@gw-p1.example");
  ASSERT_NE(crcx.param("S"), nullptr);
  EXPECT_EQ(*crcx.param("S"), "X-TR/sup(12125550100,5551011)");
  auto l = phone->line(1);
  ASSERT_TRUE(phone->wait_for(l, [](auto& v) { return v.s == "L/rt"; }));
  EXPECT_EQ(p1.ntfy(crcx.endpoint, "X-TR/ans"), 200);
  ASSERT_TRUE(eventually([&] {
    auto s = calls.context->snapshot(l);
    return s && s->state == actors::line_state::in_call;
  }));
  EXPECT_EQ(p1.ntfy(crcx.endpoint, "X-TR/rel(16)"), 200);
  ASSERT_TRUE(eventually([&] { return !p1.received(mgcp::verb::dlcx).empty(); }));
  // The far end left: the line is armed for the hang-up (reorder). The subscriber hangs up under
  // that request; an NTFY under the call's older X is stale and ignored (a real MTA would then
  // answer the new request 402, which this test MTA does not model).
  ASSERT_TRUE(phone->wait_for(l, [](auto& v) { return v.r == "L/hu(N)"; }));
  hang_up_and_wait_idle();
  ASSERT_TRUE(eventually([&] {
    auto s = trunks.context->snapshot("p1");
    return s && trunks::channel_counts(*s)["idle"] == 4;
  }));
}

TEST_F(trunks_udp_test, primary_link_down_sends_the_next_call_to_the_local_segment) {
  links::link_status down;
  down.link = "dl-primary";
  down.kind = "primary";
  down.state = links::link_state::down;
  caf::anon_send(trunks.context->router(), atom::link_changed_v, down);
  ASSERT_TRUE(eventually([&] { return !trunks.context->primary_up(); }));
  auto& l1 = *gateways.at("gw-l1.example");
  auto crcx = place_call("12125550100", l1, 0);
  EXPECT_EQ(crcx.endpoint, "ds/ds1-1/1@gw-l1.example");
  EXPECT_TRUE(gateways.at("gw-p1.example")->received(mgcp::verb::crcx).empty());
  hang_up_and_wait_idle();
}

TEST_F(trunks_udp_test, dead_gateway_is_replaced_by_its_cold_spare_and_new_calls_succeed) {
  auto& l1 = *gateways.at("gw-l1.example");
  auto& l9 = *gateways.at("gw-l9.example");
  // Keepalives reach every gateway.
  ASSERT_TRUE(eventually([&] { return !l1.received(mgcp::verb::auep).empty(); }));
  l1.silent(true);
  ASSERT_TRUE(eventually([&] { return facility_gateway("l1") == "gw-l9.example"; }))
    << "spare not promoted";
  // Local-segment calls (primary down) now go through the spare.
  links::link_status down;
  down.kind = "primary";
  down.link = "dl-primary";
  down.state = links::link_state::down;
  caf::anon_send(trunks.context->router(), atom::link_changed_v, down);
  ASSERT_TRUE(eventually([&] { return !trunks.context->primary_up(); }));
  auto crcx = place_call("12125550100", l9, 0);
  EXPECT_EQ(crcx.endpoint, "ds/ds1-1/1@gw-l9.example");
  EXPECT_EQ(l9.ntfy(crcx.endpoint, "X-TR/ans"), 200);
  ASSERT_TRUE(eventually([&] {
    auto s = calls.context->snapshot(phone->line(1));
    return s && s->state == actors::line_state::in_call;
  }));
  hang_up_and_wait_idle();
  // The home gateway comes back (answers keepalives): the idle facility goes home.
  l1.silent(false);
  ASSERT_TRUE(eventually([&] { return facility_gateway("l1") == "gw-l1.example"; }));
  EXPECT_EQ(registry.value("cms_trunk_promotions_total", {{"facility", "l1"}}), 1);
}

TEST_F(trunks_udp_test, incoming_pstn_call_rings_the_line) {
  auto& l1 = *gateways.at("gw-l1.example");
  auto l = phone->line(1);
  ASSERT_TRUE(eventually([&] {
    auto s = calls.context->snapshot(l);
    return s && s->state == actors::line_state::idle;
  }));
  EXPECT_EQ(l1.ntfy("ds/ds1-1/4@gw-l1.example", "X-TR/sup(5551011,2125550100)"), 200);
  ASSERT_TRUE(phone->wait_for(l, [](auto& v) { return v.s == "L/rg"; }));
  EXPECT_EQ(phone->ntfy(l, "L/hd"), 200);
  ASSERT_TRUE(eventually([&] {
    for (auto& c : l1.received(mgcp::verb::rqnt))
      if (c.param("S") && *c.param("S") == "X-TR/ans")
        return true;
    return false;
  }));
  EXPECT_EQ(l1.ntfy("ds/ds1-1/4@gw-l1.example", "X-TR/rel(16)"), 200);
  ASSERT_TRUE(eventually([&] { return !l1.received(mgcp::verb::dlcx).empty(); }));
}

} // namespace

namespace {

/// Emergency calls over UDP (docs/services.md): the gate sheds every attempt after the first.
class emergency_udp_test : public trunks_udp_test {
protected:
  emergency_udp_test() { call_rate = 0.001; }

  bool line_state_is(const std::string& l, actors::line_state want) {
    return eventually([&] {
      auto s = calls.context->snapshot(l);
      return s && s->state == want;
    });
  }
};

TEST_F(emergency_udp_test, a_911_during_overload_completes_while_ordinary_attempts_are_shed) {
  auto first = phone->line(1), second = phone->line(2);
  ASSERT_TRUE(eventually([&] { return phone->rsip(second) == 200; }));
  ASSERT_TRUE(line_state_is(second, actors::line_state::idle));
  // Somebody else's attempt took the gate's only token.
  ASSERT_EQ(calls.context->admission.admit(), actors::call_admission::verdict::admitted);
  auto& l1 = *gateways.at("gw-l1.example");
  auto& p1 = *gateways.at("gw-p1.example");

  // An ordinary attempt is shed: window dial tone, an ordinary number, reorder, no seizure.
  EXPECT_EQ(phone->ntfy(second, "L/hd"), 200);
  ASSERT_TRUE(phone->wait_for(second, [](auto& v) { return v.s == "L/dl" && v.d == "(911)"; }));
  EXPECT_EQ(phone->ntfy(second, "D/12125550100"), 200);
  ASSERT_TRUE(phone->wait_for(second, [](auto& v) { return v.s == "L/ro"; }));
  EXPECT_TRUE(p1.received(mgcp::verb::crcx).empty());

  // The 911 caller is shed as well, but the window takes the emergency code.
  EXPECT_EQ(phone->ntfy(first, "L/hd"), 200);
  ASSERT_TRUE(phone->wait_for(first, [](auto& v) { return v.s == "L/dl" && v.d == "(911)"; }));
  EXPECT_EQ(phone->ntfy(first, "D/911"), 200);
  ASSERT_TRUE(eventually([&] { return !l1.received(mgcp::verb::crcx).empty(); }));
  auto crcx = l1.received(mgcp::verb::crcx).back();
  ASSERT_NE(crcx.param("S"), nullptr);
  EXPECT_EQ(*crcx.param("S"), "X-TR/sup(911,5551011)");
  ASSERT_TRUE(phone->wait_for(first, [](auto& v) { return v.s == "L/rt"; }));
  EXPECT_EQ(l1.ntfy(crcx.endpoint, "X-TR/ans"), 200);
  ASSERT_TRUE(line_state_is(first, actors::line_state::in_call));
  EXPECT_EQ(registry.value("cms_emergency_calls_total"), 1);
  EXPECT_EQ(registry.value("cms_calls_shed_total", {{"reason", "overload"}}), 2);

  // Network hold: the caller hangs up, the line rings, the PSAP keeps the call.
  EXPECT_EQ(phone->ntfy(first, "L/hu"), 200);
  ASSERT_TRUE(phone->wait_for(first, [](auto& v) { return v.s == "L/rg"; }));
  EXPECT_TRUE(l1.received(mgcp::verb::dlcx).empty());
  EXPECT_EQ(phone->view(first).connections.size(), 1u);
  // Picks up: talking again.
  EXPECT_EQ(phone->ntfy(first, "L/hd"), 200);
  ASSERT_TRUE(phone->wait_for(first, [](auto& v) { return v.r == "L/hu(N),L/hf(N)"; }));
  ASSERT_TRUE(line_state_is(first, actors::line_state::in_call));
  // The PSAP releases: the call ends.
  EXPECT_EQ(l1.ntfy(crcx.endpoint, "X-TR/rel(16)"), 200);
  ASSERT_TRUE(eventually([&] { return !l1.received(mgcp::verb::dlcx).empty(); }));
  ASSERT_TRUE(phone->wait_for(first, [](auto& v) { return v.r == "L/hu(N)"; }));
  hang_up_and_wait_idle();
}

} // namespace
