// The data-link actor on CAF's deterministic scheduler: probe timing, transitions published to
// subscribers, metrics, and a crash restarting it with its state and subscribers.

#include "actors/links/data_link.hpp"
#include "actors/supervision/supervisor.hpp"

#include "caf_test_fixture.hpp"
#include "fakes.hpp"

#include <boost/json.hpp>

using namespace cms;
using namespace std::chrono_literals;

namespace {

class data_link_test : public test::caf_fixture {
protected:
  metrics::registry registry;
  std::shared_ptr<test::fake_transport> transport = std::make_shared<test::fake_transport>();
  std::shared_ptr<links::link_board> board =
    std::make_shared<links::link_board>("p2p-partner", "primary");
  links::probe_settings settings{200ms, 3, 10};
  test::status_log told = std::make_shared<std::vector<links::link_status>>();
  std::vector<caf::actor> to_kill;

  caf::actor spawn_link() {
    auto a = sys.spawn(links::data_link, board, transport, settings, &registry);
    to_kill.push_back(a);
    sched.run();
    return a;
  }

  caf::actor subscribe(const caf::actor& link) {
    auto s = sys.spawn(test::recording_subscriber, told);
    to_kill.push_back(s);
    caf::anon_send(link, atom::subscribe_v, s);
    sched.run();
    return s;
  }

  /// One probe interval: the outstanding probe is answered (or not), then the timer fires.
  void interval(bool answered) {
    if (answered) {
      transport->answer_last();
      sched.run();
    }
    sched.advance_time(settings.interval);
    sched.run();
  }

  double transitions(const std::string& to) {
    return registry.value("cms_data_link_transitions_total", {{"link", "p2p-partner"}, {"to", to}});
  }

