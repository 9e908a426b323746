// The routing rules alone: longest prefix, segment preference, load sharing, backups; and the
// X-TR package codec.

#include "actors/trunks/route_table.hpp"
#include "runtime/mgcp/trunk_package.hpp"

#include <gtest/gtest.h>

using namespace cms;

namespace {

persistence::provisioning sample() {
  persistence::provisioning p;
  auto fac = [](std::string id, std::string carrier, std::optional<std::string> backup) {
    persistence::facility f;
    f.id = std::move(id);
    f.gateway = "gw";
    f.carrier = std::move(carrier);
    f.backup_facility = std::move(backup);
    return f;
  };
  p.facilities = {fac("a1", "north", std::string{"b1"}), fac("a2", "north", std::string{"b1"}),
                  fac("b1", "blue", std::nullopt), fac("l1", "north", std::nullopt)};
  p.trunk_groups = {{"tg-a", "", "partner", {{"a1", 1}, {"a2", 1}}},
                    {"tg-l", "", "local", {{"l1", 1}}}};
  p.routes = {{"1", "tg-l", 2}, {"1", "tg-a", 1}, {"", "tg-l", 1}, {"1212", "tg-a", 1}};
  return p;
}

std::vector<std::string> ids(const std::vector<trunks::hunt_candidate>& c) {
  std::vector<std::string> out;
  for (auto& x : c)
    out.push_back(x.facility);
  return out;
}

TEST(route_table, longest_prefix_wins) {
  trunks::route_table t{sample()};
  EXPECT_EQ(t.match("12125550100"), std::optional<std::string>{"1212"});
  EXPECT_EQ(t.match("13125550100"), std::optional<std::string>{"1"});
  EXPECT_EQ(t.match("5550100"), std::optional<std::string>{""});
  trunks::route_table none{persistence::provisioning{}};
  EXPECT_FALSE(none.match("1"));
}

TEST(route_table, partner_first_then_local_overflow_with_backups_of_the_other_carrier) {
  trunks::route_table t{sample()};
  EXPECT_EQ(ids(t.candidates("13125550100", true, 0)),
            (std::vector<std::string>{"a1", "a2", "b1", "l1"}));
}

TEST(route_table, equal_priorities_share_the_load) {
  trunks::route_table t{sample()};
  EXPECT_EQ(ids(t.candidates("13125550100", true, 1)),
            (std::vector<std::string>{"a2", "a1", "b1", "l1"}));
}

TEST(route_table, primary_down_drops_the_partner_segment_and_falls_back_to_shorter_prefixes) {
  trunks::route_table t{sample()};
  EXPECT_EQ(ids(t.candidates("13125550100", false, 0)), (std::vector<std::string>{"l1"}));
  // "1212" has only partner groups: the next shorter prefix ("1") takes the call locally.
  auto c = t.candidates("12125550100", false, 0);
  EXPECT_EQ(ids(c), (std::vector<std::string>{"l1"}));
  EXPECT_EQ(c[0].prefix, "1");
}

TEST(trunk_package, builds_and_parses_the_x_tr_events) {
  mgcp::trunk::pstn_event sup;
  sup.called = "5551001";
  sup.calling = "2125550100";
  EXPECT_EQ(mgcp::trunk::build(sup), "X-TR/sup(5551001,2125550100)");
  auto list = mgcp::trunk::parse_list("L/hd, X-TR/sup(5551001,2125550100), X-TR/rel(34)");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], sup);
  EXPECT_EQ((*list)[1].kind, mgcp::trunk::signal_kind::rel);
  EXPECT_EQ((*list)[1].cause, 34);
  EXPECT_FALSE(mgcp::trunk::parse_list("X-TR/rel(abc)"));
  EXPECT_FALSE(mgcp::trunk::parse_list("X-TR/rel(300)"));
  EXPECT_FALSE(mgcp::trunk::parse_list("X-TR/sup(55x1)"));
  EXPECT_FALSE(mgcp::trunk::parse_list("X-TR/zzz"));
  EXPECT_FALSE(mgcp::trunk::parse_list("X-TR/sup(1"));
}

} // namespace
