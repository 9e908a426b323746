// start()/stop() of the subagent: without a master, against a master, once per process. Each
// scenario starts net-snmp, which a process can do once, so each runs in its own child process
// (DISABLED_lifecycle.X, run by lifecycle.X).

#include "runtime/snmp/subagent.hpp"
#include "unit/snmp/snmp_harness.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace cms::snmp::test {
namespace {

using namespace std::chrono_literals;

subagent_config config_for(const std::string& socket) {
  subagent_config config;
  config.agentx_socket = socket;
  config.name = "cmsd-lifecycle";
  config.ping_interval = 1s;
  return config;
}

/// stop() must return promptly: the node's shutdown budget for the subagent is one second.
void expect_prompt_stop(subagent& agent) {
  const auto before = std::chrono::steady_clock::now();
  agent.stop();
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_LT(took, 1s) << "stop took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  EXPECT_FALSE(agent.running());
}

TEST(DISABLED_lifecycle, runs_without_a_master_and_keeps_traps_until_stopped) {
  temp_dir dir;
  subagent agent(config_for("unix:" + dir.path() + "/no-master.sock"));
  agent.start();
  EXPECT_TRUE(agent.running());
  EXPECT_TRUE(agent.notify(trap::billing_backlog_high(5, 1)));
  std::this_thread::sleep_for(300ms);
  auto stats = agent.stats();
  EXPECT_FALSE(stats.connected);
  EXPECT_EQ(stats.traps_sent, 0u);
  EXPECT_EQ(stats.traps_queued, 1u);
  expect_prompt_stop(agent);
  stats = agent.stats();
  EXPECT_EQ(stats.traps_queued, 0u);
  EXPECT_EQ(stats.traps_dropped, 1u);
}

TEST(DISABLED_lifecycle, trap_queue_is_bounded) {
  temp_dir dir;
  auto config = config_for("unix:" + dir.path() + "/no-master.sock");
  config.trap_queue_limit = 2;
  subagent agent(config);
  agent.start();
  EXPECT_TRUE(agent.notify(trap::billing_backlog_high(1, 1)));
  EXPECT_TRUE(agent.notify(trap::billing_backlog_high(2, 1)));
  EXPECT_FALSE(agent.notify(trap::billing_backlog_high(3, 1)));
  const auto stats = agent.stats();
  EXPECT_EQ(stats.traps_queued, 2u);
  EXPECT_EQ(stats.traps_dropped, 1u);
  expect_prompt_stop(agent);
}

TEST(DISABLED_lifecycle, starts_once_per_process) {
  temp_dir dir;
  subagent first(config_for("unix:" + dir.path() + "/a.sock"));
  subagent second(config_for("unix:" + dir.path() + "/b.sock"));
  first.start();
  first.start(); // already running: no effect
  EXPECT_TRUE(first.running());
  EXPECT_THROW(second.start(), std::logic_error);
  expect_prompt_stop(first);
  first.stop(); // idempotent
  EXPECT_THROW(first.start(), std::logic_error);
  EXPECT_THROW(second.start(), std::logic_error);
}

TEST(DISABLED_lifecycle, stop_withdraws_the_mib_from_the_master) {
  temp_dir dir;
  snmpd_master master(dir.path(), free_udp_port(), free_udp_port());
  master.start();
  subagent agent(config_for(master.agentx_socket()));
  agent.start();
  node_view view;
  view.node_id = "cms-lifecycle";
  ASSERT_TRUE(agent.update(view));
  ASSERT_TRUE(eventually([&] { return agent.stats().connected; })) << master.log();
  const std::vector<std::string> argv = {"snmpget",
                                         "-v2c",
                                         "-c",
                                         "public",
                                         "-On",
                                         "127.0.0.1:" + std::to_string(master.udp_port()),
                                         "1.3.6.1.4.1.64500.1.1.1.0"};
  EXPECT_TRUE(eventually(
    [&] { return run_command(argv).out.find("\"cms-lifecycle\"") != std::string::npos; }))
    << run_command(argv).out;
  expect_prompt_stop(agent);
  // The AgentX Close took our registrations away with the session.
  EXPECT_NE(run_command(argv).out.find("No Such Object"), std::string::npos)
    << run_command(argv).out;
}

void expect_child_passes(const std::string& test) {
  const auto child = run_isolated("DISABLED_lifecycle." + test);
  EXPECT_EQ(child.exit_code, 0) << child.out << child.err;
}

TEST(lifecycle, runs_without_a_master_and_keeps_traps_until_stopped) {
  expect_child_passes("runs_without_a_master_and_keeps_traps_until_stopped");
}

TEST(lifecycle, trap_queue_is_bounded) { expect_child_passes("trap_queue_is_bounded"); }

TEST(lifecycle, starts_once_per_process) { expect_child_passes("starts_once_per_process"); }

TEST(lifecycle, stop_withdraws_the_mib_from_the_master) {
  if (find_program("snmpd").empty() || find_program("snmpget").empty())
    GTEST_SKIP() << "snmpd or snmpget not installed";
  expect_child_passes("stop_withdraws_the_mib_from_the_master");
}

} // namespace
} // namespace cms::snmp::test
