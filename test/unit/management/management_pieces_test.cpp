// The management plane's pieces on their own: the drain switch, the admin state registry, the
// event ring, the audit log file, paging, cluster/link change detection, the SNMP view builder
// and the notifications it derives.

#include "runtime/node/admin_state.hpp"
#include "runtime/base/admission.hpp"
#include "runtime/node/audit_log.hpp"
#include "runtime/node/cluster_events.hpp"
#include "runtime/node/event_log.hpp"
#include "runtime/node/inventory_json.hpp"
#include "runtime/node/paging.hpp"
#include "runtime/node/snmp_bridge.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <thread>

namespace cms {
namespace {

TEST(admission, drain_and_undrain_report_changes_and_are_visible_from_other_threads) {
  admission a;
  EXPECT_TRUE(a.accepting_new_calls());
  EXPECT_TRUE(a.drain("maintenance"));
  EXPECT_FALSE(a.drain("again")) << "already draining: no change";
  bool seen = false;
  std::thread([&] { seen = !a.accepting_new_calls(); }).join();
  EXPECT_TRUE(seen);
  EXPECT_EQ(a.get().reason, "maintenance");
  EXPECT_GT(a.get().since_ms, 0);
  EXPECT_TRUE(a.undrain("done"));
  EXPECT_FALSE(a.undrain("done"));
  EXPECT_TRUE(a.accepting_new_calls());
}

TEST(admin_state, out_of_service_is_per_kind_and_listeners_see_changes_only) {
  admin_state_registry r;
  std::vector<std::string> seen;
  r.on_change([&](admin_object k, const admin_entry& e) {
    seen.push_back(std::string(to_string(k)) + ":" + e.name + ":" +
                   (e.out_of_service ? "oos" : "is"));
  });
  EXPECT_TRUE(r.set_out_of_service(admin_object::data_link, "dl-primary", true, "fibre cut"));
  EXPECT_FALSE(r.set_out_of_service(admin_object::data_link, "dl-primary", true, "again"));
  EXPECT_TRUE(r.is_out_of_service(admin_object::data_link, "dl-primary"));
  EXPECT_FALSE(r.is_out_of_service(admin_object::gateway, "dl-primary"));
  EXPECT_EQ(r.get(admin_object::data_link, "dl-primary").reason, "fibre cut");
  EXPECT_EQ(r.out_of_service(admin_object::data_link).size(), 1u);
  EXPECT_TRUE(r.set_out_of_service(admin_object::data_link, "dl-primary", false, "repaired"));
  EXPECT_FALSE(r.set_out_of_service(admin_object::gateway, "never-touched", false, ""));
  EXPECT_TRUE(r.out_of_service(admin_object::data_link).empty());
  EXPECT_EQ(seen,
            (std::vector<std::string>{"data_link:dl-primary:oos", "data_link:dl-primary:is"}));
}

TEST(event_log, every_event_names_the_node_and_its_role_when_it_was_recorded) {
  event_log log{8};
  std::string role = "standby";
  log.set_reporter("cms-b", [&] { return role; });
  log.record("data_link", "info", "data link dl-primary (primary) up -> down");
  role = "active";
  log.record("gateway", "critical", "gateway tgw-l1 failed");
  auto events = log.since(0, 8);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].node, "cms-b");
  EXPECT_EQ(events[0].role, "standby");
  EXPECT_EQ(events[1].role, "active");
}

TEST(event_log, ring_keeps_the_newest_and_answers_after_a_seq) {
  event_log log{3};
  for (int i = 0; i < 5; ++i)
    log.record("k", "info", "e" + std::to_string(i));
  EXPECT_EQ(log.last_seq(), 5u);
  auto all = log.since(0, 100);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.front().message, "e2");
  EXPECT_EQ(log.since(4, 100).size(), 1u);
  auto newest = log.since(0, 2);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest.back().seq, 5u);
}

