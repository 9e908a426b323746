#pragma once
// Deterministic simulation of the REAL HA actor code. Where test/unit/ha_sim
// drives the pure rules, this runs, per node, the real actors of the pair as runtime/node/node.cpp
// wires them: ha_actor (actors/ha/ha_actor.cpp), the replicator (actors/ha/replicator.cpp) with a
// real SQLite store in a temporary directory, the real state catalogue and billing outbox, and
// small fakes for the call manager and the MGCP edge (they record takeovers and fences). Everything
// runs on CAF's test scheduler, one actor system, simulated time:
//   - the node link is sim_network.hpp (relay actors standing in for the middleman's proxies),
//   - the UDP heartbeat path feeds (atom::udp_hb, peer_info) as runtime/transport/ha_udp.cpp does, with
//     loss, delay and reordering,
//   - three simulated witnesses (witness_rules) answer ha_environment::ask_witnesses as
//     runtime/transport/ha_udp.cpp's witness_client tallies them,
//   - a seeded fault schedule: link cuts and partitions with heals, node-link loss (a lost message
//     breaks the TCP connection; delays vary, order is kept), UDP loss/delay/reordering changes, crashes and restarts of either node (restart = new actors over the
//     same store), witness loss and restarts, node clock jumps, switchovers, and a stream of calls
//     (set-up, connected, release with a billing commit) on whichever node accepts new calls.
// Invariants (checked while running, after every message): at most one node active per epoch,
// never two nodes accepting new calls at once, no actor of a node dies; at every takeover the new
// active resumes every established call its standby copy had acknowledged and holds every billing
// record acknowledged on both nodes; after healing and quiescence: one active, a standby in its
// epoch whose replication image and billing outbox equal the active's, every acknowledged billing
// record on both, none twice; finally the active dies and the survivor takes over.
// Same seed, same run: every random choice comes from one std::mt19937_64.

#include <cstdint>
#include <string>
#include <vector>

namespace cms::ha::actor_sim {

struct sim_options {
  int fault_seconds = 20; ///< faults are injected during this much simulated time
  /// Planted bug: witnesses grant every claim (no "once per epoch"): shows the checks can fail.
  bool broken_witnesses = false;
  bool verbose = false; ///< keep the whole trace, not only the last events
};

struct sim_result {
  std::uint64_t seed = 0;
  std::vector<std::string> violations;
  int failovers = 0; ///< times a node became active
  int faults = 0;
  bool lossy_link = false; ///< the node link lost messages (broke connections) in this schedule
  int calls_started = 0;
  int calls_established = 0;
  int calls_protected = 0; ///< established calls acknowledged by a standby
  int calls_resumed = 0;   ///< resume_call received by a new active
  /// Established calls lost because the node taking over never held them: their home crashed and
  /// the standby holding them was cut off (from the witnesses or the peer). Allowed, counted.
  int calls_lost_double_fault = 0;
  int billing_acked = 0;      ///< commits answered
  int billing_on_both = 0;    ///< records marked held by both nodes
  std::uint64_t messages = 0; ///< actor messages processed
  std::uint64_t link_messages = 0;
  std::string trace; ///< the last events (all with verbose)
};

sim_result run_schedule(std::uint64_t seed, const sim_options& opt = {});

} // namespace cms::ha::actor_sim
