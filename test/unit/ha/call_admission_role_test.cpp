// Call admission follows the pair's role (actors/calls/call_admission.hpp, docs/ha.md): once a node
// follows its HA actor, only the active node admits new calls; a standby, a starting node and a
// node that stepped down shed every attempt, counted as cms_calls_shed_total{reason="not_active"}.
// The role arrives as the HA actor's (atom::role_changed, role, epoch), here on CAF's test
// scheduler.

#include "actors/calls/call_admission.hpp"
#include "actors/type_ids.hpp"
#include "caf_test_fixture.hpp"

#include <gtest/gtest.h>

using cms::actors::call_admission;
using cms::ha::role;

namespace {

std::uint64_t shed_not_active(cms::metrics::registry& r) {
  return r.get_counter("cms_calls_shed_total", "", {{"reason", "not_active"}}).value();
}

std::int64_t role_open(cms::metrics::registry& r) {
  return r.get_gauge("cms_call_admission_role_open", "").value();
}

class admission_role : public cms::test::caf_fixture {
protected:
  cms::metrics::registry registry;
  call_admission admission{0, 0, registry};

  void role_changed(const caf::actor& follower, role r, std::uint64_t epoch) {
    caf::anon_send(follower, cms::atom::role_changed_v, r, epoch);
    sched.run();
  }

  void TearDown() override {
    sched.run();
    caf_fixture::TearDown();
  }
};

TEST_F(admission_role, without_a_role_to_follow_the_role_is_ignored) {
  EXPECT_TRUE(admission.role_admits());
  EXPECT_EQ(admission.admit(), call_admission::verdict::admitted);
  EXPECT_EQ(shed_not_active(registry), 0u);
  EXPECT_EQ(role_open(registry), 1);
}

TEST_F(admission_role, only_the_active_node_admits_new_calls) {
  admission.follow_ha_role();
  auto follower = sys.spawn(cms::actors::call_admission_role_follower, &admission);
  // Before the HA actor said anything (start-up): closed.
  EXPECT_EQ(admission.admit(), call_admission::verdict::shed_not_active);
  EXPECT_EQ(role_open(registry), 0);

  role_changed(follower, role::starting, 0);
  EXPECT_EQ(admission.admit(), call_admission::verdict::shed_not_active);
  role_changed(follower, role::standby, 3);
  EXPECT_EQ(admission.admit(), call_admission::verdict::shed_not_active);

  role_changed(follower, role::active, 4);
  EXPECT_EQ(admission.admit(), call_admission::verdict::admitted);
  EXPECT_EQ(role_open(registry), 1);

  // Lease lost (cut off from the peer and the witnesses): the node stepped down. Its MGCP edge is
  // still open for the calls it carries, but it starts no new one.
  role_changed(follower, role::stepping_down, 4);
  EXPECT_EQ(admission.admit(), call_admission::verdict::shed_not_active);
  EXPECT_EQ(role_open(registry), 0);

  role_changed(follower, role::active, 5);
  EXPECT_EQ(admission.admit(), call_admission::verdict::admitted);
  role_changed(follower, role::standby, 6); // a higher epoch demoted us
  EXPECT_EQ(admission.admit(), call_admission::verdict::shed_not_active);

  EXPECT_EQ(shed_not_active(registry), 5u);
  EXPECT_EQ(registry.get_counter("cms_call_admitted_total", "").value(), 2u);
  caf::anon_send_exit(follower, caf::exit_reason::user_shutdown);
}

TEST_F(admission_role, the_role_is_checked_before_drain_and_rate_and_consumes_no_token) {
  cms::admission drain;
  call_admission limited{1, 1, registry}; // one attempt per second, bucket of one
  limited.attach_drain(&drain);
  limited.follow_ha_role();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(limited.admit(t0), call_admission::verdict::shed_not_active);
  limited.set_ha_role(role::active);
  // The shed attempt took no token: the first admitted one still finds the bucket full.
  EXPECT_EQ(limited.admit(t0), call_admission::verdict::admitted);
  EXPECT_EQ(limited.admit(t0), call_admission::verdict::shed_rate);
  drain.drain("maintenance");
  EXPECT_EQ(limited.admit(t0 + std::chrono::seconds{5}), call_admission::verdict::shed_drain);
  limited.set_ha_role(role::standby);
  EXPECT_EQ(limited.admit(t0 + std::chrono::seconds{5}), call_admission::verdict::shed_not_active);
}

} // namespace
