// Epochs from messages are bounded: nothing above INT64_MAX (the store's signed 64-bit integer),
// nothing more than max_epoch_jump above ours, and a claim never wraps.

#include "actors/ha/ha_rules.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

using namespace cms::ha;
using namespace std::chrono_literals;

namespace {

const clock_time t0{std::chrono::seconds{1000}};

ha_settings lab(const std::string& id, int priority) {
  ha_settings s;
  s.node_id = id;
  s.priority = priority;
  s.witnesses = 0;
  return s;
}

bool has(const effects& fx, effect::kind_t k) {
  return std::any_of(fx.begin(), fx.end(), [&](const effect& e) { return e.kind == k; });
}

/// An active node at `epoch` (lab pair: promotes on its own after the discovery window).
ha_rules active_at(std::uint64_t epoch) {
  ha_rules a{lab("a", 100)};
  a.start(epoch - 1, t0);
  auto fx = a.on_tick(t0 + 600ms);
  EXPECT_TRUE(has(fx, effect::become_active));
  EXPECT_EQ(a.state().epoch, epoch);
  return a;
}

TEST(ha_epoch_bounds, a_heartbeat_with_the_largest_epoch_does_not_demote_the_active) {
  auto a = active_at(5);
  auto fx = a.on_heartbeat(
    path::udp, {"x", role::active, std::numeric_limits<std::uint64_t>::max(), 1, 0}, t0 + 700ms);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(a.state().current, role::active);
  EXPECT_EQ(a.state().epoch, 5u);
}

TEST(ha_epoch_bounds, an_epoch_far_above_ours_is_ignored_and_a_near_one_is_learnt) {
  auto a = active_at(5);
  EXPECT_TRUE(a.on_higher_epoch(5 + max_epoch_jump + 1, "test", t0 + 700ms).empty());
  EXPECT_EQ(a.state().current, role::active);
  auto fx = a.on_higher_epoch(5 + max_epoch_jump, "test", t0 + 710ms);
  EXPECT_TRUE(has(fx, effect::persist_epoch));
  EXPECT_EQ(a.state().current, role::standby);
  EXPECT_EQ(a.state().epoch, 5 + max_epoch_jump);
}

TEST(ha_epoch_bounds, a_node_at_the_last_epoch_does_not_claim_a_wrapped_one) {
  ha_rules a{lab("a", 100)};
  a.start(max_epoch, t0);
  auto fx = a.on_tick(t0 + 600ms);
  EXPECT_FALSE(has(fx, effect::become_active));
  EXPECT_FALSE(has(fx, effect::persist_epoch));
  EXPECT_EQ(a.state().epoch, max_epoch);
  EXPECT_EQ(a.state().current, role::starting);
}

TEST(ha_epoch_bounds, a_failed_epoch_write_steps_an_active_down) {
  auto a = active_at(5);
  auto fx = a.on_epoch_write_failed(5, t0 + 700ms);
  EXPECT_TRUE(has(fx, effect::step_down));
  EXPECT_FALSE(has(fx, effect::persist_epoch));
  EXPECT_EQ(a.state().current, role::stepping_down);
  EXPECT_FALSE(a.accepts_new_calls(t0 + 700ms));
}

} // namespace
