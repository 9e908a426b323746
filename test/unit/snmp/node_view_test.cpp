// The checks a view passes before the subagent serves it, and the DateAndTime encoding.

#include "runtime/snmp/date_and_time.hpp"
#include "runtime/snmp/node_view.hpp"

#include <gtest/gtest.h>

namespace cms::snmp {
namespace {

node_view valid_view() {
  node_view v;
  v.node_id = "cms-a";
  v.gateways.push_back({1, "gw1.example.net", "10.0.0.1:2427", "seg-a", gateway_use::primary,
                        service_state::in_service, "pri-1", "carrier-x"});
  v.facilities.push_back({1, "pri-1", "gw1.example.net", trunk_signalling::pri, "carrier-x", 20, 3,
                          0, service_state::in_service});
  v.data_links.push_back({1, "dl-primary", link_kind::primary, link_status::up, {}, 0});
  v.call_failures_by_cause.push_back({17, "userBusy", 4});
  return v;
}

TEST(node_view_validate, accepts_a_valid_view) { EXPECT_EQ(validate(valid_view()), ""); }

TEST(node_view_validate, accepts_an_empty_view) { EXPECT_EQ(validate(node_view{}), ""); }

TEST(node_view_validate, refuses_index_zero_and_out_of_range) {
  auto v = valid_view();
  v.gateways[0].index = 0;
  EXPECT_NE(validate(v).find("gateways row 0"), std::string::npos) << validate(v);
  v = valid_view();
  v.data_links[0].index = max_table_index + 1;
  EXPECT_NE(validate(v).find("out of range"), std::string::npos);
}

TEST(node_view_validate, refuses_duplicate_index) {
  auto v = valid_view();
  v.facilities.push_back(v.facilities[0]);
  EXPECT_NE(validate(v).find("duplicate index"), std::string::npos);
}

TEST(node_view_validate, refuses_long_names) {
  auto v = valid_view();
  v.data_links[0].name = std::string(65, 'x');
  EXPECT_NE(validate(v).find("name longer than 64"), std::string::npos);
  v = valid_view();
  v.node_id = std::string(65, 'n');
  EXPECT_NE(validate(v), "");
}

TEST(node_view_validate, refuses_enumerations_outside_the_mib) {
  auto v = valid_view();
  v.role = static_cast<node_role>(0);
  EXPECT_NE(validate(v), "");
  v = valid_view();
  v.gateways[0].state = static_cast<service_state>(9);
  EXPECT_NE(validate(v).find("state has no MIB value"), std::string::npos);
}

TEST(date_and_time, encodes_utc_with_deciseconds) {
  // 2025-01-15 10:20:30.750 UTC
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1736936430750));
  const auto octets = encode_date_and_time(t);
  const std::array<std::uint8_t, 11> expected = {0x07, 0xe9, 1, 15, 10, 20, 30, 7, '+', 0, 0};
  EXPECT_EQ(octets, expected);
}

TEST(date_and_time, clamps_times_before_1970) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(-100));
  const auto octets = encode_date_and_time(t);
  EXPECT_EQ(octets[0] * 256 + octets[1], 1970);
  EXPECT_EQ(octets[2], 1);
  EXPECT_EQ(octets[3], 1);
}

} // namespace
} // namespace cms::snmp
