// Overload control of call attempts (actors/calls/call_admission.hpp): the token bucket admits the
// configured rate and burst, sheds the excess, refills with time, and the drain switch wins.

#include "actors/calls/call_admission.hpp"

#include <gtest/gtest.h>

using cms::actors::call_admission;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

int admitted_in(call_admission& a, int attempts, clock_type::time_point now) {
  int n = 0;
  for (int i = 0; i < attempts; ++i)
    n += a.admit(now) == call_admission::verdict::admitted;
  return n;
}

std::uint64_t counter(cms::metrics::registry& r, const std::string& name,
                      const cms::metrics::label_set& labels = {}) {
  return r.get_counter(name, "", labels).value();
}

} // namespace

TEST(call_admission, no_limit_admits_everything) {
  cms::metrics::registry reg;
  call_admission a{0, 0, reg};
  EXPECT_EQ(admitted_in(a, 10000, clock_type::now()), 10000);
  EXPECT_EQ(counter(reg, "cms_call_admitted_total"), 10000u);
}

TEST(call_admission, burst_then_shed_then_refill) {
  cms::metrics::registry reg;
  call_admission a{100, 20, reg}; // 100/s, 20 deep
  auto t0 = clock_type::now();
  EXPECT_EQ(admitted_in(a, 50, t0), 20); // the burst, then nothing in the same instant
  EXPECT_EQ(counter(reg, "cms_calls_shed_total", {{"reason", "overload"}}), 30u);
  EXPECT_EQ(admitted_in(a, 50, t0 + 100ms), 10); // 100 ms at 100/s refills 10 tokens
  EXPECT_EQ(admitted_in(a, 50, t0 + 10s), 20);   // never more than the bucket depth
}

TEST(call_admission, sustained_excess_gets_the_configured_rate) {
  cms::metrics::registry reg;
  call_admission a{200, 0, reg}; // default depth: 200 / 5 = 40
  EXPECT_DOUBLE_EQ(a.burst(), 40);
  auto t = clock_type::now();
  int admitted = 0;
  for (int ms = 0; ms < 10000; ++ms) // 10 s at 1,000 attempts/s (5x the rate)
    admitted += admitted_in(a, 1, t + std::chrono::milliseconds(ms));
  EXPECT_GE(admitted, 2000);
  EXPECT_LE(admitted, 2000 + 40 + 1);
}

TEST(call_admission, time_going_backwards_does_not_mint_tokens) {
  cms::metrics::registry reg;
  call_admission a{10, 1, reg};
  auto t = clock_type::now();
  EXPECT_EQ(admitted_in(a, 1, t), 1);
  EXPECT_EQ(admitted_in(a, 5, t - 5s), 0);
  EXPECT_EQ(admitted_in(a, 1, t + 100ms), 1);
}

TEST(call_admission, drain_sheds_everything_until_undrained) {
  cms::metrics::registry reg;
  cms::admission drain;
  call_admission a{0, 0, reg};
  a.attach_drain(&drain);
  ASSERT_TRUE(drain.drain("maintenance"));
  EXPECT_EQ(a.admit(), call_admission::verdict::shed_drain);
  EXPECT_EQ(counter(reg, "cms_calls_shed_total", {{"reason", "drain"}}), 1u);
  ASSERT_TRUE(drain.undrain("done"));
  EXPECT_EQ(a.admit(), call_admission::verdict::admitted);
  a.attach_drain(nullptr);
  drain.drain("again");
  EXPECT_EQ(a.admit(), call_admission::verdict::admitted);
}