TEST(audit_log, one_json_line_per_action_without_the_token) {
  test::temp_dir dir;
  audit_log audit{dir.path() / "sub" / "audit.log", "node-x"};
  EXPECT_TRUE(audit.append({"drain", "", "127.0.0.1:4000", "valid", 200, "draining"}));
  EXPECT_TRUE(
    audit.append({"link_out_of_service", "dl \"quoted\"", "127.0.0.1:4001", "invalid", 403, "no"}));
  std::ifstream in{dir.path() / "sub" / "audit.log"};
  std::string line;
  std::vector<boost::json::object> lines;
  while (std::getline(in, line))
    lines.push_back(boost::json::parse(line).as_object());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("outcome"), "accepted");
  EXPECT_EQ(lines[0].at("node"), "node-x");
  EXPECT_EQ(lines[1].at("outcome"), "refused");
  // A caller without the token gets none of its own bytes into the file: only their count.
  EXPECT_FALSE(lines[1].contains("target"));
  EXPECT_FALSE(lines[1].contains("detail"));
  EXPECT_EQ(lines[1].at("target_bytes").to_number<int>(), 11); // dl "quoted"
  EXPECT_EQ(lines[0].at("target"), "");
  EXPECT_EQ(audit_log::iso_time(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

TEST(cluster_events, a_promotion_with_an_image_behind_is_a_critical_event) {
  cluster_snapshot before;
  before.role = "standby";
  auto now = before;
  now.role = "active";
  now.promotion_gap = "12 records announced and not applied (340 ms)";
  now.promotion_gap_ms = 1'700'000'000'000;
  auto events = cluster_changes(before, now);
  auto it = std::find_if(events.begin(), events.end(),
                         [](const event_text& e) { return e.kind == "promotion_gap"; });
  ASSERT_NE(it, events.end());
  EXPECT_EQ(it->severity, "critical");
  EXPECT_NE(it->message.find("12 records"), std::string::npos);
  auto again = cluster_changes(now, now); // recorded once, not at every poll
  EXPECT_TRUE(std::none_of(again.begin(), again.end(),
                           [](const event_text& e) { return e.kind == "promotion_gap"; }));
}

std::vector<boost::json::object> json_lines(const std::filesystem::path& file) {
  std::ifstream in{file};
  std::string line;
  std::vector<boost::json::object> lines;
  while (std::getline(in, line))
    lines.push_back(boost::json::parse(line).as_object());
  return lines;
}

TEST(audit_log, refused_attempts_are_rate_limited_and_the_rest_counted) {
  test::temp_dir dir;
  audit_limits limits;
  limits.refused_per_s = 1; // burst 4
  audit_log audit{dir.path() / "audit.log", "node-x", limits};
  const std::string huge(60 * 1024, 'A');
  for (int i = 0; i < 50; ++i)
    audit.append({"drain", huge, "192.0.2.9:4000", "missing", 401, "authentication required"});
  // Accepted actions are never limited.
  audit.append({"drain", "", "127.0.0.1:4000", "valid", 200, "draining"});
  auto lines = json_lines(dir.path() / "audit.log");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(audit.suppressed(), 46u);
  EXPECT_LT(std::filesystem::file_size(dir.path() / "audit.log"), 4096u);
  std::this_thread::sleep_for(std::chrono::milliseconds{1100});
  audit.append({"drain", huge, "192.0.2.9:4000", "missing", 401, "authentication required"});
  lines = json_lines(dir.path() / "audit.log");
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines.back().at("suppressed").to_number<int>(), 46);
}

TEST(audit_log, is_rotated_by_size_keeping_the_configured_number_of_files) {
  test::temp_dir dir;
  audit_limits limits;
  limits.max_bytes = 2000;
  limits.files = 2;
  audit_log audit{dir.path() / "audit.log", "node-x", limits};
  const std::string target(300, 'g'); // cut at 256 bytes in the line
  for (int i = 0; i < 60; ++i)
    ASSERT_TRUE(audit.append({"gateway_out_of_service", target, "127.0.0.1:1", "valid", 200, ""}));
  auto base = dir.path() / "audit.log";
  EXPECT_LE(std::filesystem::file_size(base), 2000u);
  EXPECT_TRUE(std::filesystem::exists(base.string() + ".1"));
  EXPECT_TRUE(std::filesystem::exists(base.string() + ".2"));
  EXPECT_FALSE(std::filesystem::exists(base.string() + ".3"));
  auto lines = json_lines(base);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().at("target").as_string().size(), audit_log::max_target_bytes);
}

http::request with_query(http::param_map q) {
  http::request r;
  r.query = std::move(q);
  return r;
}

