// The per-source budget of malformed MGCP (runtime/mgcp/flood_guard.hpp), with time passed in.
#include "runtime/mgcp/flood_guard.hpp"

#include <gtest/gtest.h>

using namespace cms::mgcp;
using namespace std::chrono_literals;

namespace {

const auto attacker = boost::asio::ip::make_address("192.0.2.66");
const auto mta = boost::asio::ip::make_address("192.0.2.10");

} // namespace

TEST(flood_guard, a_source_is_limited_after_its_burst_and_heard_again_as_tokens_refill) {
  flood_guard guard{{10.0, 5.0, 100}};
  auto t = flood_guard::clock::time_point{} + 1h;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(guard.check(attacker, t), flood_guard::verdict::admit);
    EXPECT_FALSE(guard.malformed(attacker, t));
  }
  ASSERT_EQ(guard.check(attacker, t), flood_guard::verdict::admit);
  EXPECT_TRUE(guard.malformed(attacker, t)); // the fifth spends the last token: limited from now
  EXPECT_EQ(guard.check(attacker, t), flood_guard::verdict::limited);
  EXPECT_EQ(guard.limited_now(t), 1u);
  // Other sources are not affected, malformed or not.
  EXPECT_EQ(guard.check(mta, t), flood_guard::verdict::admit);
  EXPECT_FALSE(guard.malformed(mta, t));
  EXPECT_EQ(guard.check(mta, t), flood_guard::verdict::admit);
  // 10 per second: one token back after 100 ms, not at 99 ms.
  EXPECT_EQ(guard.check(attacker, t + 99ms), flood_guard::verdict::limited);
  EXPECT_EQ(guard.check(attacker, t + 110ms), flood_guard::verdict::admit);
  EXPECT_TRUE(guard.malformed(attacker, t + 110ms));
  EXPECT_EQ(guard.check(attacker, t + 150ms), flood_guard::verdict::limited);
  // Quiet long enough, the whole burst is back (and not more).
  auto later = t + 10s;
  for (int i = 0; i < 4; ++i)
    EXPECT_FALSE(guard.malformed(attacker, later));
  EXPECT_TRUE(guard.malformed(attacker, later));
}

TEST(flood_guard, the_table_is_bounded_and_forgets_quiet_sources_first) {
  flood_guard guard{{1.0, 2.0, 2}};
  auto t = flood_guard::clock::time_point{} + 1h;
  auto a = boost::asio::ip::make_address("10.0.0.1");
  auto b = boost::asio::ip::make_address("10.0.0.2");
  auto c = boost::asio::ip::make_address("10.0.0.3");
  guard.malformed(a, t);
  guard.malformed(a, t); // a: limited
  guard.malformed(b, t); // b: one token left
  EXPECT_EQ(guard.tracked(), 2u);
  // c finds no room and nobody quiet to forget: not tracked, hence not limited.
  guard.malformed(c, t);
  guard.malformed(c, t);
  EXPECT_EQ(guard.tracked(), 2u);
  EXPECT_EQ(guard.check(c, t), flood_guard::verdict::admit);
  EXPECT_EQ(guard.check(a, t), flood_guard::verdict::limited);
  // After b refilled, it is forgotten to make room for c.
  guard.malformed(c, t + 1s);
  guard.malformed(c, t + 1s);
  EXPECT_EQ(guard.check(c, t + 1s), flood_guard::verdict::limited);
}

TEST(flood_guard, a_zero_burst_turns_the_guard_off) {
  flood_guard guard{{10.0, 0.0, 10}};
  auto t = flood_guard::clock::time_point{} + 1h;
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(guard.malformed(attacker, t));
  EXPECT_EQ(guard.check(attacker, t), flood_guard::verdict::admit);
  EXPECT_EQ(guard.tracked(), 0u);
}
