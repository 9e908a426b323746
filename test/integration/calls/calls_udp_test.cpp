// Call processing over real UDP: a threaded actor system, the real MGCP agent on 127.0.0.1:0,
// call_control under the real supervisor, a temporary SQLite store provisioned with lines (read
// back through provisioning_store) and billing written to its outbox; MTAs simulated by
// test_mta (real agents on their own sockets).

#include "support/eventually.hpp"
#include "actors/calls/call_control.hpp"
#include "actors/calls/call_manager.hpp"
#include "actors/calls/endpoint_protocol.hpp"
#include "actors/supervision/supervisor.hpp"
#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "persistence/provisioning.hpp"
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

/// Waits up to 15 s: a line's first RSIP can race call control's start under a loaded CI.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
  return cms::test::eventually(pred, limit, 5ms);
}

class calls_udp_test : public ::testing::Test {
protected:
  static constexpr int mtas = 2;

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
  caf::actor root;
  std::vector<std::unique_ptr<test::test_mta>> phones;

  /// Lines to provision: (directory number, endpoint, mta domain).
  virtual void provision(persistence::database& db) {
    auto st = db.prepare("INSERT INTO subscribers (directory_number, endpoint_name, mta_fqdn, "
                         "mta_address) VALUES (?, ?, ?, '127.0.0.1')");
    for (int m = 1; m <= mtas; ++m)
      for (int l = 1; l <= 2; ++l) {
        st.bind_all("55510" + std::to_string(m) + std::to_string(l),
                    "aaln/" + std::to_string(l) + "@mta-" + std::to_string(m) + ".example",
                    "mta-" + std::to_string(m) + ".example");
        st.run();
        st.reset();
      }
  }

  /// Short NCS timers so a dead MTA is declared within about a second.
  virtual mgcp::transaction_timers timers() {
    mgcp::transaction_timers t;
    t.initial = 50ms;
    t.max = 200ms;
    t.max1 = 2;
    t.max2 = 4;
    return t;
  }

  virtual actors::call_settings settings() {
    actors::call_settings s;
    s.notified_entity = "ca@[127.0.0.1]:" + std::to_string(agent->local_endpoint().port());
    s.on_net_prefixes = {"555"};
    s.no_answer_timeout = 1500ms;
    s.dial_timeout = 1500ms;
    s.in_call_audit_interval = 300ms;
    s.line_request_timeout = 10s;
    s.mgcp_request_timeout = 8s;
    return s;
  }

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("cms-calls-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db_file = dir / "cms.db";
    std::vector<persistence::subscriber> lines;
    {
      auto db = persistence::database::open(db_file);
      provision(db);
      lines = persistence::provisioning_store{db}.subscribers();
    }
    mgcp::agent_config ac;
    ac.bind_address = "127.0.0.1";
    ac.port = 0;
    ac.timers = timers();
    agent = std::make_unique<mgcp::agent>(io, ac, registry);
    work.emplace(io.get_executor());
    sys = std::make_unique<caf::actor_system>(cfg);
    agent->start();
    actors::call_control_options opts;
    opts.settings = settings();
    opts.lines = lines;
    opts.billing = [file = db_file] { return actors::make_sqlite_billing_writer(file); };
    calls = actors::make_call_control(*agent, std::move(opts), registry);
    io_thread = std::thread{[this] { io.run(); }};
    root = sys->spawn(actors::supervisor, std::string{"root"}, calls.children,
                      actors::restart_intensity{}, &registry);
    ASSERT_TRUE(eventually([&] { return calls.context->directory.size() == lines.size(); }));
    for (int m = 1; m <= mtas; ++m)
      phones.push_back(std::make_unique<test::test_mta>(io, "mta-" + std::to_string(m) + ".example",
                                                        agent->local_endpoint()));
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
    work.reset();
    io_thread.join();
    sys.reset(); // waits for every actor
    phones.clear();
    agent.reset();
    std::filesystem::remove_all(dir);
  }

  actors::endpoint_state line(const std::string& name) {
    auto s = calls.context->snapshot(name);
    return s ? *s : actors::endpoint_state{};
  }

  bool line_in(const std::string& name, actors::line_state st) {
    return eventually([&] { return line(name).state == st; });
  }

  void register_line(test::test_mta& mta, int n) {
    ASSERT_EQ(mta.rsip(mta.line(n)), 200);
    ASSERT_TRUE(line_in(mta.line(n), actors::line_state::idle)) << mta.line(n);
    ASSERT_TRUE(mta.wait_for(mta.line(n), [](auto& v) { return v.r == "L/hd(N)"; }));
  }

