// The per-source budgets of MGCP datagrams (runtime/mgcp/flood_guard.hpp), with time passed in.
#include "runtime/mgcp/flood_guard.hpp"

#include <gtest/gtest.h>

using namespace cms::mgcp;
using namespace std::chrono_literals;

namespace {

using source = flood_guard::source;

source at(const char* address, std::uint16_t port = 2427) {
  return {boost::asio::ip::make_address(address), port};
}

const auto attacker = at("192.0.2.66");
const auto mta = at("192.0.2.10");

flood_limits malformed_budget(double per_second, double burst, std::size_t max_sources) {
  flood_limits l;
  l.per_second = per_second;
  l.burst = burst;
  l.max_sources = max_sources;
  return l;
}

} // namespace

TEST(flood_guard, a_source_is_limited_after_its_burst_and_heard_again_as_tokens_refill) {
  flood_guard guard{malformed_budget(10.0, 5.0, 100)};
  auto t = flood_guard::clock::time_point{} + 1h;
  for (int i = 0; i < 4; ++i) {
    ASSERT_FALSE(guard.malformed_limited(attacker, t));
    EXPECT_FALSE(guard.malformed(attacker, t));
  }
  ASSERT_FALSE(guard.malformed_limited(attacker, t));
  EXPECT_TRUE(guard.malformed(attacker, t)); // the fifth spends the last token: limited from now
  EXPECT_TRUE(guard.malformed_limited(attacker, t));
  EXPECT_EQ(guard.limited_now(t), 1u);
  // Other sources are not affected, malformed or not.
  EXPECT_FALSE(guard.malformed_limited(mta, t));
  EXPECT_FALSE(guard.malformed(mta, t));
  EXPECT_FALSE(guard.malformed_limited(mta, t));
  // 10 per second: one token back after 100 ms, not at 99 ms.
  EXPECT_TRUE(guard.malformed_limited(attacker, t + 99ms));
  EXPECT_FALSE(guard.malformed_limited(attacker, t + 110ms));
  EXPECT_TRUE(guard.malformed(attacker, t + 110ms));
  EXPECT_TRUE(guard.malformed_limited(attacker, t + 150ms));
  // Quiet long enough, the whole burst is back (and not more).
  auto later = t + 10s;
  for (int i = 0; i < 4; ++i)
    EXPECT_FALSE(guard.malformed(attacker, later));
  EXPECT_TRUE(guard.malformed(attacker, later));
}

TEST(flood_guard, a_spoofer_of_an_mta_address_on_another_port_costs_that_mta_nothing) {
  // Keyed by address only, a flood "from" the MTA's address silenced the MTA itself.
  flood_limits l = malformed_budget(1.0, 2.0, 100);
  l.datagrams_per_second = 10;
  l.datagram_burst = 10;
  flood_guard guard{l};
  auto t = flood_guard::clock::time_point{} + 1h;
  auto spoofer = at("192.0.2.10", 40000); // the MTA's address, another port
  for (int i = 0; i < 50; ++i) {
    guard.check(spoofer, t);
    guard.malformed(spoofer, t);
  }
  EXPECT_EQ(guard.check(spoofer, t), flood_guard::verdict::limited);
  EXPECT_TRUE(guard.malformed_limited(spoofer, t));
  EXPECT_EQ(guard.check(mta, t), flood_guard::verdict::admit);
  EXPECT_FALSE(guard.malformed_limited(mta, t));
}

TEST(flood_guard, well_formed_traffic_only_meets_the_total_budget) {
  flood_limits l = malformed_budget(1.0, 2.0, 100);
  l.datagrams_per_second = 100;
  l.datagram_burst = 5;
  flood_guard guard{l};
  auto t = flood_guard::clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(guard.check(mta, t), flood_guard::verdict::admit) << i;
  EXPECT_EQ(guard.check(mta, t), flood_guard::verdict::limited);
  EXPECT_FALSE(guard.malformed_limited(mta, t));                      // nothing malformed was sent
  EXPECT_EQ(guard.check(mta, t + 10ms), flood_guard::verdict::admit); // 100/s: one back
  EXPECT_EQ(guard.check(attacker, t), flood_guard::verdict::admit);
}

TEST(flood_guard, the_total_budget_is_off_by_default) {
  flood_guard guard{flood_limits{}};
  auto t = flood_guard::clock::time_point{} + 1h;
  for (int i = 0; i < 100000; ++i)
    ASSERT_EQ(guard.check(mta, t), flood_guard::verdict::admit);
  EXPECT_EQ(guard.tracked(), 0u);
}

TEST(flood_guard, the_table_is_bounded_and_forgets_quiet_sources_first) {
  flood_guard guard{malformed_budget(1.0, 2.0, 2)};
  auto t = flood_guard::clock::time_point{} + 1h;
  auto a = at("10.0.0.1");
  auto b = at("10.0.0.2");
  auto c = at("10.0.0.3");
  guard.malformed(a, t);
  guard.malformed(a, t); // a: limited
  guard.malformed(b, t); // b: one token left
  EXPECT_EQ(guard.tracked(), 2u);
  // c finds no room and nobody quiet to forget: not tracked, hence not limited.
  guard.malformed(c, t);
  guard.malformed(c, t);
  EXPECT_EQ(guard.tracked(), 2u);
  EXPECT_FALSE(guard.malformed_limited(c, t));
  EXPECT_TRUE(guard.malformed_limited(a, t));
  // After b refilled, it is forgotten to make room for c.
  guard.malformed(c, t + 1s);
  guard.malformed(c, t + 1s);
  EXPECT_TRUE(guard.malformed_limited(c, t + 1s));
}

TEST(flood_guard, a_zero_burst_turns_the_guard_off) {
  flood_guard guard{malformed_budget(10.0, 0.0, 10)};
  auto t = flood_guard::clock::time_point{} + 1h;
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(guard.malformed(attacker, t));
  EXPECT_FALSE(guard.malformed_limited(attacker, t));
  EXPECT_EQ(guard.tracked(), 0u);
}
