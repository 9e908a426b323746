// Every transition of the election/epoch/lease rules, driven with explicit time.

#include "actors/ha/ha_rules.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace cms::ha;
using namespace std::chrono_literals;

namespace {

ha_settings settings(const std::string& id, int priority, int witnesses = 3) {
  ha_settings s;
  s.node_id = id;
  s.priority = priority;
  s.heartbeat_interval = 100ms;
  s.heartbeat_misses = 3;
  s.discovery_window = 600ms;
  s.witnesses = witnesses;
  s.lease = 900ms;
  return s;
}

bool has(const effects& fx, effect::kind_t k) {
  return std::any_of(fx.begin(), fx.end(), [&](const effect& e) { return e.kind == k; });
}

const clock_time t0{std::chrono::seconds{1000}};

peer_info peer(role r, std::uint64_t epoch, int prio = 50, std::string id = "b") {
  return {std::move(id), r, epoch, prio, 0};
}

TEST(ha_rules, lone_node_claims_after_discovery_window_and_activates_on_majority) {
  ha_rules a{settings("a", 100)};
  a.start(4, t0);
  EXPECT_TRUE(a.on_tick(t0 + 500ms).empty());
  auto fx = a.on_tick(t0 + 600ms);
  ASSERT_TRUE(has(fx, effect::claim_epoch));
  EXPECT_EQ(fx[0].epoch, 5u);
  EXPECT_TRUE(a.on_tick(t0 + 700ms).empty()) << "no second claim while one is out";
  EXPECT_FALSE(a.accepts_new_calls(t0 + 700ms));
  fx = a.on_claim_result(5, 2, t0 + 710ms);
  EXPECT_TRUE(has(fx, effect::persist_epoch));
  EXPECT_TRUE(has(fx, effect::become_active));
  EXPECT_EQ(a.state().current, role::active);
  EXPECT_EQ(a.state().epoch, 5u);
  EXPECT_TRUE(a.accepts_new_calls(t0 + 800ms));
}

TEST(ha_rules, refused_claim_keeps_the_node_out_and_it_retries) {
  ha_rules a{settings("a", 100)};
  a.start(0, t0);
  a.on_tick(t0 + 600ms);
  EXPECT_TRUE(a.on_claim_result(1, 1, t0 + 610ms).empty());
  EXPECT_EQ(a.state().current, role::starting);
  EXPECT_EQ(a.state().epoch, 0u);
  EXPECT_TRUE(has(a.on_tick(t0 + 700ms), effect::claim_epoch));
}

TEST(ha_rules, starting_node_that_hears_an_active_becomes_standby_and_asks_for_a_snapshot) {
  ha_rules b{settings("b", 50)};
  b.start(2, t0);
  auto fx = b.on_heartbeat(path::node_link, peer(role::active, 3, 100, "a"), t0 + 10ms);
  EXPECT_TRUE(has(fx, effect::persist_epoch));
  EXPECT_TRUE(has(fx, effect::become_standby));
  EXPECT_TRUE(has(fx, effect::request_snapshot));
  EXPECT_EQ(b.state().current, role::standby);
  EXPECT_EQ(b.state().epoch, 3u);
}

TEST(ha_rules, election_between_two_starting_nodes_is_won_by_priority_then_id) {
  ha_rules a{settings("a", 100)}, b{settings("b", 50)};
  a.start(1, t0);
  b.start(1, t0);
  EXPECT_TRUE(has(a.on_heartbeat(path::udp, b.self_info(0), t0), effect::claim_epoch));
  EXPECT_TRUE(b.on_heartbeat(path::udp, a.self_info(0), t0).empty());
  ha_rules c{settings("c", 100)}, d{settings("d", 100)};
  c.start(1, t0);
  d.start(1, t0);
  EXPECT_TRUE(has(c.on_heartbeat(path::udp, d.self_info(0), t0), effect::claim_epoch));
  EXPECT_TRUE(d.on_heartbeat(path::udp, c.self_info(0), t0).empty());
  // A higher epoch beats priority: that node has seen more history.
  ha_rules e{settings("e", 10)}, f{settings("f", 100)};
  e.start(7, t0);
  f.start(6, t0);
  EXPECT_TRUE(has(e.on_heartbeat(path::udp, f.self_info(0), t0), effect::claim_epoch));
}

TEST(ha_rules, standby_promotes_only_when_both_paths_are_silent) {
  ha_rules b{settings("b", 50)};
  b.start(3, t0);
  b.on_heartbeat(path::node_link, peer(role::active, 3, 100, "a"), t0);
  b.on_heartbeat(path::udp, peer(role::active, 3, 100, "a"), t0);
  // Node link silent, UDP alive: degraded, no promotion.
  for (auto t = 100ms; t <= 600ms; t += 100ms)
    b.on_heartbeat(path::udp, peer(role::active, 3, 100, "a"), t0 + t);
  EXPECT_TRUE(b.on_tick(t0 + 600ms).empty());
  EXPECT_FALSE(b.state().node_link_up);
  EXPECT_TRUE(b.state().udp_up);
  // Both silent for 3 intervals: claim epoch 4.
  auto fx = b.on_tick(t0 + 901ms);
  ASSERT_TRUE(has(fx, effect::claim_epoch));
  EXPECT_EQ(fx[0].epoch, 4u);
  fx = b.on_claim_result(4, 3, t0 + 920ms);
  EXPECT_TRUE(has(fx, effect::become_active));
}

TEST(ha_rules, active_steps_down_when_its_lease_expires_and_renews_otherwise) {
  ha_rules a{settings("a", 100)};
  a.start(0, t0);
  a.on_tick(t0 + 600ms);
  a.on_claim_result(1, 2, t0 + 600ms);
  auto fx = a.on_tick(t0 + 700ms);
  ASSERT_TRUE(has(fx, effect::renew_lease));
  a.on_renew_result(1, 2, t0 + 700ms); // lease until 1600
  EXPECT_TRUE(has(a.on_tick(t0 + 1500ms), effect::renew_lease));
  a.on_renew_result(1, 1, t0 + 1500ms); // minority: not extended
  EXPECT_TRUE(a.accepts_new_calls(t0 + 1599ms));
  EXPECT_FALSE(a.accepts_new_calls(t0 + 1600ms));
  fx = a.on_tick(t0 + 1600ms);
  EXPECT_TRUE(has(fx, effect::step_down));
  EXPECT_EQ(a.state().current, role::stepping_down);
  EXPECT_EQ(a.state().epoch, 1u) << "stepping down keeps the epoch";
}

TEST(ha_rules, any_node_learning_a_higher_epoch_demotes_at_once) {
  ha_rules a{settings("a", 100, 0)};
  a.start(0, t0);
  a.on_tick(t0 + 600ms); // no witnesses: promotes itself
  ASSERT_EQ(a.state().current, role::active);
  auto fx = a.on_higher_epoch(5, "replication from b", t0 + 1s);
  EXPECT_TRUE(has(fx, effect::persist_epoch));
  EXPECT_TRUE(has(fx, effect::become_standby));
  EXPECT_EQ(a.state().current, role::standby);
  EXPECT_EQ(a.state().epoch, 5u);
  EXPECT_TRUE(a.on_higher_epoch(5, "same again", t0 + 2s).empty());
  EXPECT_TRUE(a.on_higher_epoch(3, "stale", t0 + 2s).empty());
}

TEST(ha_rules, stale_claim_result_after_learning_a_higher_epoch_is_ignored) {
  ha_rules b{settings("b", 50)};
  b.start(3, t0);
  b.on_tick(t0 + 600ms); // claims 4
  b.on_heartbeat(path::udp, peer(role::active, 4, 100, "a"), t0 + 610ms);
  EXPECT_TRUE(b.on_claim_result(4, 3, t0 + 620ms).empty());
  EXPECT_EQ(b.state().current, role::standby);
}

TEST(ha_rules, two_actives_in_one_epoch_resolve_to_the_higher_rank) {
  ha_rules a{settings("a", 100, 0)}, b{settings("b", 50, 0)};
  a.start(0, t0);
  b.start(0, t0);
  a.on_tick(t0 + 600ms);
  b.on_tick(t0 + 600ms); // partitioned start, no witnesses: both promote to epoch 1
  ASSERT_EQ(a.state().current, role::active);
  ASSERT_EQ(b.state().current, role::active);
  EXPECT_TRUE(a.on_heartbeat(path::udp, b.self_info(0), t0 + 1s).empty());
  EXPECT_TRUE(has(b.on_heartbeat(path::udp, a.self_info(0), t0 + 1s), effect::become_standby));
}

TEST(ha_rules, graceful_switchover_hands_over_and_standby_claims) {
  ha_rules a{settings("a", 100)}, b{settings("b", 50)};
  a.start(0, t0);
  a.on_tick(t0 + 600ms);
  a.on_claim_result(1, 2, t0 + 600ms);
  b.start(0, t0 + 650ms);
  b.on_heartbeat(path::node_link, a.self_info(0), t0 + 650ms);
  ASSERT_EQ(b.state().current, role::standby);
  a.on_heartbeat(path::node_link, b.self_info(0), t0 + 990ms);
  auto fx = a.on_switchover_request(t0 + 1s);
  EXPECT_TRUE(has(fx, effect::step_down));
  EXPECT_TRUE(has(fx, effect::release_lease));
  EXPECT_FALSE(a.accepts_new_calls(t0 + 1s));
  fx = b.on_switchover_request(t0 + 1s);
  ASSERT_TRUE(has(fx, effect::claim_epoch));
  EXPECT_TRUE(has(b.on_claim_result(2, 2, t0 + 1010ms), effect::become_active));
  // The old active follows once it hears the new one; it does not race back meanwhile.
  EXPECT_TRUE(
    a.on_heartbeat(path::node_link, peer(role::standby, 1, 50, "b"), t0 + 1005ms).empty());
  EXPECT_TRUE(a.on_tick(t0 + 1020ms).empty());
  EXPECT_TRUE(
    has(a.on_heartbeat(path::node_link, b.self_info(0), t0 + 1030ms), effect::become_standby));
}

TEST(ha_rules, standby_resyncs_when_the_active_reappears_after_silence) {
  ha_rules b{settings("b", 50)};
  b.start(1, t0);
  b.on_heartbeat(path::node_link, peer(role::active, 1, 100, "a"), t0);
  EXPECT_TRUE(b.on_heartbeat(path::node_link, peer(role::active, 1, 100, "a"), t0 + 100ms).empty());
  b.on_tick(t0 + 500ms);               // peer lost: claims 2 ...
  b.on_claim_result(2, 1, t0 + 510ms); // ... refused: the active still holds its lease
  auto fx = b.on_heartbeat(path::udp, peer(role::active, 1, 100, "a"), t0 + 520ms);
  EXPECT_TRUE(has(fx, effect::request_snapshot));
  EXPECT_EQ(b.state().current, role::standby);
}

TEST(ha_rules, stepped_down_node_reclaims_only_when_the_peer_is_gone) {
  ha_rules a{settings("a", 100)};
  a.start(0, t0);
  a.on_tick(t0 + 600ms);
  a.on_claim_result(1, 2, t0 + 600ms);
  a.on_tick(t0 + 1600ms); // lease never renewed: steps down
  ASSERT_EQ(a.state().current, role::stepping_down);
  EXPECT_TRUE(has(a.on_tick(t0 + 1700ms), effect::claim_epoch)) << "peer never seen: reclaim";
}

// Failover time (docs/ha.md): a claim refused because the dead active's lease has not yet run out
// is retried claim_retry later, not a whole heartbeat interval later.
TEST(ha_rules, refused_claim_of_a_standby_that_hears_nobody_is_retried_soon) {
  ha_rules b{settings("b", 50)};
  b.start(3, t0);
  b.on_heartbeat(path::node_link, peer(role::active, 3, 100, "a"), t0);
  b.on_heartbeat(path::udp, peer(role::active, 3, 100, "a"), t0);
  EXPECT_FALSE(b.claim_retry_due()) << "no claim was refused";
  ASSERT_TRUE(has(b.on_tick(t0 + 301ms), effect::claim_epoch));
  EXPECT_FALSE(b.claim_retry_due()) << "a claim is out";
  EXPECT_TRUE(b.on_claim_result(4, 0, t0 + 302ms).empty())
    << "old lease still held at the witnesses";
  ASSERT_TRUE(b.claim_retry_due());
  EXPECT_EQ(*b.claim_retry_due(), b.settings().claim_retry);
  auto fx = b.on_claim_retry(t0 + 327ms);
  ASSERT_TRUE(has(fx, effect::claim_epoch));
  EXPECT_EQ(fx[0].epoch, 4u);
  EXPECT_TRUE(b.on_claim_retry(t0 + 330ms).empty()) << "never two claims out";
  fx = b.on_claim_result(4, 2, t0 + 330ms);
  ASSERT_TRUE(has(fx, effect::become_active));
  EXPECT_FALSE(b.claim_retry_due());
  // The first lease counts from when the retried claim was sent.
  EXPECT_TRUE(b.accepts_new_calls(t0 + 327ms + b.settings().lease - 1ms));
  EXPECT_FALSE(b.accepts_new_calls(t0 + 327ms + b.settings().lease));
}

TEST(ha_rules, no_claim_retry_once_the_peer_is_heard_again_or_without_witnesses) {
  ha_rules b{settings("b", 50)};
  b.start(3, t0);
  b.on_heartbeat(path::udp, peer(role::active, 3, 100, "a"), t0);
  b.on_tick(t0 + 301ms);
  b.on_claim_result(4, 1, t0 + 302ms);
  ASSERT_TRUE(b.claim_retry_due());
  // The active was only slow: its heartbeat is back before the retry fires.
  b.on_heartbeat(path::udp, peer(role::active, 3, 100, "a"), t0 + 310ms);
  EXPECT_FALSE(b.claim_retry_due());
  EXPECT_TRUE(b.on_claim_retry(t0 + 327ms).empty());
  EXPECT_EQ(b.state().current, role::standby);

  // A refusal that teaches a higher epoch demotes; the retry then claims the epoch after it.
  ha_rules c{settings("c", 50)};
  c.start(3, t0);
  c.on_tick(t0 + 600ms); // nobody heard: claim epoch 4
  auto fx = c.on_claim_tally(4, 0, 4, 4, t0 + 601ms);
  EXPECT_EQ(c.state().epoch, 4u);
  EXPECT_EQ(c.state().current, role::standby);
  ASSERT_TRUE(c.claim_retry_due());
  fx = c.on_claim_retry(t0 + 626ms);
  ASSERT_TRUE(has(fx, effect::claim_epoch));
  EXPECT_EQ(fx[0].epoch, 5u);

  // A starting node retries on its ticks only (start-up is not the failover path).
  ha_rules d{settings("d", 50)};
  d.start(0, t0);
  d.on_tick(t0 + 600ms);
  d.on_claim_result(1, 0, t0 + 601ms);
  EXPECT_FALSE(d.claim_retry_due());

  ha_rules lab{settings("lab", 50, 0)};
  lab.start(0, t0);
  lab.on_tick(t0 + 600ms);
  EXPECT_EQ(lab.state().current, role::active);
  EXPECT_FALSE(lab.claim_retry_due());
}

} // namespace