  /// Outbox rows once every listed call has its signaling_stop committed.
  std::vector<billing::billing_record> billing_rows(std::vector<std::string> ended_calls) {
    std::vector<billing::billing_record> rows;
    eventually([&] {
      auto db = persistence::database::open(db_file);
      rows = persistence::outbox{db}.pending(1000);
      for (auto& id : ended_calls) {
        auto mine = of_call(rows, id);
        if (mine.empty() || mine.back().event != "signaling_stop")
          return false;
      }
      return true;
    });
    return rows;
  }

  static std::vector<billing::billing_record>
  of_call(const std::vector<billing::billing_record>& rows, const std::string& call_id) {
    std::vector<billing::billing_record> out;
    for (auto& r : rows)
      if (r.call_id == call_id)
        out.push_back(r);
    return out;
  }

  /// 1@mta-1 goes off hook and dials `number`; returns the call id.
  std::string dial(const std::string& number) {
    auto& a = *phones[0];
    auto la = a.line(1);
    EXPECT_EQ(a.ntfy(la, "L/hd"), 200);
    EXPECT_TRUE(a.wait_for(la, [](auto& v) { return v.s == "L/dl"; }));
    auto call_id = line(la).call_id;
    EXPECT_FALSE(call_id.empty());
    EXPECT_FALSE(a.view(la).d.empty()); // the digit map came with dial tone
    EXPECT_EQ(a.ntfy(la, "D/" + number), 200);
    return call_id;
  }
};

TEST_F(calls_udp_test, basic_call_over_udp_ends_with_billing_rows_in_sqlite) {
  auto& a = *phones[0];
  auto& b = *phones[1];
  register_line(a, 1);
  register_line(b, 1);
  auto la = a.line(1), lb = b.line(1);
  auto call_id = dial("5551021");
  ASSERT_TRUE(b.wait_for(lb, [](auto& v) { return v.s == "L/rg"; }));
  ASSERT_TRUE(a.wait_for(la, [](auto& v) { return v.s == "L/rt"; }));
  EXPECT_EQ(a.view(la).connections.size(), 1u);
  EXPECT_EQ(b.view(lb).connections.size(), 1u);
  EXPECT_EQ(b.ntfy(lb, "L/hd"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::in_call));
  ASSERT_TRUE(line_in(lb, actors::line_state::in_call));
  EXPECT_EQ(a.ntfy(la, "L/hu"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::idle));
  ASSERT_TRUE(eventually([&] { return b.view(lb).connections.empty(); }));
  EXPECT_TRUE(a.view(la).connections.empty());
  EXPECT_EQ(b.ntfy(lb, "L/hu"), 200);
  ASSERT_TRUE(line_in(lb, actors::line_state::idle));
  auto rows = of_call(billing_rows({call_id}), call_id);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].event, "signaling_start");
  EXPECT_EQ(rows[1].event, "call_answer");
  EXPECT_EQ(rows[2].event, "signaling_stop");
  EXPECT_EQ(rows[2].release_cause, 16);
  EXPECT_EQ(rows[2].called_number, "5551021");
  EXPECT_NE(rows[2].connection_stats.find("PS=50"), std::string::npos);
  EXPECT_LT(rows[0].sequence, rows[2].sequence);
  EXPECT_EQ(registry.value("cms_calls_active"), 0);
}

TEST_F(calls_udp_test, busy_unknown_and_no_answer) {
  auto& a = *phones[0];
  auto& b = *phones[1];
  register_line(a, 1);
  register_line(b, 1);
  auto la = a.line(1), lb = b.line(1);
  // Busy: B is off hook.
  EXPECT_EQ(b.ntfy(lb, "L/hd"), 200);
  ASSERT_TRUE(line_in(lb, actors::line_state::dialling));
  auto busy = dial("5551021");
  ASSERT_TRUE(a.wait_for(la, [](auto& v) { return v.s == "L/bz"; }));
  EXPECT_EQ(a.ntfy(la, "L/hu"), 200);
  EXPECT_EQ(b.ntfy(lb, "L/hu"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::idle));
  ASSERT_TRUE(line_in(lb, actors::line_state::idle));
  // Unknown on-net number.
  auto unknown = dial("5559999");
  ASSERT_TRUE(a.wait_for(la, [](auto& v) { return v.s == "L/ro"; }));
  EXPECT_EQ(a.ntfy(la, "L/hu"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::idle));
  // No answer within the configured 1.5 s.
  auto unanswered = dial("5551021");
  ASSERT_TRUE(b.wait_for(lb, [](auto& v) { return v.s == "L/rg"; }));
  ASSERT_TRUE(a.wait_for(
    la, [](auto& v) { return v.s == "L/ro"; }, 10s));
  ASSERT_TRUE(line_in(lb, actors::line_state::idle));
  EXPECT_TRUE(b.view(lb).connections.empty());
  auto rows = billing_rows({busy, unknown, unanswered});
  EXPECT_EQ(of_call(rows, busy).back().release_cause, 17);
  EXPECT_EQ(of_call(rows, unknown).back().release_cause, 1);
  EXPECT_EQ(of_call(rows, unanswered).back().release_cause, 19);
}

