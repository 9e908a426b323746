#include "actors/ha/witness_rules.hpp"

#include <gtest/gtest.h>

using namespace cms::ha;
using namespace std::chrono_literals;

namespace {

const std::chrono::steady_clock::time_point t0{std::chrono::seconds{50}};

TEST(witness_rules, grants_each_epoch_once) {
  witness_rules w;
  EXPECT_TRUE(w.claim("a", 1, 900ms, t0).granted);
  EXPECT_TRUE(w.claim("a", 1, 900ms, t0 + 10ms).granted) << "retransmitted claim";
  auto v = w.claim("b", 1, 900ms, t0 + 2s);
  EXPECT_FALSE(v.granted) << "epoch 1 already belongs to a";
  EXPECT_EQ(v.holder, "a");
}

TEST(witness_rules, new_epoch_waits_for_the_holders_lease) {
  witness_rules w;
  w.claim("a", 1, 900ms, t0);
  EXPECT_FALSE(w.claim("b", 2, 900ms, t0 + 500ms).granted);
  EXPECT_TRUE(w.renew("a", 1, 900ms, t0 + 600ms).granted); // lease to 1500
  EXPECT_FALSE(w.claim("b", 2, 900ms, t0 + 1400ms).granted);
  EXPECT_TRUE(w.claim("b", 2, 900ms, t0 + 1500ms).granted);
  auto v = w.renew("a", 1, 900ms, t0 + 1600ms);
  EXPECT_FALSE(v.granted) << "the old holder learns it lost";
  EXPECT_EQ(v.epoch, 2u);
}

TEST(witness_rules, release_frees_the_lease_for_a_switchover) {
  witness_rules w;
  w.claim("a", 1, 900ms, t0);
  EXPECT_FALSE(w.release("b", 1, t0 + 1ms).granted);
  EXPECT_TRUE(w.release("a", 1, t0 + 1ms).granted);
  EXPECT_TRUE(w.claim("b", 2, 900ms, t0 + 2ms).granted);
}

TEST(witness_rules, older_epochs_are_always_refused) {
  witness_rules w;
  w.claim("a", 5, 900ms, t0);
  EXPECT_FALSE(w.claim("b", 4, 900ms, t0 + 10s).granted);
  EXPECT_FALSE(w.renew("b", 5, 900ms, t0 + 10s).granted);
}

} // namespace
