// The deterministic simulation of the real HA actors (actor_sim.hpp): seeded fault schedules over
// the real ha_actor, replicator, state catalogue and billing outbox on CAF's test scheduler.
//   CMS_ACTOR_SIM_SCHEDULES=N CMS_ACTOR_SIM_SEED=S  run N schedules from seed S (default 500 from 1)
// scripts/sim-campaign.sh runs 10,000+; a failing seed is printed with the command that replays it.

#include "actor_sim.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

using namespace cms::ha::actor_sim;

namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

void print_failure(const sim_result& r) {
  std::cout << "seed " << r.seed << " FAILED:\n";
  for (auto& v : r.violations)
    std::cout << "  " << v << '\n';
  std::cout << "  replay: CMS_ACTOR_SIM_SEED=" << r.seed
            << " CMS_ACTOR_SIM_SCHEDULES=1 unit_ha_actor_sim"
               " --gtest_filter=actor_sim.seeded_fault_schedules_hold_every_invariant\n"
            << "  last events:\n"
            << r.trace;
}

} // namespace

TEST(actor_sim, seeded_fault_schedules_hold_every_invariant) {
  auto count = env_or("CMS_ACTOR_SIM_SCHEDULES", 500);
  auto first = env_or("CMS_ACTOR_SIM_SEED", 1);
  std::uint64_t failed = 0, failovers = 0, faults = 0, lossy = 0, established = 0, prot = 0,
                resumed = 0, lost2 = 0, acked = 0, both = 0, messages = 0, link = 0;
  auto start = std::chrono::steady_clock::now();
  for (auto seed = first; seed < first + count; ++seed) {
    sim_options opt;
    opt.verbose = env_or("CMS_ACTOR_SIM_VERBOSE", 0) != 0;
    auto r = run_schedule(seed, opt);
    failovers += r.failovers;
    faults += r.faults;
    lossy += r.lossy_link ? 1 : 0;
    established += r.calls_established;
    prot += r.calls_protected;
    resumed += r.calls_resumed;
    lost2 += r.calls_lost_double_fault;
    acked += r.billing_acked;
    both += r.billing_on_both;
    messages += r.messages;
    link += r.link_messages;
    if ((seed - first + 1) % 500 == 0)
      std::cout << "actor_sim: progress " << seed - first + 1 << " schedules, " << failed
                << " with violations, "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                << " s" << std::endl;
    if (!r.violations.empty()) {
      ++failed;
      if (failed <= 3)
        print_failure(r);
      else
        std::cout << "seed " << r.seed << " FAILED: " << r.violations.front() << '\n';
    }
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "actor_sim: " << count << " schedules (seeds " << first << ".." << first + count - 1
            << "), " << failed << " with violations, " << secs << " s wall\n"
            << "actor_sim: " << failovers << " promotions, " << faults << " faults, " << lossy
            << " schedules with node-link loss (broken connections), " << established
            << " calls established, " << prot << " acknowledged by a standby, " << resumed
            << " resumed by a new active, " << lost2
            << " lost to a double fault (home crashed, holder cut off), " << acked
            << " billing records acknowledged (" << both << " on both nodes), " << messages
            << " actor messages, " << link << " over the node link\n";
  EXPECT_EQ(failed, 0u);
}

TEST(actor_sim, a_seed_replays_exactly) {
  auto a = run_schedule(42);
  auto b = run_schedule(42);
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.messages, b.messages);
  EXPECT_EQ(a.link_messages, b.link_messages);
  EXPECT_EQ(a.billing_acked, b.billing_acked);
  EXPECT_GT(a.failovers, 0);
}

// The checks can fail: with witnesses that grant every claim, two nodes end up active in one epoch
// or accepting calls together within a few schedules.
TEST(actor_sim, a_planted_witness_bug_is_caught) {
  sim_options opt;
  opt.broken_witnesses = true;
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 20 && caught == 0; ++seed)
    caught += run_schedule(seed, opt).violations.empty() ? 0 : 1;
  EXPECT_GT(caught, 0);
}

// Seeds that once failed, kept (each replays exactly):
//   12  the active crashed while its standby was cut from the witnesses; the restarted old active
//       took over from its store without the calls only the standby held (a double fault): the
//       check now counts such calls instead of requiring them (calls_lost_double_fault).
//   91  a lost repl_peer introduction with the connection kept open left the replicators unpaired
//       for good; the node link is TCP, where a loss is a broken connection: sim_network now
//       models it so (and the pairing recovers on the reconnection).
TEST(actor_sim, regression_seeds) {
  for (std::uint64_t seed : {12, 91}) {
    auto r = run_schedule(seed);
    if (!r.violations.empty())
      print_failure(r);
    EXPECT_TRUE(r.violations.empty()) << "seed " << seed;
  }
}