TEST_F(calls_udp_test, abandon_and_partial_dial) {
  auto& a = *phones[0];
  auto& b = *phones[1];
  register_line(a, 1);
  register_line(b, 1);
  auto la = a.line(1), lb = b.line(1);
  auto abandoned = dial("5551021");
  ASSERT_TRUE(b.wait_for(lb, [](auto& v) { return v.s == "L/rg"; }));
  // Like an NCS MTA in lockstep mode, report the hang-up under the ringback request's X.
  ASSERT_TRUE(a.wait_for(la, [](auto& v) { return v.s == "L/rt"; }));
  EXPECT_EQ(a.ntfy(la, "L/hu"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::idle));
  ASSERT_TRUE(line_in(lb, actors::line_state::idle));
  auto partial = dial("555T");
  ASSERT_TRUE(a.wait_for(la, [](auto& v) { return v.s == "L/ro"; }));
  EXPECT_EQ(a.ntfy(la, "L/hu"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::idle));
  // Off hook and nothing dialled: the call agent's own timer (1.5 s here).
  EXPECT_EQ(a.ntfy(la, "L/hd"), 200);
  ASSERT_TRUE(a.wait_for(la, [](auto& v) { return v.s == "L/dl"; }));
  auto silent = line(la).call_id;
  ASSERT_TRUE(a.wait_for(
    la, [](auto& v) { return v.s == "L/ro"; }, 10s));
  auto rows = billing_rows({abandoned, partial, silent});
  EXPECT_EQ(of_call(rows, abandoned).back().release_cause, 16);
  EXPECT_EQ(of_call(rows, partial).back().release_cause, 28);
  EXPECT_EQ(of_call(rows, silent).back().release_cause, 28);
}

TEST_F(calls_udp_test, mta_that_stops_answering_mid_call_is_torn_down_cleanly) {
  auto& a = *phones[0];
  auto& b = *phones[1];
  register_line(a, 1);
  register_line(b, 1);
  auto la = a.line(1), lb = b.line(1);
  auto call_id = dial("5551021");
  ASSERT_TRUE(b.wait_for(lb, [](auto& v) { return v.s == "L/rg"; }));
  EXPECT_EQ(b.ntfy(lb, "L/hd"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::in_call));
  b.silent = true; // B's MTA dies; the in-call audit (300 ms) notices after Max2
  ASSERT_TRUE(line_in(lb, actors::line_state::disconnected));
  ASSERT_TRUE(eventually([&] { return a.view(la).connections.empty(); }));
  ASSERT_TRUE(line_in(la, actors::line_state::off_hook)); // A waits for its hang-up
  auto rows = billing_rows({call_id});
  ASSERT_EQ(of_call(rows, call_id).size(), 3u);
  EXPECT_EQ(of_call(rows, call_id).back().release_cause, 41);
  EXPECT_EQ(registry.value("cms_calls_active"), 0);
  // B comes back (NCS disconnected procedure) and is usable.
  b.silent = false;
  EXPECT_EQ(b.rsip(lb, "disconnected"), 200);
  ASSERT_TRUE(eventually([&] {
    auto s = line(lb).state;
    return s == actors::line_state::idle || s == actors::line_state::off_hook;
  }));
}

TEST_F(calls_udp_test, spoofed_ntfy_is_refused_and_drives_nothing) {
  auto& a = *phones[0];
  register_line(a, 1);
  auto la = a.line(1);
  // Another socket on the same host claims to be mta-1 and knows the armed X.
  test::test_mta spoofer{io, a.domain(), agent->local_endpoint()};
  EXPECT_EQ(spoofer.send(la, mgcp::verb::ntfy, {{"X", a.view(la).x}, {"O", "L/hd"}}), 500);
  EXPECT_EQ(registry.value("cms_mgcp_spoofed_total"), 1);
  EXPECT_EQ(line(la).state, actors::line_state::idle);
  EXPECT_TRUE(line(la).call_id.empty());
  EXPECT_EQ(registry.value("cms_calls_active"), 0);
  // An endpoint nobody provisioned is refused by the edge itself.
  EXPECT_EQ(a.rsip("aaln/9@mta-1.example"), 500);
  boost::asio::post(io, [&] { spoofer.agent().stop(); });
  eventually([] { return false; }, 50ms);
}

