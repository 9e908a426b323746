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

  boost::json::object link(const std::string& name) {
    auto links = node_.get_json("/links?limit=100");
    if (auto* items = links.if_contains("items"))
      for (auto& l : items->as_array())
        if (l.as_object().at("name").as_string() == name)
          return l.as_object();
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
  EXPECT_EQ(events().find("kept from before the restart"), std::string::npos) << events();
}

} // namespace
