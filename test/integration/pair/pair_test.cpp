// Two real cmsd processes over a mutually authenticated CAF/OpenSSL node link plus the UDP
// heartbeat path: election, kill -9 takeover with an epoch bump, rejoin as standby, a peer with
// a certificate from another CA refused, and witness-guarded promotion.

#include "support/pair_harness.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

bool roles_are(pair_harness& p, const std::string& a, const std::string& b) {
  return p.role(0) == a && p.role(1) == b;
}

/// Node 0 starts and becomes active alone, then node 1 joins: the tests below act on a known
/// active. (Started together, either may win the election under load.)
bool start_with_first_active(pair_harness& p) {
  p.start(0);
  if (!eventually([&] { return p.role(0) == "active"; }, 30s))
    return false;
  p.start(1);
  return true;
}

/// Value of an unlabelled metric of node i ("" when absent or unreachable).
std::string metric(pair_harness& p, int i, const std::string& name) {
  auto raw = http_get(p.ports[i].http, "/metrics");
  std::istringstream in{http_body(raw)};
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ", 0) == 0)
      return line.substr(name.size() + 1);
  return {};
}

TEST(pair, elects_one_active_and_one_standby_in_the_same_epoch) {
  pair_harness p;
  p.start(0);
  p.start(1);
  // Either may win: the first whose discovery window ends (process start-up times vary).
  ASSERT_TRUE(eventually(
    [&] { return roles_are(p, "active", "standby") || roles_are(p, "standby", "active"); }, 30s))
    << p.output(0) << "\n----\n"
    << p.output(1);
  EXPECT_EQ(p.epoch(0), p.epoch(1));
  EXPECT_GE(p.epoch(0), 1u);
  const int standby = p.role(0) == "standby" ? 0 : 1;
  auto cluster = p.status(standby).at("cluster").as_object();
  EXPECT_EQ(cluster.at("peer_state"), "up");
  EXPECT_TRUE(eventually([&] {
    auto c = p.status(standby).at("cluster").as_object().at("heartbeat_paths").as_object();
    return c.at("node_link") == "up" && c.at("udp") == "up";
  }))
    << "both heartbeat paths must be up\n"
    << boost::json::serialize(p.status(0)) << "\n"
    << boost::json::serialize(p.status(1));
}

TEST(pair, kill_9_of_the_active_promotes_the_standby_with_a_new_epoch_and_it_rejoins_as_standby) {
  pair_harness p;
  ASSERT_TRUE(start_with_first_active(p)) << p.output(0);
  ASSERT_TRUE(eventually([&] { return roles_are(p, "active", "standby"); }, 30s)) << p.output(0);
  // The standby has applied its first snapshot: from here its image follows the active's.
  ASSERT_TRUE(eventually([&] { return metric(p, 1, "cms_replication_standby_synced") == "1"; }))
    << p.output(1);
  auto before = p.epoch(0);
  p.nodes[0]->signal(SIGKILL);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << p.output(1);
  auto took =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << "takeover after kill -9: " << took.count() << " ms\n";
  EXPECT_EQ(p.epoch(1), before + 1);
  // A standby that had applied everything announced is promoted without a gap: losing the
  // active does not make its image stale.
  auto cluster = p.status(1).at("cluster").as_object();
  EXPECT_EQ(cluster.at("promotion_gap"), "") << p.output(1);
  // The killed node comes back: it must not pre-empt; it joins as standby at the new epoch.
  p.start(0);
  ASSERT_TRUE(eventually([&] { return roles_are(p, "standby", "active"); }, 15s)) << p.output(0);
  EXPECT_EQ(p.epoch(0), before + 1);
}

