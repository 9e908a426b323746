// R:, S:, O:, T: lists with the NCS line (L/) and DTMF (D/) packages.

#include "runtime/mgcp/events.hpp"

#include <gtest/gtest.h>

namespace cms::mgcp {
namespace {

TEST(event_name, forms) {
  auto hd = parse_event_name("L/hd");
  ASSERT_TRUE(hd);
  EXPECT_EQ(hd->package, "L");
  EXPECT_EQ(hd->event, "hd");
  EXPECT_EQ(hd->to_string(), "L/hd");
  auto range = parse_event_name("D/[0-9#*T]");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->event, "[0-9#*T]");
  auto conn = parse_event_name("L/rt@0A3F58");
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->connection, "0A3F58");
  EXPECT_EQ(conn->to_string(), "L/rt@0A3F58");
  auto bare = parse_event_name("hu");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->package, "");
  EXPECT_TRUE(parse_event_name("*/all"));
  EXPECT_TRUE(parse_event_name("D/#"));
  EXPECT_FALSE(parse_event_name("L/"));
  EXPECT_FALSE(parse_event_name("/hd"));
  EXPECT_FALSE(parse_event_name("L/h d"));
  EXPECT_FALSE(parse_event_name("L/rt@zz"));
  EXPECT_FALSE(parse_event_name("D/[0-9"));
}

TEST(event_name, requested_matches_observed) {
  auto digits = *parse_event_name("D/[0-9#*T]");
  EXPECT_TRUE(digits.matches(*parse_event_name("D/5")));
  EXPECT_TRUE(digits.matches(*parse_event_name("d/#")));
  EXPECT_TRUE(digits.matches(*parse_event_name("D/T")));
  EXPECT_FALSE(digits.matches(*parse_event_name("D/A")));
  EXPECT_FALSE(digits.matches(*parse_event_name("L/5")));
  EXPECT_TRUE(parse_event_name("L/hd")->matches(*parse_event_name("l/HD")));
  EXPECT_FALSE(parse_event_name("L/hd")->matches(*parse_event_name("L/hu")));
  EXPECT_TRUE(parse_event_name("L/all")->matches(*parse_event_name("L/hf")));
  EXPECT_TRUE(parse_event_name("*/hd")->matches(*parse_event_name("L/hd")));
  EXPECT_TRUE(parse_event_name("D/5")->is_digit());
  EXPECT_FALSE(parse_event_name("D/T")->is_digit());
  EXPECT_FALSE(parse_event_name("L/hd")->is_digit());
}

TEST(requested_events, ncs_off_hook_request) {
  auto r = parse_requested_events("L/hu(N), L/hf(S,N), D/[0-9#*T](D)");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name.event, "hu");
  EXPECT_TRUE((*r)[0].has_action("N"));
  EXPECT_EQ((*r)[1].actions, (std::vector<std::string>{"S", "N"}));
  EXPECT_TRUE((*r)[2].has_action("d"));
  EXPECT_EQ(build_requested_events(*r), "L/hu(N), L/hf(S,N), D/[0-9#*T](D)");
}

TEST(requested_events, embedded_request_and_parameters) {
  auto r = parse_requested_events("L/hd(A, E(S(L/dl),R(L/oc,L/hu,D/[0-9#*T](D)))), L/oc(N)(10)");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  ASSERT_EQ((*r)[0].actions.size(), 2u);
  EXPECT_EQ((*r)[0].actions[1], "E(S(L/dl),R(L/oc,L/hu,D/[0-9#*T](D)))");
  EXPECT_TRUE((*r)[0].has_action("E"));
  EXPECT_EQ((*r)[1].parameters, "10");
  EXPECT_EQ(build_requested_events(*r),
            "L/hd(A,E(S(L/dl),R(L/oc,L/hu,D/[0-9#*T](D)))), L/oc(N)(10)");
}

TEST(requested_events, bad_lists) {
  EXPECT_TRUE(parse_requested_events("")->empty());
  EXPECT_FALSE(parse_requested_events("L/hd(N"));
  EXPECT_FALSE(parse_requested_events("L/hd)N("));
  EXPECT_FALSE(parse_requested_events("L/hd(N)x"));
  EXPECT_FALSE(parse_requested_events("L/hd(N)(1)(2)"));
  EXPECT_FALSE(parse_requested_events("L/hd(,)"));
  EXPECT_FALSE(parse_requested_events("L/hd,"));
  std::string deep = "L/hd(" + std::string(40, '(') + std::string(40, ')') + ")";
  EXPECT_FALSE(parse_requested_events(deep));
}

TEST(signal_requests, ring_dial_tone_caller_id_and_empty) {
  for (const char* s : {"L/rg", "L/dl", "L/rt", "L/bz", "L/ro"}) {
    auto sig = parse_signal_requests(s);
    ASSERT_TRUE(sig) << s;
    ASSERT_EQ(sig->size(), 1u);
    EXPECT_EQ(build_event_list(*sig), s);
  }
  EXPECT_TRUE(parse_signal_requests("")->empty());
  auto ci = parse_signal_requests("L/rg, L/ci(10/14/17/26, \"555 1212\", \"Some (body), Jr\")");
  ASSERT_TRUE(ci);
  ASSERT_EQ(ci->size(), 2u);
  EXPECT_EQ((*ci)[1].parameters, "10/14/17/26, \"555 1212\", \"Some (body), Jr\"");
  EXPECT_EQ(build_event_list(*ci), "L/rg, L/ci(10/14/17/26, \"555 1212\", \"Some (body), Jr\")");
  EXPECT_FALSE(parse_signal_requests("L/ci(\"open"));
}

TEST(observed_events, digits_as_separate_events_or_one_string) {
  auto o = parse_observed_events("L/hd,D/9,D/1,D/1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size(), 4u);
  EXPECT_EQ(observed_digits(*o), "911");
  auto s = parse_observed_events("D/5551234");
  ASSERT_TRUE(s);
  EXPECT_EQ(observed_digits(*s), "5551234");
  auto t = parse_observed_events("D/*,D/6,D/9,D/T,L/hu");
  EXPECT_EQ(observed_digits(*t), "*69");
}

TEST(split_top_level, respects_nesting) {
  auto v = split_top_level("a(b,c),[d,e],\"f,g\",h", ',');
  ASSERT_TRUE(v);
  EXPECT_EQ(v->size(), 4u);
  EXPECT_FALSE(split_top_level("a]", ','));
  EXPECT_FALSE(split_top_level("\"a", ','));
}

} // namespace
} // namespace cms::mgcp
