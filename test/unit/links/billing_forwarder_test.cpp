// The billing forwarder on CAF's deterministic scheduler with a real SQLite outbox (temp file) and
// a fake RKS sender: role gating, path choice, ordering, ack-before-mark, retry, alarm, position.

#include "actors/billing/billing_forwarder.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"

#include "caf_test_fixture.hpp"
#include "fakes.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>

using namespace cms;
using namespace std::chrono_literals;
using links::link_state;

namespace {

std::vector<billing::billing_record> records(int first_call, int n) {
  std::vector<billing::billing_record> out;
  for (int i = 0; i < n; ++i) {
    billing::billing_record r;
    r.call_id = "c" + std::to_string(first_call + i) + "@cms-a";
    r.event = "signaling_stop";
    r.record_id = r.call_id + ":" + r.event;
    r.calling_number = "5551000";
    r.called_number = "5552000";
    r.timestamp_ms = 1700000000000 + i;
    r.release_cause = 16;
    out.push_back(r);
  }
  return out;
}

std::vector<std::uint64_t> sequences(const std::vector<billing::billing_record>& rs) {
  std::vector<std::uint64_t> out;
  for (auto& r : rs)
    out.push_back(r.sequence);
  return out;
}

class forwarder_test : public test::caf_fixture {
protected:
  test::temp_dir tmp;
  std::filesystem::path db_file = tmp.path() / "cms.db";
  persistence::database db = persistence::database::open(db_file);
  persistence::outbox outbox{db};
  metrics::registry registry;
  std::shared_ptr<test::fake_sender> sender = std::make_shared<test::fake_sender>();
  billing::forwarder_settings settings;
  std::vector<caf::actor> to_kill;
  std::vector<std::pair<bool, std::uint64_t>> alarms;
  std::vector<std::uint64_t> positions;

  forwarder_test() {
    settings.db_file = db_file;
    settings.rks_primary = billing::rks_endpoint{"127.0.0.1", 7001};
    settings.rks_backup = billing::rks_endpoint{"127.0.0.2", 7002};
    settings.primary_link = "p2p";
    settings.backup_link = "vpn";
    settings.batch_size = 3;
    settings.poll_interval = 100ms;
    settings.retry_initial = 250ms;
    settings.on_high_water = [this](bool raised, std::uint64_t pending) {
      alarms.emplace_back(raised, pending);
    };
    settings.on_position = [this](std::uint64_t p) { positions.push_back(p); };
  }

  caf::actor spawn_forwarder() {
    auto f = sys.spawn(billing::billing_forwarder, settings,
                       std::static_pointer_cast<billing::rks_sender>(sender), &registry);
    to_kill.push_back(f);
    sched.run();
    return f;
  }

  void link(const caf::actor& f, const std::string& name, link_state s) {
    links::link_status st;
    st.link = name;
    st.kind = name == "p2p" ? "primary" : "backup";
    st.state = s;
    caf::anon_send(f, atom::link_changed_v, st);
    sched.run();
  }

  void role(const caf::actor& f, ha::role r, std::uint64_t epoch = 1) {
    caf::anon_send(f, atom::role_changed_v, r, epoch);
    sched.run();
  }

  void elapse(std::chrono::milliseconds d) {
    sched.advance_time(d);
    sched.run();
  }

  void ack(std::size_t i) {
    sender->ack(i);
    sched.run();
  }

  std::uint64_t pending() { return outbox.pending_count(); }