  void TearDown() override {
    for (auto& a : to_kill)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

TEST_F(data_link_test, probes_once_per_interval_with_increasing_sequence_numbers) {
  auto link = spawn_link();
  ASSERT_EQ(transport->sent.size(), 1u);
  interval(true);
  interval(false);
  ASSERT_EQ(transport->sent.size(), 3u);
  EXPECT_EQ(transport->sent[0].seq, 1u);
  EXPECT_EQ(transport->sent[2].seq, 3u);
  EXPECT_EQ(transport->sent[0].reply_to, link);
}

TEST_F(data_link_test, subscriber_gets_current_state_then_every_transition) {
  auto link = spawn_link();
  subscribe(link);
  ASSERT_EQ(told->size(), 1u);
  EXPECT_EQ(told->back().state, links::link_state::down);
  EXPECT_EQ(told->back().kind, "primary");

  transport->answer_last();
  sched.run();
  ASSERT_EQ(told->size(), 2u);
  EXPECT_EQ(told->back().state, links::link_state::up);
  EXPECT_EQ(registry.value("cms_data_link_up", {{"link", "p2p-partner"}}), 1);

  interval(false); // the probe sent after the answer is lost at the next tick
  interval(false);
  ASSERT_EQ(told->size(), 3u);
  EXPECT_EQ(told->back().state, links::link_state::degraded);
  EXPECT_EQ(registry.value("cms_data_link_up", {{"link", "p2p-partner"}}), 1);
  interval(false); // two in a row: still degraded
  EXPECT_EQ(told->size(), 3u);
  interval(false); // three in a row
  ASSERT_EQ(told->size(), 4u);
  EXPECT_EQ(told->back().state, links::link_state::down);
  EXPECT_EQ(registry.value("cms_data_link_up", {{"link", "p2p-partner"}}), 0);
  EXPECT_EQ(transitions("down"), 1);
  EXPECT_EQ(transitions("degraded"), 1);
  EXPECT_EQ(transitions("up"), 1);
}

TEST_F(data_link_test, a_dead_link_is_declared_down_within_four_intervals) {
  auto link = spawn_link();
  subscribe(link);
  transport->answer_last();
  sched.run();
  ASSERT_EQ(told->back().state, links::link_state::up);
  // The far end dies now; the probe in flight is never answered.
  int intervals = 0;
  while (told->back().state != links::link_state::down && intervals < 10) {
    interval(false);
    ++intervals;
  }
  EXPECT_LE(intervals * settings.interval, 800ms);
}

TEST_F(data_link_test, late_and_stray_answers_do_not_count) {
  auto link = spawn_link();
  subscribe(link);
  interval(false); // probe 1 lost
  // Probe 1 answered after its interval: too late, and a stray sequence number.
  caf::anon_send(link, atom::probe_ack_v, std::uint64_t{1});
  caf::anon_send(link, atom::probe_ack_v, std::uint64_t{99});
  sched.run();
  EXPECT_EQ(told->back().state, links::link_state::down);
  EXPECT_EQ(board->snapshot().probes_answered, 0u);
}

TEST_F(data_link_test,
       subscribing_through_the_board_needs_no_link_handle_and_dead_ones_are_pruned) {
  auto link = spawn_link();
  auto s = sys.spawn(test::recording_subscriber, told);
  links::subscribe(board, s);
  sched.run();
  ASSERT_EQ(told->size(), 1u); // current state at once
  transport->answer_last();
  sched.run();
  ASSERT_EQ(told->size(), 2u);
  EXPECT_EQ(told->back().state, links::link_state::up);
  interval(false); // the link actor starts watching the subscriber
  caf::anon_send_exit(s, caf::exit_reason::kill);
  sched.run();
  EXPECT_TRUE(board->subscribers().empty());
}

TEST_F(data_link_test, status_reports_counters_as_json) {
  auto link = spawn_link();
  interval(true);
  interval(false);
  auto text = test::request_now<std::string>(sys, sched, link, caf::make_message(atom::status_v));
  ASSERT_TRUE(text);
  auto v = boost::json::parse(*text).as_object();
  EXPECT_EQ(v.at("link").as_string(), "p2p-partner");
  EXPECT_EQ(v.at("state").as_string(), "degraded");
  EXPECT_EQ(v.at("probes_answered").as_int64(), 1);
  EXPECT_EQ(v.at("probes_lost").as_int64(), 1);
}

TEST_F(data_link_test, a_crashed_link_actor_restarts_with_its_state_and_subscribers) {
  std::vector<actors::child_spec> specs;
  specs.push_back({"link:p2p-partner",
                   [this](caf::event_based_actor* self) {
                     return self->spawn(links::data_link, board, transport, settings, &registry);
                   },
                   actors::restart_policy::permanent});
  auto sup = sys.spawn(actors::supervisor, std::string{"links"}, std::move(specs),
                       actors::restart_intensity{5, 10s}, &registry);
  to_kill.push_back(sup);
  sched.run();
  auto first = test::request_now<caf::actor>(
    sys, sched, sup, caf::make_message(atom::lookup_v, std::string{"link:p2p-partner"}));
  ASSERT_TRUE(first);
  subscribe(*first);
  transport->answer_last();
  sched.run();
  interval(false);
  interval(false); // one loss recorded: degraded
  ASSERT_EQ(told->back().state, links::link_state::degraded);
  const auto before = board->snapshot();

  caf::anon_send_exit(*first, caf::exit_reason::kill);
  sched.run();
  auto second = test::request_now<caf::actor>(
    sys, sched, sup, caf::make_message(atom::lookup_v, std::string{"link:p2p-partner"}));
  ASSERT_TRUE(second);
  ASSERT_NE(*first, *second);
  auto text =
    test::request_now<std::string>(sys, sched, *second, caf::make_message(atom::status_v));
  ASSERT_TRUE(text);
  auto v = boost::json::parse(*text).as_object();
  EXPECT_EQ(v.at("state").as_string(), "degraded");
  EXPECT_EQ(v.at("transitions").as_int64(), 2);
  EXPECT_EQ(v.at("subscribers").as_int64(), 1);
  // Sequence numbers continue: no answer meant for the old incarnation is taken for a new probe.
  EXPECT_GT(transport->sent.back().seq, before.next_seq - 1);
  EXPECT_EQ(transport->sent.back().reply_to, *second);

  // The miss history survived: two more losses make three in a row, and the subscriber (who
  // never re-subscribed) hears about it from the new incarnation.
  const auto told_before = told->size();
  interval(false);
  interval(false);
  ASSERT_GT(told->size(), told_before);
  EXPECT_EQ(told->back().state, links::link_state::down);
  EXPECT_EQ(registry.value("cms_supervisor_restarts_total",
                           {{"supervisor", "links"}, {"child", "link:p2p-partner"}}),
            1);
}

} // namespace
