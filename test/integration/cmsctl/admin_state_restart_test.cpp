// Drain and out-of-service survive a restart: a real cmsd is told over HTTP to drain and to take a
// data link and a gateway out of service, is stopped (SIGTERM) and started again on the same
// store, and still drains and keeps both out of service (with the operator's reason and time);
// returning them and restarting again brings everything back in service.

#include "support/node_harness.hpp"

#include <gtest/gtest.h>

#include <csignal>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

class admin_state_restart : public ::testing::Test {
protected:
  void SetUp() override {
    node_.start();
    ASSERT_TRUE(node_.wait_active()) << node_.output();
  }

  int post(const std::string& path, const std::string& body = {}) {
    auto raw = tcp_exchange(
      node_.http_port, "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                         "Authorization: Bearer " + node_.token + "\r\n" +
                         "Content-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body);
    return http_status(raw);
  }

  void restart() {
    node_.process->signal(SIGTERM);
    ASSERT_TRUE(node_.process->wait_exit(10s)) << node_.output();
    node_.start();
    ASSERT_TRUE(node_.wait_active()) << node_.output();
  }

  /// The row named `name` in the array `list` of GET `path`; empty when absent.
  boost::json::object row(const std::string& path, const char* list, const std::string& name) {
    auto body = node_.get_json(path);
    if (auto* rows = body.if_contains(list))
      for (auto& r : rows->as_array())
        if (r.as_object().at("name").as_string() == name)
          return r.as_object();
    return {};
  }
  boost::json::object link(const std::string& name) {
    return row("/links?limit=100", "items", name);
  }
  /// The gateway's row of GET /trunks (the live trunk actors' listing).
  boost::json::object gateway_row(const std::string& name) {
    return row("/trunks?limit=100", "gateways", name);
  }
  /// gateway_admin_state of the gateway's facilities in GET /trunks, "" when it has none.
  std::string facility_gateway_admin(const std::string& gateway) {
    auto trunks = node_.get_json("/trunks?limit=100&gateway=" + gateway);
    if (auto* items = trunks.if_contains("items"))
      for (auto& f : items->as_array())
        if (auto* a = f.as_object().if_contains("gateway_admin_state"))
          return std::string(a->as_string());
    return {};
  }

  bool draining() {
    auto c = node_.get_json("/cluster");
    auto* d = c.if_contains("draining");
    return d && d->is_bool() && d->as_bool();
  }

  std::string events() { return http_body(http_get(node_.http_port, "/events?limit=500")); }

  node_harness node_;
};

TEST_F(admin_state_restart, drain_and_out_of_service_are_kept_across_a_restart) {
  const std::string gateway = "tgw-l9.local.example";
  ASSERT_EQ(post("/admin/drain", R"({"reason":"maintenance window 42"})"), 200);
  ASSERT_EQ(post("/admin/links/dl-backup/out-of-service", R"({"reason":"carrier ticket 7"})"), 200);
  ASSERT_EQ(post("/admin/gateways/" + gateway + "/out-of-service", R"({"reason":"card swap"})"),
            200);
  ASSERT_TRUE(draining());
  EXPECT_EQ(gateway_row(gateway)["admin_state"], "out_of_service")
    << boost::json::serialize(node_.get_json("/trunks?limit=100"));
  EXPECT_EQ(gateway_row(gateway)["admin_reason"], "card swap");
  EXPECT_EQ(gateway_row("tgw-p1.partner.example")["admin_state"], "in_service");
  // The spare carries no facility: an active gateway's spans show their gateway's state.
  const std::string active_gateway = "tgw-l2.local.example";
  ASSERT_EQ(facility_gateway_admin(active_gateway), "in_service");
  ASSERT_EQ(post("/admin/gateways/" + active_gateway + "/out-of-service"), 200);
  EXPECT_EQ(facility_gateway_admin(active_gateway), "out_of_service");
  ASSERT_EQ(post("/admin/gateways/" + active_gateway + "/return"), 200);
  EXPECT_EQ(facility_gateway_admin(active_gateway), "in_service");
  auto before = link("dl-backup");
  ASSERT_EQ(before["admin_state"], "out_of_service") << boost::json::serialize(before);
  auto since = before["admin_since_ms"];

  restart();

  EXPECT_TRUE(draining()) << boost::json::serialize(node_.get_json("/cluster"));
  auto after = link("dl-backup");
  EXPECT_EQ(after["admin_state"], "out_of_service") << boost::json::serialize(after);
  EXPECT_EQ(after["admin_reason"], "carrier ticket 7") << boost::json::serialize(after);
  EXPECT_EQ(after["admin_since_ms"], since)
    << "the time of the operator's action, not of the restart";
  EXPECT_EQ(link("dl-primary")["admin_state"], "in_service");
  EXPECT_EQ(gateway_row(gateway)["admin_state"], "out_of_service");
  EXPECT_EQ(gateway_row(gateway)["admin_reason"], "card swap");
  auto log = events();
  EXPECT_NE(log.find("draining (kept from before the restart: maintenance window 42)"),
            std::string::npos)
    << log;
  EXPECT_NE(
    log.find("gateway " + gateway + " out of service (kept from before the restart: card swap)"),
    std::string::npos)
    << log;
  EXPECT_NE(node_.output().find("event=admin_state_restored"), std::string::npos) << node_.output();

  // Returned and undrained: a further restart starts with everything in service.
  ASSERT_EQ(post("/admin/undrain"), 200);
  ASSERT_EQ(post("/admin/links/dl-backup/return"), 200);
  ASSERT_EQ(post("/admin/gateways/" + gateway + "/return"), 200);
  restart();
  EXPECT_FALSE(draining());
  EXPECT_EQ(link("dl-backup")["admin_state"], "in_service");
  EXPECT_EQ(gateway_row(gateway)["admin_state"], "in_service");
  EXPECT_EQ(events().find("kept from before the restart"), std::string::npos) << events();
}

} // namespace
