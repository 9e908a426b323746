// Calls through a CMTS with DQoS, over the real interfaces: call control under the real
// supervisor with the real MGCP agent and test MTAs on loopback UDP, the gate controller actor
// (actors/qos) with its COPS session to a real cmtssim process over loopback TCP. The simulator's
// control interface says which gates exist; the MTAs record the L: of every CRCX.

#include "actors/billing/event_messages.hpp"
#include "actors/calls/call_control.hpp"
#include "actors/qos/gate_control.hpp"
#include "actors/supervision/supervisor.hpp"
#include "actors/type_ids.hpp"
#include "integration/cops/cops_rig.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "persistence/provisioning.hpp"
#include "support/eventually.hpp"
#include "test_mta.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <filesystem>
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

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
  return cms::test::eventually(pred, limit, 5ms);
}

/// "p:20, a:PCMU, dq-gi:1a2b" -> 0x1a2b; 0 without dq-gi.
std::uint32_t dq_gi(const std::string& options) {
  auto at = options.find("dq-gi:");
  if (at == std::string::npos)
    return 0;
  return static_cast<std::uint32_t>(std::stoul(options.substr(at + 6), nullptr, 16));
}

class dqos_call_test : public ::testing::Test {
protected:
  std::filesystem::path dir;
  std::filesystem::path db_file;
  metrics::registry registry;
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::thread io_thread;
  std::unique_ptr<mgcp::agent> agent;
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  actors::call_control calls;
  qos::gate_control gates;
  caf::actor root;
  std::unique_ptr<cops::test::cmtssim_process> cmts;
  std::vector<std::unique_ptr<test::test_mta>> phones;

  /// The MTAs are all on 127.0.0.1: `dqos` says whether that CMTS gives them gates.
  virtual bool dqos() { return true; }

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("cms-dqos-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db_file = dir / "cms.db";
    cmts = std::make_unique<cops::test::cmtssim_process>(dir);
    std::vector<persistence::subscriber> lines;
    {
      auto db = persistence::database::open(db_file);
      auto st = db.prepare("INSERT INTO subscribers (directory_number, endpoint_name, mta_fqdn, "
                           "mta_address) VALUES (?, ?, ?, '127.0.0.1')");
      for (int m = 1; m <= 2; ++m) {
        st.bind_all("55510" + std::to_string(m) + "1",
                    "aaln/1@mta-" + std::to_string(m) + ".example",
                    "mta-" + std::to_string(m) + ".example");
        st.run();
        st.reset();
      }
      lines = persistence::provisioning_store{db}.subscribers();
    }
    mgcp::agent_config ac;
    ac.bind_address = "127.0.0.1";
    ac.port = 0;
    ac.timers.initial = 50ms;
    ac.timers.max = 200ms;
    agent = std::make_unique<mgcp::agent>(io, ac, registry);
    work.emplace(io.get_executor());
    sys = std::make_unique<caf::actor_system>(cfg);
    agent->start();
    actors::call_control_options opts;
    opts.settings.notified_entity =
      "ca@[127.0.0.1]:" + std::to_string(agent->local_endpoint().port());
    opts.settings.on_net_prefixes = {"555"};
    opts.settings.no_answer_timeout = 5s;
    opts.settings.dial_timeout = 5s;
    opts.settings.line_request_timeout = 10s;
    opts.settings.mgcp_request_timeout = 8s;
    opts.lines = lines;
    opts.billing = [file = db_file] { return actors::make_sqlite_billing_writer(file); };
    calls = actors::make_call_control(*agent, std::move(opts), registry);

    persistence::cmts row;
    row.name = "cmts-1";
    row.address = "127.0.0.1";
    row.port = cmts->cops_port();
    row.dqos = dqos();
    row.subnets = {"127.0.0.0/8"};
    config::node_config node;
    node.node.id = "cms-it";
    node.billing.rks_primary = config::host_port{"127.0.0.1", 1813};
    node.dqos.reconnect_max = 1000ms;
    gates = qos::make_gate_control(
      {row}, node, io, [] { return caf::actor{}; }, registry);
    calls.context->gates = gates.directory;
    auto children = calls.children;
    children.insert(children.end(), gates.children.begin(), gates.children.end());

    io_thread = std::thread{[this] { io.run(); }};
    root = sys->spawn(actors::supervisor, std::string{"root"}, children,
                      actors::restart_intensity{}, &registry);
    ASSERT_TRUE(eventually([&] { return calls.context->directory.size() == lines.size(); }));
    if (dqos()) {
      ASSERT_TRUE(eventually([&] { return static_cast<bool>(controller()); }));
      caf::anon_send(controller(), atom::role_changed_v, ha::role::active, std::uint64_t{1});
      ASSERT_TRUE(eventually([&] {
        return registry.value("cms_dqos_cmts_ready", {{"cmts", "cmts-1"}}) == 1;
      }));
    }
    for (int m = 1; m <= 2; ++m)
      phones.push_back(std::make_unique<test::test_mta>(io, "mta-" + std::to_string(m) + ".example",
                                                        agent->local_endpoint()));
    for (auto& p : phones) {
      ASSERT_EQ(p->rsip(p->line(1)), 200);
      ASSERT_TRUE(p->wait_for(p->line(1), [](auto& v) { return v.r == "L/hd(N)"; }));
    }
  }