TEST_F(calls_udp_test, crashed_call_actor_is_contained_and_the_node_keeps_serving) {
  auto& a = *phones[0];
  auto& b = *phones[1];
  register_line(a, 1);
  register_line(b, 1);
  auto la = a.line(1), lb = b.line(1);
  auto call_id = dial("5551021");
  ASSERT_TRUE(b.wait_for(lb, [](auto& v) { return v.s == "L/rg"; }));
  EXPECT_EQ(b.ntfy(lb, "L/hd"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::in_call));
  caf::scoped_actor self{*sys};
  caf::actor call;
  self->request(calls.context->manager(), 5s, atom::lookup_v, call_id)
    .receive([&](caf::actor& h) { call = h; }, [&](caf::error& e) { FAIL() << sys->render(e); });
  ASSERT_TRUE(call);
  self->send_exit(call, caf::exit_reason::unhandled_exception);
  ASSERT_TRUE(
    eventually([&] { return a.view(la).connections.empty() && b.view(lb).connections.empty(); }));
  ASSERT_TRUE(a.wait_for(la, [](auto& v) { return v.r == "L/hu(N)"; }));
  EXPECT_EQ(a.ntfy(la, "L/hu"), 200);
  EXPECT_EQ(b.ntfy(lb, "L/hu"), 200);
  ASSERT_TRUE(line_in(la, actors::line_state::idle));
  ASSERT_TRUE(line_in(lb, actors::line_state::idle));
  auto rows = billing_rows({call_id});
  EXPECT_EQ(of_call(rows, call_id).back().release_cause, 41);
  // The next call works.
  auto next = dial("5551021");
  ASSERT_TRUE(b.wait_for(lb, [](auto& v) { return v.s == "L/rg"; }));
  EXPECT_NE(next, call_id);
}

class rsip_storm_test : public calls_udp_test {
protected:
  /// The NCS defaults: a loaded 2-core machine must not make a live MTA look dead.
  mgcp::transaction_timers timers() override { return {}; }

  void provision(persistence::database& db) override {
    auto st = db.prepare("INSERT INTO subscribers (directory_number, endpoint_name, mta_fqdn, "
                         "mta_address) VALUES (?, ?, ?, '127.0.0.1')");
    persistence::transaction tx{db};
    for (int m = 1; m <= 250; ++m)
      for (int l = 1; l <= 4; ++l) {
        auto domain = "mta-" + std::to_string(m) + ".example";
        st.bind_all(std::to_string(6000000 + m * 10 + l),
                    "aaln/" + std::to_string(l) + "@" + domain, domain);
        st.run();
        st.reset();
      }
    tx.commit();
  }
};

TEST_F(rsip_storm_test, a_thousand_lines_register_at_once_with_wildcard_rsips) {
  // 250 MTAs with 4 lines each restart together: one wildcard RSIP per MTA, all in flight at once.
  std::vector<std::unique_ptr<test::test_mta>> fleet;
  for (int m = 1; m <= 250; ++m)
    fleet.push_back(std::make_unique<test::test_mta>(io, "mta-" + std::to_string(m) + ".example",
                                                     agent->local_endpoint()));
  std::vector<std::future<int>> answers;
  for (auto& mta : fleet)
    answers.push_back(
      std::async(std::launch::async, [&mta] { return mta->rsip("*@" + mta->domain()); }));
  for (auto& f : answers)
    EXPECT_EQ(f.get(), 200);
  ASSERT_TRUE(eventually([&] { return registry.value("cms_endpoints_registered") == 1000; }, 60s))
    << registry.value("cms_endpoints_registered");
  EXPECT_EQ(registry.value("cms_endpoints_total"), 1000);
  for (auto& mta : fleet)
    for (int l = 1; l <= 4; ++l)
      EXPECT_EQ(mta->view(mta->line(l)).r, "L/hd(N)") << mta->line(l);
  boost::asio::post(io, [&] {
    for (auto& mta : fleet)
      mta->agent().stop();
  });
  eventually([] { return false; }, 100ms);
}

} // namespace
