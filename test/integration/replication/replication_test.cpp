// Replication and takeover across two real cmsd processes and mtasim (7):
// every kind of state reaches the standby (lines, calls, billing records), kill -9 of the active
// keeps established calls (no DLCX, RTP flowing, same start time, one signaling_stop at the
// hang-up), a billing record committed before the kill is on the survivor, and the killed node
// rejoins as standby from a snapshot.

#include "replication_harness.hpp"

#include <gtest/gtest.h>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* line1 = "aaln/1@mta-0001.cable.example";

bool formed(replication_pair& p) { return p.role(0) == "active" && p.role(1) == "standby"; }

/// Lines registered (idle) on node i.
std::size_t idle_lines(replication_pair& p, int i) {
  return p.items(i, "/endpoints?state=idle&limit=1000").size();
}

std::string field(const boost::json::object& o, const char* name) {
  auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string{};
}

class replication : public ::testing::Test {
protected:
  replication_pair p;

  void SetUp() override {
    // A first, so that it is active before B exists: the tests then know which node holds what,
    // however slowly a sanitizer build starts its actors.
    p.start(0);
    ASSERT_TRUE(eventually([&] { return p.role(0) == "active"; }, 15s)) << p.logs();
    p.start(1);
    ASSERT_TRUE(eventually([&] { return formed(p); }, 15s)) << p.logs();
    p.start_sim(2);
    ASSERT_TRUE(eventually([&] { return idle_lines(p, 0) == 4; }, 15s)) << p.logs();
  }
};

TEST_F(replication, lines_calls_and_billing_records_reach_the_standby) {
  // Lines: registered on A, listed on B with the MTA's address, and in B's store.
  ASSERT_TRUE(eventually([&] { return idle_lines(p, 1) == 4; }, 10s)) << p.logs();
  for (auto& e : p.items(1, "/endpoints?state=idle&limit=1000"))
    EXPECT_EQ(field(e.as_object(), "mta_address").rfind("127.0.0.10", 0), 0u) << e;
  EXPECT_GE(p.stored_states(1, "endpoint"), 4u);
  // A call in progress appears on B, in the same phase.
  auto id = p.connect_call(0, 1, "5551003");
  ASSERT_FALSE(id.empty()) << p.logs();
  ASSERT_TRUE(eventually([&] {
    auto c = p.call(1, id);
    return c && field(*c, "phase") == "connected";
  }))
    << p.logs();
  EXPECT_EQ(p.call(1, id)->at("started_ms"), p.call(0, id)->at("started_ms"));
  EXPECT_GE(p.stored_states(1, "call"), 1u);
  // Its end: gone from B's listing, and B's outbox holds A's billing records, same sequences.
  ASSERT_EQ(p.ctl("onhook 1"), "ok");
  ASSERT_TRUE(eventually([&] { return !p.call(1, id) && !p.call(0, id); })) << p.logs();
  for (auto* event : {"signaling_start", "call_answer", "signaling_stop"}) {
    auto record = id + ":" + event;
    auto on_a = p.billing_sequence(0, record);
    ASSERT_TRUE(on_a) << record;
    ASSERT_TRUE(eventually([&] { return p.billing_sequence(1, record).has_value(); }, 5s))
      << record;
    EXPECT_EQ(*p.billing_sequence(1, record), *on_a) << record;
  }
}

TEST_F(replication, kill_9_of_the_active_keeps_established_calls_and_rejoins_from_a_snapshot) {
  // One call completed before the kill: its billing is committed on A (and so on B).
  auto done = p.connect_call(0, 1, "5551003");
  ASSERT_FALSE(done.empty()) << p.logs();
  ASSERT_EQ(p.ctl("onhook 1"), "ok");
  ASSERT_TRUE(eventually([&] { return p.billing_count(0, done, "signaling_stop") == 1; }))
    << p.logs();
  ASSERT_TRUE(eventually([&] { return idle_lines(p, 0) == 4; })) << p.logs();
  // Two calls established and replicated.
  auto c1 = p.connect_call(0, 1, "5551003");
  auto c2 = p.connect_call(0, 2, "5551004");
  ASSERT_FALSE(c1.empty()) << p.logs();
  ASSERT_FALSE(c2.empty()) << p.logs();
  ASSERT_TRUE(eventually([&] {
    auto a = p.call(1, c1), b = p.call(1, c2);
    return a && b && field(*a, "phase") == "connected" && field(*b, "phase") == "connected";
  }))
    << p.logs();
  auto started1 = p.call(0, c1)->at("started_ms");
  auto started2 = p.call(0, c2)->at("started_ms");
  auto dlcx_before = p.dlcx_seen();
  ASSERT_GE(dlcx_before, 0);

  p.nodes[0]->signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << p.logs();
  // The new active lists both calls, connected, with their original start times.
  ASSERT_TRUE(eventually([&] {
    auto a = p.call(1, c1), b = p.call(1, c2);
    return a && b && field(*a, "phase") == "connected" && field(*b, "phase") == "connected";
  }))
    << p.logs();
  EXPECT_EQ(p.call(1, c1)->at("started_ms"), started1);
  EXPECT_EQ(p.call(1, c2)->at("started_ms"), started2);
  // Every line now points at B (RQNT with N: = B), and nothing was deleted.
  auto b_port = ":" + std::to_string(p.ports[1].mgcp);
  ASSERT_TRUE(eventually([&] {
    for (int l = 1; l <= 4; ++l)
      if (field(p.line(l), "notified_entity").find(b_port) == std::string::npos)
        return false;
    return true;
  }))
    << p.logs();
  EXPECT_EQ(p.dlcx_seen(), dlcx_before) << "no DLCX for established calls at takeover";
  for (int l = 1; l <= 4; ++l)
    EXPECT_EQ(p.connections(l), 1u) << "line " << l;
  // RTP keeps flowing on the kept calls.
  auto rtp = p.rtp_received(1);
  EXPECT_TRUE(eventually([&] { return p.rtp_received(1) > rtp + 10; }, 3s));
  // The billing record committed on A before the kill is on B.
  EXPECT_EQ(p.billing_count(1, done, "signaling_stop"), 1u);
  // Hang-up after takeover: the new active releases the call, billed exactly once.
  ASSERT_EQ(p.ctl("onhook 1"), "ok");
  ASSERT_TRUE(eventually([&] { return !p.call(1, c1); })) << p.logs();
  ASSERT_TRUE(eventually([&] { return p.billing_count(1, c1, "signaling_stop") == 1; }))
    << p.logs();
  EXPECT_EQ(p.billing_count(1, c1, "call_answer"), 1u);
  EXPECT_TRUE(p.call(1, c2));

  // The killed node rejoins as standby and converges from a snapshot.
  p.start(0);
  ASSERT_TRUE(eventually([&] { return p.role(0) == "standby" && p.role(1) == "active"; }, 15s))
    << p.logs();
  ASSERT_TRUE(eventually([&] {
    auto c = p.call(0, c2);
    return c && field(*c, "phase") == "connected" && !p.call(0, c1);
  }))
    << p.logs();
  EXPECT_TRUE(eventually([&] { return p.billing_count(0, c1, "signaling_stop") == 1; }, 5s));
  EXPECT_NE(p.output(0).find("event=snapshot_applied"), std::string::npos);
  // And follows the stream afterwards.
  ASSERT_EQ(p.ctl("onhook 2"), "ok");
  EXPECT_TRUE(
    eventually([&] { return !p.call(0, c2) && p.billing_count(0, c2, "signaling_stop") == 1; }))
    << p.logs();
}

} // namespace