  void TearDown() override {
    for (auto& a : to_kill)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

TEST(choose_path, primary_while_its_link_carries_traffic_then_backup_then_none) {
  billing::forwarder_settings s;
  s.rks_primary = billing::rks_endpoint{"10.0.0.1", 1};
  s.rks_backup = billing::rks_endpoint{"10.8.0.1", 1};
  s.primary_link = "p2p";
  s.backup_link = "vpn";
  using P = billing::management_path;
  EXPECT_EQ(billing::choose_path(s, {}), P::none); // unknown links count as down
  EXPECT_EQ(billing::choose_path(s, {{"p2p", link_state::up}, {"vpn", link_state::up}}),
            P::primary);
  EXPECT_EQ(billing::choose_path(s, {{"p2p", link_state::degraded}, {"vpn", link_state::up}}),
            P::primary);
  EXPECT_EQ(billing::choose_path(s, {{"p2p", link_state::down}, {"vpn", link_state::degraded}}),
            P::backup);
  EXPECT_EQ(billing::choose_path(s, {{"p2p", link_state::down}, {"vpn", link_state::down}}),
            P::none);
  s.rks_backup.reset();
  EXPECT_EQ(billing::choose_path(s, {{"p2p", link_state::down}, {"vpn", link_state::up}}), P::none);
  s.primary_link.clear(); // no link to watch: the primary path is assumed
  EXPECT_EQ(billing::choose_path(s, {}), P::primary);
  s.rks_primary.reset();
  EXPECT_EQ(billing::choose_path(s, {}), P::none);
}

TEST_F(forwarder_test, a_standby_never_forwards_and_the_active_starts_at_once) {
  outbox.append(records(1, 2));
  auto f = spawn_forwarder();
  link(f, "p2p", link_state::up);
  role(f, ha::role::standby);
  elapse(1s);
  EXPECT_TRUE(sender->batches.empty());
  role(f, ha::role::active, 2);
  ASSERT_EQ(sender->batches.size(), 1u);
  EXPECT_EQ(sender->batches[0].to, *settings.rks_primary);
  EXPECT_EQ(sequences(sender->batches[0].records), (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(forwarder_test, sends_in_order_one_batch_at_a_time_and_marks_sent_only_after_the_ack) {
  outbox.append(records(1, 7));
  auto f = spawn_forwarder();
  link(f, "p2p", link_state::up);
  role(f, ha::role::active);
  ASSERT_EQ(sender->batches.size(), 1u);
  elapse(1s); // polling does not send a second batch while one is in flight
  ASSERT_EQ(sender->batches.size(), 1u);
  EXPECT_EQ(pending(), 7u); // nothing leaves the outbox before the ack
  ack(0);
  EXPECT_EQ(pending(), 4u);
  ASSERT_EQ(sender->batches.size(), 2u); // the backlog drains back to back
  ack(1);
  ASSERT_EQ(sender->batches.size(), 3u);
  ack(2);
  EXPECT_EQ(pending(), 0u);
  std::vector<std::uint64_t> all;
  for (auto& b : sender->batches)
    for (auto s : sequences(b.records))
      all.push_back(s);
  EXPECT_EQ(all, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(*test::request_now<std::uint64_t>(sys, sched, f, caf::make_message(atom::position_v)),
            7u);
  EXPECT_EQ(positions, (std::vector<std::uint64_t>{3, 6, 7}));
  EXPECT_EQ(registry.value("cms_billing_forwarder_records_total", {{"path", "primary"}}), 7);
  // New records appended later go out at the next poll.
  outbox.append(records(100, 1));
  elapse(100ms);
  ASSERT_EQ(sender->batches.size(), 4u);
  EXPECT_EQ(sequences(sender->batches[3].records), (std::vector<std::uint64_t>{8}));
}

TEST_F(forwarder_test, a_drain_ceiling_spaces_the_batches_on_the_actor_clock) {
  settings.max_records_per_s = 30; // batches of 3: one batch per 100 ms at most
  outbox.append(records(1, 9));
  auto f = spawn_forwarder();
  link(f, "p2p", link_state::up);
  role(f, ha::role::active);
  ASSERT_EQ(sender->batches.size(), 1u);
  ack(0);
  EXPECT_EQ(sender->batches.size(), 1u); // acked at once, but the next batch waits for the ceiling
  sched.advance_time(99ms);
  sched.run();
  EXPECT_EQ(sender->batches.size(), 1u);
  elapse(1ms);
  ASSERT_EQ(sender->batches.size(), 2u);
  ack(1);
  elapse(100ms);
  ASSERT_EQ(sender->batches.size(), 3u);
  ack(2);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(*test::request_now<std::uint64_t>(sys, sched, f, caf::make_message(atom::position_v)),
            9u);
}

TEST_F(forwarder_test, uses_the_backup_while_the_primary_is_down_and_stores_while_both_are) {
  auto f = spawn_forwarder();
  role(f, ha::role::active);
  link(f, "p2p", link_state::up);
  link(f, "vpn", link_state::up);
  outbox.append(records(1, 2));
  elapse(100ms);
  ASSERT_EQ(sender->batches.size(), 1u);
  EXPECT_EQ(sender->batches[0].to, *settings.rks_primary);
  ack(0);

  link(f, "p2p", link_state::down);
  outbox.append(records(10, 2));
  elapse(100ms);
  ASSERT_EQ(sender->batches.size(), 2u);
  EXPECT_EQ(sender->batches[1].to, *settings.rks_backup);
  ack(1);
  EXPECT_EQ(registry.value("cms_billing_forwarder_path"), 2);

  link(f, "vpn", link_state::down);
  outbox.append(records(20, 5));
  elapse(2s);
  EXPECT_EQ(sender->batches.size(), 2u); // store and forward
  EXPECT_EQ(pending(), 5u);
  EXPECT_EQ(registry.value("cms_billing_outbox_pending"), 5);

  link(f, "p2p", link_state::degraded); // degraded still carries traffic
  ASSERT_EQ(sender->batches.size(), 3u);
  EXPECT_EQ(sender->batches[2].to, *settings.rks_primary);
  EXPECT_EQ(sequences(sender->batches[2].records), (std::vector<std::uint64_t>{5, 6, 7}));
  ack(2);
  ack(3);
  EXPECT_EQ(pending(), 0u);
}

TEST_F(forwarder_test, a_failed_batch_is_resent_after_a_back_off_and_not_marked_meanwhile) {
  outbox.append(records(1, 2));
  auto f = spawn_forwarder();
  link(f, "p2p", link_state::up);
  role(f, ha::role::active);
  ASSERT_EQ(sender->batches.size(), 1u);
  sender->fail(0, "nack: digest mismatch");
  sched.run();
  EXPECT_EQ(pending(), 2u);
  elapse(100ms); // still backing off (250 ms)
  EXPECT_EQ(sender->batches.size(), 1u);
  elapse(200ms);
  ASSERT_EQ(sender->batches.size(), 2u);
  EXPECT_EQ(sender->batches[1].records, sender->batches[0].records);
  sender->fail(1);
  sched.run();
  elapse(300ms); // the back-off doubled to 500 ms
  EXPECT_EQ(sender->batches.size(), 2u);
  elapse(300ms);
  ASSERT_EQ(sender->batches.size(), 3u);
  ack(2);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(registry.value("cms_billing_forwarder_batches_total",
                           {{"path", "primary"}, {"result", "failed"}}),
            2);
  auto v = boost::json::parse(
             *test::request_now<std::string>(sys, sched, f, caf::make_message(atom::status_v)))
             .as_object();
  EXPECT_EQ(v.at("consecutive_failures").as_int64(), 0);
}

TEST_F(forwarder_test, an_outcome_from_an_abandoned_attempt_is_ignored) {
  settings.send_timeout = 1s;
  outbox.append(records(1, 1));
  auto f = spawn_forwarder();
  link(f, "p2p", link_state::up);
  role(f, ha::role::active);
  ASSERT_EQ(sender->batches.size(), 1u);
  elapse(1100ms); // no outcome: given up, re-sent after the back-off
  elapse(300ms);
  ASSERT_EQ(sender->batches.size(), 2u);
  ack(0); // the late outcome of the first attempt
  EXPECT_EQ(pending(), 1u);
  ack(1);
  EXPECT_EQ(pending(), 0u);
}

TEST_F(forwarder_test, raises_and_clears_the_high_water_alarm) {
  settings.high_water = 5;
  settings.low_water = 3;
  outbox.append(records(1, 6));
  auto f = spawn_forwarder();
  elapse(100ms);
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_TRUE(alarms[0].first);
  EXPECT_EQ(alarms[0].second, 6u);
  EXPECT_EQ(registry.value("cms_billing_outbox_high_water_alarm"), 1);
  EXPECT_EQ(registry.value("cms_billing_outbox_high_water_total"), 1);
  link(f, "p2p", link_state::up);
  role(f, ha::role::active);
  ack(0); // 3 pending: not below the low-water mark yet
  elapse(100ms);
  EXPECT_EQ(alarms.size(), 1u);
  ack(1);
  elapse(100ms);
  ASSERT_EQ(alarms.size(), 2u);
  EXPECT_FALSE(alarms[1].first);
  EXPECT_EQ(registry.value("cms_billing_outbox_high_water_alarm"), 0);
}

TEST_F(forwarder_test,
       the_standby_applies_the_active_position_and_a_new_forwarder_resumes_after_it) {
  outbox.append(records(1, 5));
  auto standby = spawn_forwarder();
  role(standby, ha::role::standby);
  caf::anon_send(standby, atom::sent_position_v, std::uint64_t{3});
  sched.run();
  EXPECT_EQ(pending(), 2u);
  EXPECT_EQ(
    *test::request_now<std::uint64_t>(sys, sched, standby, caf::make_message(atom::position_v)),
    3u);
  EXPECT_TRUE(positions.empty()); // an applied position is not handed back to replication

  // Failover: a fresh forwarder (a restart or the other node) resumes from SQLite.
  caf::anon_send_exit(standby, caf::exit_reason::kill);
  sched.run();
  auto active = spawn_forwarder();
  EXPECT_EQ(
    *test::request_now<std::uint64_t>(sys, sched, active, caf::make_message(atom::position_v)), 3u);
  link(active, "p2p", link_state::up);
  role(active, ha::role::active, 2);
  ASSERT_EQ(sender->batches.size(), 1u);
  EXPECT_EQ(sequences(sender->batches[0].records), (std::vector<std::uint64_t>{4, 5}));
}

TEST_F(forwarder_test, a_store_that_cannot_be_opened_is_retried_without_crashing) {
  settings.db_file = tmp.path() / "missing-dir" / "cms.db";
  auto f = spawn_forwarder();
  link(f, "p2p", link_state::up);
  role(f, ha::role::active);
  elapse(300ms);
  EXPECT_TRUE(sender->batches.empty());
  auto v = boost::json::parse(
             *test::request_now<std::string>(sys, sched, f, caf::make_message(atom::status_v)))
             .as_object();
  EXPECT_TRUE(v.at("active").as_bool());
}

} // namespace
