// The wall-clock step detector of the call manager (actors/calls/clock_watch.hpp): steps against
// the monotonic clock are reported with their size and sign; drift and slewing are not.

#include "actors/calls/clock_watch.hpp"

#include <gtest/gtest.h>

using cms::actors::clock_watch;

TEST(clock_watch, the_first_look_is_the_reference) {
  clock_watch w;
  EXPECT_FALSE(w.look(1'000'000, 50));
  EXPECT_FALSE(w.look(1'001'000, 1'050)); // both moved by 1 s: no step
}

TEST(clock_watch, a_step_back_or_forward_is_reported_once_with_its_sign) {
  clock_watch w;
  w.look(10'000'000, 0);
  auto back = w.look(10'001'000 - 7'200'000, 1'000);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, -7'200'000);
  EXPECT_FALSE(w.look(10'002'000 - 7'200'000, 2'000)) << "the new offset is the reference";
  auto ahead = w.look(10'003'000 + 3'600'000, 3'000);
  ASSERT_TRUE(ahead);
  EXPECT_EQ(*ahead, 3'600'000 + 7'200'000);
}

TEST(clock_watch, steps_below_the_threshold_and_slewing_are_not_steps) {
  clock_watch w{200};
  w.look(0, 0);
  EXPECT_FALSE(w.look(1'150, 1'000)); // 150 ms: below 200
  EXPECT_TRUE(w.look(2'350, 2'000));  // 200 ms more against the last look
  // Slewing at 0.5 ms/s for an hour adds up to 1.8 s, but never between two looks.
  clock_watch slew{200};
  std::int64_t wall = 0;
  for (std::int64_t s = 0; s <= 3600; ++s) {
    EXPECT_FALSE(slew.look(wall, s * 1000)) << "second " << s;
    wall += 1000 + (s % 2); // +0.5 ms per second on average
  }
}
