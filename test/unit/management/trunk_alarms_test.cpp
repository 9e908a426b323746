// Trunk alarms (runtime/node/management_trunks.hpp): what two readings of the trunk status raise, and
// the SNMP view's gateway and facility rows built from the live status.

#include "runtime/node/management_trunks.hpp"
#include "runtime/node/snmp_bridge.hpp"

#include <gtest/gtest.h>

namespace cms {
namespace {

trunk_status pair_with_spare() {
  trunk_status s;
  gateway_status a;
  a.name = "tgw-a.test";
  a.address = "127.0.0.1:4001";
  a.role = "active";
  a.carrier = "northtel";
  a.carrying = {"a-pri-1"};
  gateway_status spare;
  spare.name = "tgw-s.test";
  spare.address = "127.0.0.1:4009";
  spare.role = "cold_spare";
  s.gateways = {a, spare};
  facility_status f;
  f.id = "a-pri-1";
  f.home_gateway = f.gateway = "tgw-a.test";
  f.carrier = "northtel";
  f.known = true;
  f.channels_idle = 23;
  s.facilities = {f};
  return s;
}

std::vector<trunk_alarm_kind> kinds(const std::vector<trunk_alarm>& alarms) {
  std::vector<trunk_alarm_kind> out;
  for (auto& a : alarms)
    out.push_back(a.kind);
  return out;
}

TEST(trunk_alarms, nothing_changed_raises_nothing_and_the_baseline_matches_a_healthy_start) {
  auto s = pair_with_spare();
  EXPECT_TRUE(trunk_alarms_between(s, s).empty());
  EXPECT_TRUE(trunk_alarms_between(trunk_baseline(s), s).empty());
}

// Only the active node raises gateway and facility alarms: a standby's gateway actors are fenced
// and find every gateway silent, which is no fault of the gateways.
TEST(trunk_alarm_gate, a_standby_raises_nothing_and_a_new_active_raises_what_it_finds_once) {
  using namespace std::chrono_literals;
  trunk_alarm_gate gate{3s};
  auto healthy = pair_with_spare();
  auto failed = healthy;
  failed.gateways[0].healthy = false;
  failed.gateways[0].transitions = 1;
  auto t0 = std::chrono::steady_clock::time_point{} + 100s;

  EXPECT_TRUE(gate.update(false, failed, t0).empty()) << "standby: silent";
  EXPECT_TRUE(gate.update(false, healthy, t0 + 1s).empty());
  EXPECT_TRUE(gate.update(false, failed, t0 + 2s).empty());

  // Promoted: nothing during the settle time (its keepalives are being answered)...
  EXPECT_TRUE(gate.update(true, failed, t0 + 3s).empty());
  EXPECT_TRUE(gate.update(true, failed, t0 + 5s).empty());
  // ...then what is still failed is raised, compared with the healthy start assumption, once.
  EXPECT_EQ(kinds(gate.update(true, failed, t0 + 6s)),
            std::vector{trunk_alarm_kind::gateway_failed});
  EXPECT_TRUE(gate.update(true, failed, t0 + 7s).empty());
  EXPECT_EQ(kinds(gate.update(true, healthy, t0 + 8s)),
            std::vector{trunk_alarm_kind::gateway_restored});

  // A gateway failed only in the fenced moments around a takeover raises nothing.
  EXPECT_TRUE(gate.update(false, failed, t0 + 9s).empty());
  EXPECT_TRUE(gate.update(true, failed, t0 + 10s).empty());
  auto flapped = healthy; // failed while fenced, healthy again after the takeover
  flapped.gateways[0].transitions = 2;
  EXPECT_TRUE(gate.update(true, flapped, t0 + 13s).empty());
  EXPECT_TRUE(gate.update(true, flapped, t0 + 14s).empty());
}

TEST(trunk_alarms, keepalive_failure_then_spare_promotion_raise_failed_and_promoted) {
  auto before = pair_with_spare();
  auto now = before;
  now.gateways[0].healthy = false;
  now.gateways[0].misses = 2;
  now.gateways[0].transitions = 1;
  now.gateways[0].carrying.clear();
  now.gateways[1].carrying = {"a-pri-1"};
  now.gateways[1].replacing = {"tgw-a.test"};
  now.gateways[1].carrier = "northtel";
  now.gateways[1].promoted_ms = 1700000000000;
  now.facilities[0].gateway = "tgw-s.test";

  auto alarms = trunk_alarms_between(before, now);
  ASSERT_EQ(kinds(alarms),
            (std::vector{trunk_alarm_kind::gateway_failed, trunk_alarm_kind::spare_promoted}));
  EXPECT_EQ(alarms[0].subject, "tgw-a.test");
  EXPECT_EQ(alarms[0].carrier, "northtel");
  EXPECT_NE(alarms[0].reason.find("no answer to 2 AUEP keepalives"), std::string::npos)
    << alarms[0].reason;
  EXPECT_EQ(alarms[1].subject, "tgw-s.test");
  EXPECT_EQ(alarms[1].replaced, "tgw-a.test");
  EXPECT_NE(alarms[1].reason.find("gateway tgw-a.test failed"), std::string::npos)
    << alarms[1].reason;

  auto failed = to_trap(alarms[0]);
  EXPECT_EQ(failed.kind, snmp::trap_kind::gateway_failed);
  EXPECT_EQ(failed.gateway_address, "127.0.0.1:4001");
  auto promoted = to_trap(alarms[1]);
  EXPECT_EQ(promoted.kind, snmp::trap_kind::cold_spare_promoted);
  EXPECT_EQ(promoted.replaced_gateway, "tgw-a.test");
  auto event = to_event(alarms[1]);
  EXPECT_EQ(event.kind, "cold_spare");
  EXPECT_EQ(event.severity, "warning");

  // The same reading again: nothing new. A promotion is raised once.
  EXPECT_TRUE(trunk_alarms_between(now, now).empty());
}

TEST(trunk_alarms, rsip_forced_names_the_cause_and_recovery_clears_it) {
  auto before = pair_with_spare();
  auto now = before;
  now.gateways[0].healthy = false;
  now.gateways[0].forced = true;
  now.gateways[0].transitions = 1;
  auto alarms = trunk_alarms_between(before, now);
  ASSERT_EQ(kinds(alarms), (std::vector{trunk_alarm_kind::gateway_failed}));
  EXPECT_EQ(alarms[0].reason, "RSIP forced from the gateway");

  auto back = now;
  back.gateways[0].healthy = true;
  back.gateways[0].forced = false;
  back.gateways[0].transitions = 2;
  auto cleared = trunk_alarms_between(now, back);
  ASSERT_EQ(kinds(cleared), (std::vector{trunk_alarm_kind::gateway_restored}));
  EXPECT_EQ(to_trap(cleared[0]).kind, snmp::trap_kind::gateway_restored);
}

TEST(trunk_alarms, a_failure_and_recovery_between_two_readings_is_still_reported) {
  auto before = pair_with_spare();
  auto now = before;
  now.gateways[0].transitions = 2; // failed and came back: healthy in both readings
  EXPECT_EQ(kinds(trunk_alarms_between(before, now)),
            (std::vector{trunk_alarm_kind::gateway_failed, trunk_alarm_kind::gateway_restored}));
}

TEST(trunk_alarms, a_gateway_failed_at_start_is_alarmed_against_the_baseline) {
  auto now = pair_with_spare();
  now.gateways[0].healthy = false;
  now.gateways[0].misses = 5;
  now.gateways[0].transitions = 1;
  auto alarms = trunk_alarms_between(trunk_baseline(now), now);
  ASSERT_EQ(kinds(alarms), (std::vector{trunk_alarm_kind::gateway_failed}));
}

TEST(trunk_alarms, facility_down_and_up_carry_facility_gateway_and_carrier) {
  auto before = pair_with_spare();
  auto now = before;
  now.facilities[0].in_service = false;
  now.facilities[0].span_down = true;
  auto down = trunk_alarms_between(before, now);
  ASSERT_EQ(kinds(down), (std::vector{trunk_alarm_kind::facility_down}));
  EXPECT_NE(down[0].reason.find("span dropped"), std::string::npos) << down[0].reason;
  auto t = to_trap(down[0]);
  EXPECT_EQ(t.kind, snmp::trap_kind::facility_down);
  EXPECT_EQ(t.facility_id, "a-pri-1");
  EXPECT_EQ(t.gateway_name, "tgw-a.test");
  EXPECT_EQ(t.carrier, "northtel");
  EXPECT_EQ(to_event(down[0]).severity, "critical");

  auto up = trunk_alarms_between(now, before);
  ASSERT_EQ(kinds(up), (std::vector{trunk_alarm_kind::facility_up}));
  EXPECT_EQ(to_trap(up[0]).kind, snmp::trap_kind::facility_up);

  // A facility whose trunk actor has not published yet is not judged.
  auto unknown = before;
  unknown.facilities[0].known = false;
  auto unknown_down = unknown;
  unknown_down.facilities[0].in_service = false;
  EXPECT_TRUE(trunk_alarms_between(unknown, unknown_down).empty());
}

TEST(trunk_alarms, a_span_dropped_and_restored_between_two_readings_is_still_reported) {
  auto before = pair_with_spare();
  auto now = before;
  now.facilities[0].span_drops = 1; // RSIP forced then restart on the span: in service in both
  auto alarms = trunk_alarms_between(before, now);
  ASSERT_EQ(kinds(alarms),
            (std::vector{trunk_alarm_kind::facility_down, trunk_alarm_kind::facility_up}));
  EXPECT_NE(
    to_event(alarms[0]).message.find("facility a-pri-1 (northtel) out of service: span dropped"),
    std::string::npos)
    << to_event(alarms[0]).message;
  // The next reading with the same count raises nothing more.
  EXPECT_TRUE(trunk_alarms_between(now, now).empty());
  // A span down now and counted once is one alarm, not three.
  auto down = before;
  down.facilities[0].in_service = false;
  down.facilities[0].span_down = true;
  down.facilities[0].span_drops = 1;
  EXPECT_EQ(kinds(trunk_alarms_between(before, down)),
            (std::vector{trunk_alarm_kind::facility_down}));
  EXPECT_EQ(kinds(trunk_alarms_between(trunk_baseline(down), down)),
            (std::vector{trunk_alarm_kind::facility_down}));
}

TEST(trunk_alarms, snmp_view_rows_follow_the_live_status) {
  snmp_inputs in;
  in.node_id = "cms-a";
  persistence::provisioning p;
  persistence::gateway ga;
  ga.name = "tgw-a.test";
  ga.address = "127.0.0.1";
  ga.port = 4001;
  ga.role = "active";
  persistence::gateway gs = ga;
  gs.name = "tgw-s.test";
  gs.role = "cold_spare";
  p.gateways = {ga, gs};
  persistence::facility f;
  f.id = "a-pri-1";
  f.gateway = "tgw-a.test";
  f.carrier = "northtel";
  f.channels = 23;
  p.facilities = {f};
  in.provisioning = p;
  auto live = pair_with_spare();
  live.gateways[0].healthy = false;
  live.facilities[0].gateway = "tgw-s.test";
  live.facilities[0].channels_idle = 20;
  live.facilities[0].channels_busy = 3;
  in.trunks = live;
  std::map<std::string, std::chrono::system_clock::time_point> last_change;
  auto v = build_node_view(in, nullptr, last_change, std::chrono::system_clock::now());
  ASSERT_EQ(v.gateways.size(), 2u);
  EXPECT_EQ(v.gateways[0].state, snmp::service_state::failed);
  EXPECT_EQ(v.gateways[1].state, snmp::service_state::in_service);
  ASSERT_EQ(v.facilities.size(), 1u);
  EXPECT_EQ(v.facilities[0].gateway, "tgw-s.test");
  EXPECT_EQ(v.facilities[0].channels_busy, 3u);
  EXPECT_EQ(v.facilities[0].state, snmp::service_state::in_service);
  EXPECT_EQ(snmp::validate(v), "");
}

} // namespace
} // namespace cms