  void TearDown() override {
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    root = nullptr;
    calls.shutdown();
    boost::asio::post(io, [this] {
      for (auto& p : phones)
        p->agent().stop();
      agent->stop();
    });
    sys.reset();
    work.reset();
    io.stop();
    io_thread.join();
    phones.clear();
    agent.reset();
    cmts.reset();
    std::filesystem::remove_all(dir);
  }

  caf::actor controller() { return gates.directory->controller("cmts-1"); }

  actors::endpoint_state line(const std::string& name) {
    auto s = calls.context->snapshot(name);
    return s ? *s : actors::endpoint_state{};
  }

  /// The simulator's gates by id.
  std::map<std::uint32_t, boost::json::object> cmts_gates() {
    std::map<std::uint32_t, boost::json::object> out;
    for (auto& g : cmts->gates()) {
      auto& o = g.as_object();
      out[static_cast<std::uint32_t>(o.at("gate_id").to_number<std::uint64_t>())] = o;
    }
    return out;
  }

  std::vector<billing::billing_record> rows_of(const std::string& call_id) {
    std::vector<billing::billing_record> mine;
    eventually([&] {
      auto db = persistence::database::open(db_file);
      mine.clear();
      for (auto& r : persistence::outbox{db}.pending(1000))
        if (r.call_id == call_id)
          mine.push_back(r);
      return !mine.empty() && mine.back().event == "signaling_stop";
    });
    return mine;
  }

  /// mta-1 calls mta-2; returns the call id once the callee rings.
  std::string call_and_ring() {
    auto& a = *phones[0];
    auto& b = *phones[1];
    EXPECT_EQ(a.ntfy(a.line(1), "L/hd"), 200);
    EXPECT_TRUE(a.wait_for(a.line(1), [](auto& v) { return v.s == "L/dl"; }));
    auto call_id = line(a.line(1)).call_id;
    EXPECT_EQ(a.ntfy(a.line(1), "D/5551021"), 200);
    EXPECT_TRUE(b.wait_for(b.line(1), [](auto& v) { return v.s == "L/rg"; }));
    return call_id;
  }

  void answer_and_connect() {
    auto& a = *phones[0];
    auto& b = *phones[1];
    EXPECT_EQ(b.ntfy(b.line(1), "L/hd"), 200);
    EXPECT_TRUE(eventually([&] { return line(a.line(1)).state == actors::line_state::in_call; }));
  }

  void hang_up_both() {
    auto& a = *phones[0];
    auto& b = *phones[1];
    EXPECT_EQ(a.ntfy(a.line(1), "L/hu"), 200);
    EXPECT_TRUE(eventually([&] { return line(a.line(1)).state == actors::line_state::idle; }));
    if (line(b.line(1)).hook_off) {
      EXPECT_EQ(b.ntfy(b.line(1), "L/hu"), 200);
    }
    EXPECT_TRUE(eventually([&] { return line(b.line(1)).state == actors::line_state::idle; }));
  }
};

