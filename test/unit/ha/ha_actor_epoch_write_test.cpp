// The HA actor over a store that refuses the epoch: it must step down (never act on an epoch a
// restart would forget) and stay alive, instead of dying with the store's exception.

#include "actors/ha/ha_actor.hpp"
#include "caf_test_fixture.hpp"
#include "persistence/store_error.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace {

class ha_actor_epoch_write : public cms::test::caf_fixture {};

TEST_F(ha_actor_epoch_write, a_refused_epoch_steps_the_node_down_and_the_actor_lives_on) {
  auto env = std::make_shared<cms::ha::ha_environment>();
  env->settings.node_id = "a";
  env->settings.witnesses = 0; // lab pair: promotes alone after the discovery window
  env->settings.discovery_window = 300ms;
  int writes = 0;
  env->persist_epoch = [&](std::uint64_t e) {
    ++writes;
    throw cms::persistence::store_error(cms::persistence::store_errc::locked,
                                        "epoch " + std::to_string(e) + ": database is locked");
  };
  cms::metrics::registry metrics;
  env->metrics = &metrics;
  auto ha = sys.spawn(cms::ha::ha_actor, env);
  sched.run();
  for (int i = 0; i < 10; ++i) { // 1 s of ticks: the discovery window ends, the node promotes
    sched.advance_time(100ms);
    sched.run();
  }
  ASSERT_GE(writes, 1) << "the node never tried to promote";
  auto status = ask<std::string>(ha, cms::atom::status_v);
  ASSERT_TRUE(status) << "the HA actor died: " << sys.render(status.error());
  auto role = boost::json::parse(*status).at("role").as_string();
  EXPECT_NE(role, "active") << *status;
  EXPECT_GE(metrics.value("cms_ha_epoch_write_failures_total"), 1.0);
  caf::anon_send_exit(ha, caf::exit_reason::user_shutdown);
  sched.run();
}

} // namespace