TEST(paging, defaults_limits_and_bad_values) {
  http::response err;
  auto p = parse_paging(with_query({}), err);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->offset, 0u);
  EXPECT_EQ(p->limit, 100u);
  EXPECT_FALSE(parse_paging(with_query({{"limit", "1001"}}), err));
  EXPECT_EQ(err.status, 400u);
  EXPECT_FALSE(parse_paging(with_query({{"offset", "-1"}}), err));
  EXPECT_FALSE(parse_paging(with_query({{"limit", "ten"}}), err));

  boost::json::array items;
  for (int i = 0; i < 5; ++i)
    items.push_back(boost::json::object{{"n", i}, {"kind", i % 2 ? "odd" : "even"}});
  auto page = make_page(items, {1, 2});
  EXPECT_EQ(page.at("total").to_number<int>(), 5);
  ASSERT_EQ(page.at("items").as_array().size(), 2u);
  EXPECT_EQ(page.at("items").as_array()[0].at("n").to_number<int>(), 1);
  auto filtered = make_page(items, {0, 100}, {{"kind", "odd"}, {"limit", "100"}});
  EXPECT_EQ(filtered.at("total").to_number<int>(), 2);
  EXPECT_TRUE(make_page(items, {10, 5}).at("items").as_array().empty());
}

TEST(cluster_events, role_peer_and_path_changes_become_events) {
  cluster_snapshot a;
  a.role = "standby";
  a.epoch = 3;
  a.peer_state = "up";
  a.peer_link = "up";
  a.peer_udp = "up";
  auto b = a;
  b.role = "active";
  b.epoch = 4;
  b.peer_state = "down";
  b.peer_link = "down";
  b.peer_udp = "down";
  b.last_failover_reason = "peer lost on both heartbeat paths";
  auto ev = cluster_changes(a, b);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].kind, "failover");
  EXPECT_EQ(ev[0].severity, "critical");
  EXPECT_TRUE(cluster_changes(b, b).empty());
  auto planned = b;
  planned.role = "standby";
  planned.last_failover_reason = "graceful switchover: handing over";
  EXPECT_EQ(cluster_changes(b, planned)[0].kind, "role_change");

  auto links = link_changes({{"dl-primary", "up"}}, {{"dl-primary", "down"}, {"dl-backup", "up"}});
  ASSERT_EQ(links.size(), 2u);
}

persistence::provisioning sample_provisioning() {
  persistence::provisioning p;
  p.gateways.push_back({"tgw-1", "10.0.0.1", 2427, "active", std::nullopt, "partner"});
  p.gateways.push_back({"tgw-9", "10.0.0.9", 2427, "cold_spare", std::string("tgw-1"), "partner"});
  p.facilities.push_back({"f1", "tgw-1", "pri", "carrier-a", 1, 23, std::nullopt});
  p.data_links.push_back({"dl-primary", "primary", "127.0.0.1", "10.1.0.1", 5010});
  p.data_links.push_back({"dl-backup", "backup", "127.0.0.1", "10.1.0.2", 5010});
  p.trunk_groups.push_back({"tg", "Group", "partner", {{"f1", 1}}});
  p.routes.push_back({"1", "tg", 1});
  return p;
}

metrics::sample gauge(std::string name, metrics::label_set labels, double v) {
  return {std::move(name), std::move(labels), metrics::kind::gauge, v};
}

TEST(inventory_json, rows_merge_metrics_and_admin_state) {
  auto p = sample_provisioning();
  admin_state_registry admin;
  admin.set_out_of_service(admin_object::gateway, "tgw-1", true, "repair");
  std::vector<metrics::sample> samples{gauge("cms_data_link_state", {{"link", "dl-primary"}}, 2)};
  auto links = links_json(p, samples, admin);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].at("state"), "up");
  EXPECT_EQ(links[1].at("state"), "unknown");
  auto fac = facilities_json(p, admin);
  EXPECT_EQ(fac[0].at("gateway_admin_state"), "out_of_service");
  EXPECT_EQ(fac[0].at("trunk_groups").as_array().size(), 1u);
  auto gws = gateways_json(p, admin);
  EXPECT_EQ(gws[0].at("admin_state"), "out_of_service");
  EXPECT_EQ(gws[1].at("spare_for"), "tgw-1");
  EXPECT_EQ(routes_json(p)[0].at("trunk_group_name"), "Group");
  merge_live(links, "name", {{"dl-backup", boost::json::object{{"state", "degraded"}}}});
  EXPECT_EQ(links[1].at("state"), "degraded");
}