TEST(pair, peer_with_a_certificate_from_another_ca_is_refused_on_the_node_link) {
  pair_harness p;
  p.start(0);
  p.start(1, "rogue-client");
  ASSERT_TRUE(eventually([&] { return !p.role(0).empty() && !p.role(1).empty(); }, 30s));
  // Give the dialer several attempts; the node link must never come up.
  std::this_thread::sleep_for(2s);
  auto link_a =
    p.status(0).at("cluster").as_object().at("heartbeat_paths").as_object().at("node_link");
  EXPECT_EQ(link_a, "down") << p.output(0);
  EXPECT_EQ(p.output(0).find("event=node_link_up"), std::string::npos) << p.output(0);
}

TEST(pair, with_witnesses_the_standby_takes_over_only_after_the_lease_and_exactly_one_is_active) {
  pair_harness p{3};
  ASSERT_TRUE(start_with_first_active(p)) << p.output(0);
  ASSERT_TRUE(eventually([&] { return roles_are(p, "active", "standby"); }, 30s))
    << p.output(0) << "\n----\n"
    << p.output(1);
  auto before = p.epoch(0);
  p.nodes[0]->signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << p.output(1);
  EXPECT_EQ(p.epoch(1), before + 1);
  EXPECT_NE(p.output(1).find("event=claim"), std::string::npos);
}

TEST(pair, sigstop_of_the_active_makes_it_step_down_when_it_resumes) {
  pair_harness p{3};
  ASSERT_TRUE(start_with_first_active(p)) << p.output(0);
  ASSERT_TRUE(eventually([&] { return roles_are(p, "active", "standby"); }, 30s));
  auto before = p.epoch(0);
  p.nodes[0]->signal(SIGSTOP);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << p.output(1);
  p.nodes[0]->signal(SIGCONT);
  // The frozen node must not fight: it learns the higher epoch (or loses its lease) and stands by.
  ASSERT_TRUE(eventually([&] { return p.role(0) == "standby"; }, 10s)) << p.output(0);
  EXPECT_NE(p.output(0).find("event=role_change role=standby epoch="), std::string::npos)
    << p.output(0);
  // The pair settles with one active and one standby in one epoch, newer than the frozen one's.
  // Under a loaded machine the roles may change again (the production detection of 300 ms and
  // lease of 500 ms are kept), so the settled state is awaited rather than sampled once.
  auto settled = [&] {
    auto r0 = p.role(0);
    auto r1 = p.role(1);
    bool one_each = (r0 == "active" && r1 == "standby") || (r0 == "standby" && r1 == "active");
    return one_each && p.epoch(0) == p.epoch(1) && p.epoch(0) > before;
  };
  EXPECT_TRUE(eventually(settled, 15s)) << p.output(0) << "\n----\n" << p.output(1);
}

// Call admission follows the role (docs/ha.md): open on the active only, closed on the standby,
// and closed again on an active that stepped down because it lost its peer and its witnesses.
TEST(pair, call_admission_is_open_only_on_the_active_and_closes_when_it_steps_down) {
  pair_harness p{3};
  ASSERT_TRUE(start_with_first_active(p)) << p.output(0);
  ASSERT_TRUE(eventually([&] { return roles_are(p, "active", "standby"); }, 30s))
    << p.output(0) << "\n----\n"
    << p.output(1);
  ASSERT_TRUE(eventually([&] {
    return metric(p, 0, "cms_call_admission_role_open") == "1" &&
           metric(p, 1, "cms_call_admission_role_open") == "0";
  }))
    << "active: " << metric(p, 0, "cms_call_admission_role_open")
    << " standby: " << metric(p, 1, "cms_call_admission_role_open");
  // Cut the active off from everything: the standby and the witnesses freeze.
  p.nodes[1]->signal(SIGSTOP);
  for (auto& w : p.witnesses)
    w->signal(SIGSTOP);
  bool stepped_down = eventually([&] { return p.role(0) == "stepping-down"; }, 10s);
  auto open = metric(p, 0, "cms_call_admission_role_open");
  for (auto& w : p.witnesses)
    w->signal(SIGCONT);
  p.nodes[1]->signal(SIGCONT);
  ASSERT_TRUE(stepped_down) << p.output(0);
  EXPECT_EQ(open, "0") << "a node that stepped down must not start new calls";
}

} // namespace