TEST_F(dqos_call_test, each_half_call_has_a_gate_before_its_crcx_and_none_after_release) {
  auto call_id = call_and_ring();
  auto& a = *phones[0];
  auto& b = *phones[1];
  auto orig_gate = dq_gi(a.view(a.line(1)).crcx_options);
  auto term_gate = dq_gi(b.view(b.line(1)).crcx_options);
  ASSERT_NE(orig_gate, 0u) << a.view(a.line(1)).crcx_options;
  ASSERT_NE(term_gate, 0u) << b.view(b.line(1)).crcx_options;
  EXPECT_NE(orig_gate, term_gate);
  auto on_cmts = cmts_gates();
  ASSERT_EQ(on_cmts.size(), 2u);
  ASSERT_TRUE(on_cmts.count(orig_gate));
  ASSERT_TRUE(on_cmts.count(term_gate));
  EXPECT_EQ(on_cmts[orig_gate].at("subscriber").as_string(), "127.0.0.1");
  answer_and_connect();
  hang_up_both();
  EXPECT_TRUE(eventually([&] { return cmts_gates().empty(); }));
  auto rows = rows_of(call_id);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().release_cause, 16);
  // Each gate carries its half-call's BCID exactly as the call's event messages number it (from
  // the signaling_start record's sequence), so the CMTS's QoS EMs correlate with ours.
  ASSERT_EQ(rows.front().event, "signaling_start");
  billing::em_identity who{gates.directory->element_id(), gates.directory->time_zone(), {}};
  auto expected = [&](bool terminating) {
    return billing::half_call_bcid(who, rows.front().sequence, rows.front().timestamp_ms,
                                   terminating)
      .hex();
  };
  ASSERT_TRUE(on_cmts[orig_gate].contains("event_generation"));
  EXPECT_EQ(on_cmts[orig_gate].at("event_generation").at("bcid").as_string(), expected(false));
  EXPECT_EQ(on_cmts[term_gate].at("event_generation").at("bcid").as_string(), expected(true));
  auto c = cmts->control({{"cmd", "report"}}).at("report").as_object();
  EXPECT_EQ(c.at("leaked").to_number<std::int64_t>(), 0);
  EXPECT_EQ(c.at("gates_deleted").to_number<std::int64_t>(), 2);
}

TEST_F(dqos_call_test, a_gate_set_error_refuses_the_call_with_cause_47_and_reorder) {
  cmts->control({{"cmd", "fail_sets"}, {"count", 1}, {"code", 1}});
  auto& a = *phones[0];
  EXPECT_EQ(a.ntfy(a.line(1), "L/hd"), 200);
  ASSERT_TRUE(a.wait_for(a.line(1), [](auto& v) { return v.s == "L/dl"; }));
  auto call_id = line(a.line(1)).call_id;
  EXPECT_EQ(a.ntfy(a.line(1), "D/5551021"), 200);
  ASSERT_TRUE(a.wait_for(a.line(1), [](auto& v) { return v.s == "L/ro"; }));
  EXPECT_TRUE(a.view(a.line(1)).crcx_options.empty()); // no media was offered
  auto rows = rows_of(call_id);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().event, "signaling_stop");
  EXPECT_EQ(rows.back().release_cause, 47);
  EXPECT_TRUE(cmts_gates().empty());
}

TEST_F(dqos_call_test, an_unsolicited_gate_close_releases_the_call_and_bills_it) {
  auto call_id = call_and_ring();
  answer_and_connect();
  auto& a = *phones[0];
  auto gate = dq_gi(a.view(a.line(1)).crcx_options);
  auto r = cmts->control({{"cmd", "close_gate"}, {"gate_id", gate}, {"subcode", 7}});
  ASSERT_TRUE(r.at("ok").as_bool());
  auto rows = rows_of(call_id);
  ASSERT_GE(rows.size(), 3u);
  EXPECT_EQ(rows[1].event, "call_answer");
  EXPECT_EQ(rows.back().event, "signaling_stop");
  EXPECT_EQ(rows.back().release_cause, 47);
  EXPECT_TRUE(eventually([&] { return cmts_gates().empty(); })); // the other half's gate too
}

TEST_F(dqos_call_test, a_lost_cmts_connection_is_audited_live_gates_kept_ended_ones_deleted) {
  call_and_ring();
  answer_and_connect();
  ASSERT_EQ(cmts_gates().size(), 2u);
  // The connection drops: the live call's gates survive the reconnection's audit.
  cmts->control({{"cmd", "drop"}});
  ASSERT_TRUE(eventually([&] {
    return registry.value("cms_dqos_audits_total", {{"cmts", "cmts-1"}}) >= 2 &&
           registry.value("cms_dqos_cmts_ready", {{"cmts", "cmts-1"}}) == 1;
  }));
  EXPECT_EQ(cmts_gates().size(), 2u);
  // Dropped again, and the call ends while the session waits out its reconnection back-off (1 s):
  // the deletes wait for the next connection, whose audit sends them.
  cmts->control({{"cmd", "drop"}});
  hang_up_both();
  EXPECT_TRUE(eventually([&] { return cmts_gates().empty(); }, 20s));
  EXPECT_GE(registry.value("cms_dqos_audits_total", {{"cmts", "cmts-1"}}), 3);
}

class best_effort_test : public dqos_call_test {
protected:
  bool dqos() override { return false; }
};

TEST_F(best_effort_test, an_mta_behind_a_cmts_without_dqos_gets_no_gate) {
  call_and_ring();
  auto& a = *phones[0];
  EXPECT_FALSE(a.view(a.line(1)).crcx_options.empty());
  EXPECT_EQ(dq_gi(a.view(a.line(1)).crcx_options), 0u);
  EXPECT_TRUE(cmts_gates().empty());
  answer_and_connect();
  hang_up_both();
}

} // namespace
