// The data link's state machine as pure rules: thresholds, hysteresis and restart state.

#include "actors/links/data_link_monitor.hpp"

#include <gtest/gtest.h>

using namespace cms::links;

namespace {

link_monitor fresh(int misses = 3, int window = 10) {
  link_snapshot s;
  s.status.link = "p2p";
  s.status.kind = "primary";
  return link_monitor{probe_settings{std::chrono::milliseconds{200}, misses, window}, s};
}

} // namespace

TEST(link_monitor, starts_down_and_goes_up_on_the_first_answer) {
  auto m = fresh();
  EXPECT_EQ(m.state(), link_state::down);
  auto t = m.record(true, 1000);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, link_state::up);
  EXPECT_EQ(m.snapshot().status.transitions, 1u);
  EXPECT_EQ(m.snapshot().status.since_ms, 1000);
}

TEST(link_monitor, a_link_that_never_answered_stays_down) {
  auto m = fresh();
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(m.record(false, i));
  EXPECT_EQ(m.state(), link_state::down);
  EXPECT_EQ(m.snapshot().status.transitions, 0u);
}

TEST(link_monitor, one_loss_degrades_and_misses_in_a_row_take_it_down) {
  auto m = fresh(3);
  m.record(true, 0);
  EXPECT_EQ(m.record(false, 1), link_state::degraded);
  EXPECT_FALSE(m.record(false, 2)); // two in a row: still degraded
  EXPECT_EQ(m.record(false, 3), link_state::down);
  EXPECT_EQ(m.snapshot().consecutive_misses, 3);
  EXPECT_EQ(m.snapshot().probes_lost, 3u);
}

TEST(link_monitor, scattered_losses_below_the_miss_count_never_take_it_down) {
  auto m = fresh(3);
  m.record(true, 0);
  for (int i = 0; i < 20; ++i) {
    m.record(false, i);
    m.record(false, i);
    m.record(true, i);
  }
  EXPECT_EQ(m.state(), link_state::degraded);
}

TEST(link_monitor, a_returning_link_passes_through_degraded_until_its_losses_leave_the_window) {
  auto m = fresh(3, 10);
  m.record(true, 0);
  for (int i = 0; i < 3; ++i)
    m.record(false, 0);
  ASSERT_EQ(m.state(), link_state::down);
  EXPECT_EQ(m.record(true, 10), link_state::degraded);
  // 3 losses are in the window of 10: it takes 10 answers in all to push them out.
  for (int i = 0; i < 8; ++i)
    EXPECT_FALSE(m.record(true, 11 + i)) << i;
  EXPECT_EQ(m.losses_in_window(), 1);
  EXPECT_EQ(m.record(true, 20), link_state::up);
  EXPECT_EQ(m.snapshot().status.transitions, 5u); // up, degraded, down, degraded, up
}

TEST(link_monitor, a_lone_answer_after_down_then_a_loss_does_not_flap_back_to_down_early) {
  auto m = fresh(3);
  m.record(true, 0);
  for (int i = 0; i < 3; ++i)
    m.record(false, 0);
  m.record(true, 1);
  EXPECT_EQ(m.state(), link_state::degraded);
  EXPECT_FALSE(m.record(false, 2));
  EXPECT_EQ(m.state(), link_state::degraded);
}

TEST(link_monitor, resumes_from_a_snapshot) {
  auto m = fresh(3);
  m.record(true, 0);
  m.record(false, 1);
  m.record(false, 2);
  auto seq = m.next_probe();
  link_monitor resumed{m.settings(), m.snapshot()};
  EXPECT_EQ(resumed.state(), link_state::degraded);
  EXPECT_EQ(resumed.next_probe(), seq + 1);
  // The third miss in a row counts across the restart.
  EXPECT_EQ(resumed.record(false, 3), link_state::down);
}

TEST(link_monitor, miss_count_of_one_detects_at_the_first_loss) {
  auto m = fresh(1);
  m.record(true, 0);
  EXPECT_EQ(m.record(false, 1), link_state::down);
}