TEST(snmp_bridge, view_is_built_from_cluster_metrics_and_provisioning_and_passes_the_mib) {
  snmp_inputs in;
  in.node_id = "cms-a";
  in.cluster.role = "active";
  in.cluster.epoch = 7;
  in.cluster.peer_state = "up";
  in.cluster.peer_link = "up";
  in.cluster.peer_udp = "down";
  in.samples = {gauge("cms_calls_active", {}, 12),
                {"cms_call_attempts_total", {}, metrics::kind::counter, 100},
                {"cms_call_failures_total", {{"cause", "17"}}, metrics::kind::counter, 3},
                {"cms_call_failures_total", {{"cause", "3"}}, metrics::kind::counter, 2},
                gauge("cms_endpoints_total", {}, 20),
                gauge("cms_data_link_state", {{"link", "dl-primary"}}, 2)};
  in.provisioning = sample_provisioning();
  in.billing = billing_status{};
  in.billing->pending = billing_backlog_high_water + 1;
  std::map<std::string, std::chrono::system_clock::time_point> last;
  auto now = std::chrono::system_clock::now();
  auto v = build_node_view(in, nullptr, last, now);
  EXPECT_EQ(snmp::validate(v), "");
  EXPECT_EQ(v.role, snmp::node_role::active);
  EXPECT_EQ(v.epoch, 7u);
  EXPECT_EQ(v.heartbeat_second_path, snmp::reachability::down);
  EXPECT_EQ(v.calls_active, 12u);
  EXPECT_EQ(v.call_attempts, 100u);
  EXPECT_EQ(v.call_failures, 5u);
  ASSERT_EQ(v.call_failures_by_cause.size(), 2u);
  EXPECT_EQ(v.call_failures_by_cause[1].name, "userBusy");
  EXPECT_EQ(v.endpoints_total, 20u);
  ASSERT_EQ(v.gateways.size(), 2u);
  EXPECT_EQ(v.gateways[1].role, snmp::gateway_use::cold_spare);
  EXPECT_EQ(v.gateways[0].address, "10.0.0.1:2427");
  ASSERT_EQ(v.data_links.size(), 2u);
  EXPECT_EQ(v.data_links[0].state, snmp::link_status::up);
  EXPECT_EQ(v.data_links[1].state, snmp::link_status::down);
  EXPECT_EQ(v.billing_backlog_alarm, snmp::backlog_alarm::high);

  // The node hands over and the primary link goes down: the role change and its own backlog are
  // reported, the link is not (the node is standby now: the active reports shared equipment).
  auto in2 = in;
  in2.samples.back().value = 0;
  in2.cluster.role = "standby";
  in2.billing->pending = 0;
  auto v2 = build_node_view(in2, &v, last, now + std::chrono::seconds{1});
  EXPECT_EQ(v2.data_links[0].last_change, now + std::chrono::seconds{1});
  auto traps = traps_between(v, v2, "graceful switchover: handing over");
  ASSERT_EQ(traps.size(), 2u);
  EXPECT_EQ(traps[0].kind, snmp::trap_kind::role_change);
  EXPECT_EQ(traps[1].kind, snmp::trap_kind::billing_backlog_cleared);

  // It takes over again: it reports the links it finds down (dl-backup), once.
  auto back = traps_between(v2, v, "peer lost on both heartbeat paths");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].kind, snmp::trap_kind::failover);
  EXPECT_EQ(back[1].kind, snmp::trap_kind::data_link_down);
  EXPECT_EQ(back[1].link_name, v.data_links[1].name);
  EXPECT_EQ(back[2].kind, snmp::trap_kind::billing_backlog_high);
  EXPECT_TRUE(traps_between(v, v, "").empty());

  // While active, a link change is a trap; the same change seen by a standby is not.
  auto v3 = v;
  v3.data_links[0].state = snmp::link_status::down;
  auto active_view = traps_between(v, v3, "");
  ASSERT_EQ(active_view.size(), 1u);
  EXPECT_EQ(active_view[0].kind, snmp::trap_kind::data_link_down);
  auto sv = v2, sv3 = v2;
  sv.data_links[0].state = snmp::link_status::up;
  sv3.data_links[0].state = snmp::link_status::down;
  EXPECT_TRUE(traps_between(sv, sv3, "").empty());
}

TEST(snmp_bridge, overlong_names_are_cut_to_the_mib_size_instead_of_refusing_the_view) {
  snmp_inputs in;
  in.node_id = std::string(100, 'n');
  in.provisioning = persistence::provisioning{};
  in.provisioning->data_links.push_back({std::string(80, 'l'), "primary", "a", "b", 1});
  std::map<std::string, std::chrono::system_clock::time_point> last;
  auto v = build_node_view(in, nullptr, last, std::chrono::system_clock::now());
  EXPECT_EQ(snmp::validate(v), "");
  EXPECT_EQ(v.node_id.size(), snmp::max_name_length);
}

} // namespace
} // namespace cms
