// RFC 3435 2.1.5 digit maps, matched digit by digit as an NCS MTA does.

#include "runtime/mgcp/digit_map.hpp"

#include <gtest/gtest.h>

namespace cms::mgcp {
namespace {

constexpr digit_map_result full{digit_match::full, digit_timer::none};
constexpr digit_map_result none{digit_match::none, digit_timer::none};
constexpr digit_map_result wait_long{digit_match::partial, digit_timer::long_timer};
constexpr digit_map_result wait_short{digit_match::partial, digit_timer::short_timer};

const char* ncs_map = "(0T|00T|[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx|011x.T|*xx|911|411)";

digit_map compile(std::string_view text) {
  std::string error;
  auto m = digit_map::compile(text, &error);
  EXPECT_TRUE(m) << text << ": " << error;
  return m ? *m : *digit_map::compile("x");
}

TEST(digit_map, ncs_map_compiles_with_every_alternative) {
  auto m = compile(ncs_map);
  EXPECT_EQ(m.alternatives(), 8u);
  EXPECT_EQ(m.text(), ncs_map);
}

TEST(digit_map, seven_digit_local_number_digit_by_digit) {
  auto m = compile(ncs_map);
  const std::string number = "5551234";
  for (std::size_t i = 1; i < number.size(); ++i)
    EXPECT_EQ(m.match(number.substr(0, i)), wait_long) << number.substr(0, i);
  EXPECT_EQ(m.match(number), full);
  EXPECT_EQ(m.match(number + "9"), none);
}

TEST(digit_map, emergency_and_service_codes) {
  auto m = compile(ncs_map);
  EXPECT_EQ(m.match("9"), wait_long);
  EXPECT_EQ(m.match("91"), wait_long);
  // 911 is complete, but [2-9]xxxxxx could still take 4 more digits: wait on the short timer.
  EXPECT_EQ(m.match("911"), wait_short);
  EXPECT_EQ(m.match("911T"), full);
  EXPECT_EQ(m.match("*6"), wait_long);
  EXPECT_EQ(m.match("*69"), full);
  EXPECT_EQ(m.match("*#"), none);
}

TEST(digit_map, operator_and_timer_terminated_alternatives) {
  auto m = compile(ncs_map);
  // "0" completes as "0T" when the timer fires, and "00T" is still possible.
  EXPECT_EQ(m.match("0"), wait_short);
  EXPECT_EQ(m.match("0T"), full);
  EXPECT_EQ(m.match("00"), wait_short);
  EXPECT_EQ(m.match("00T"), full);
  EXPECT_EQ(m.match("000"), none);
  // International: 011 then any number of digits until the timer.
  EXPECT_EQ(m.match("01"), wait_long);
  // "x." allows zero digits, so 011 followed by the timer already completes 011x.T.
  EXPECT_EQ(m.match("011"), wait_short);
  EXPECT_EQ(m.match("0114"), wait_short);
  EXPECT_EQ(m.match("01144207946"), wait_short);
  EXPECT_EQ(m.match("01144207946T"), full);
  EXPECT_EQ(m.match("011T"), full);
  EXPECT_EQ(m.match("01T"), none);
}

TEST(digit_map, long_distance) {
  auto m = compile(ncs_map);
  EXPECT_EQ(m.match("1"), wait_long);
  EXPECT_EQ(m.match("12"), wait_long);
  EXPECT_EQ(m.match("11"), none);
  EXPECT_EQ(m.match("1212555123"), wait_long);
  EXPECT_EQ(m.match("12125551234"), full);
  EXPECT_EQ(m.match("12121551234"), none);
  EXPECT_EQ(m.match("1T"), none);
}

TEST(digit_map, grammar_details) {
  // Without parentheses, letters, '#', '*', ranges with single letters, case-insensitive x/T.
  auto m = compile("xx#|[1-3A#]X.t");
  EXPECT_EQ(m.match("12#"), full);
  EXPECT_EQ(m.match("A"), wait_short);
  EXPECT_EQ(m.match("a99T"), full);
  EXPECT_EQ(m.match("#"), wait_short);
  EXPECT_EQ(m.match("4"), wait_long);
  EXPECT_EQ(m.match("45"), wait_long);
  EXPECT_EQ(m.match("45#"), full);
  EXPECT_EQ(m.match("E"), none);
  EXPECT_EQ(m.match("?"), none);
  EXPECT_EQ(m.match(""), wait_long);
  EXPECT_EQ(compile("x.").match(""), wait_short);
}

TEST(digit_map, bad_maps_are_refused_with_a_reason) {
  for (const char* bad : {"", "()", "(x", "x)", "x||1", ".x", "x..", "[1-", "[]", "[9-0]", "[a-z]",
                          "12Z", "1 2", "x|"}) {
    std::string error;
    EXPECT_FALSE(digit_map::compile(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_FALSE(digit_map::compile(std::string(digit_map::max_text + 1, 'x')));
  EXPECT_FALSE(digit_map::compile(std::string(digit_map::max_elements + 1, 'x')));
  std::string many;
  for (std::size_t i = 0; i <= digit_map::max_alternatives; ++i)
    many += i ? "|1" : "1";
  EXPECT_FALSE(digit_map::compile(many));
}

} // namespace
} // namespace cms::mgcp
