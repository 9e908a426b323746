#pragma once
// The HA actor: one per node, the single owner of this node's role and epoch. It feeds the pure
// rules (ha_rules.hpp) with heartbeats from both paths, witness answers and admin requests, and
// carries out their effects: persisting the epoch, asking witnesses, telling subscribers (call
// control, replication) about role changes, and keeping cluster_view current for HTTP/SNMP.
//
// Node link: the HA actor is published over CAF/OpenSSL; the node with the smaller id dials the
// other (one connection per node pair, CAF-0.17-NOTES) and introduces itself with `hello`; the
// other side learns the handle from that message. A lost link shows up as a down message of the
// peer's proxy and is redialled every second.
//
// Protocol (besides the node-link atoms in type_ids.hpp):
//   (atom::status)               -> std::string JSON of the HA state
//   (atom::switchover)           -> bool (accepted) ; admin, on the active
//   (atom::subscribe, actor)     -> void ; subscriber gets (atom::role_changed, role, epoch)
//   (atom::repl_attach, actor)   local replicator registers; its handle goes to the peer HA actor
//   (atom::repl_peer, actor)     from the peer HA actor: the peer's replicator, handed to ours
//                                (replicators find each other over the one node-link connection)
//   (atom::epoch_seen, epoch, source)  replication met a higher epoch: on_higher_epoch

#include "actors/ha/ha_rules.hpp"
#include "actors/type_ids.hpp"
#include "runtime/base/cluster_view.hpp"
#include "runtime/base/metrics.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cms::ha {

/// What the HA actor needs from the node; the callbacks are invoked on the actor's thread.
struct ha_environment {
  ha_settings settings;
  std::string peer_host; ///< node link: where to dial the peer
  std::uint16_t peer_port = 0;
  bool dial = false; ///< true on the node with the smaller id
  /// Test seam (deterministic simulation, test/unit/ha_actor_sim): opens the node link itself and
  /// returns the peer HA actor's handle, or null when the peer cannot be reached. Unset (always in
  /// cmsd): dial peer_host:peer_port through the OpenSSL middleman.
  std::function<caf::actor()> connect_peer;
  std::uint64_t persisted_epoch = 0;
  /// Must be durable when it returns; throws when it cannot be (the node then steps down rather
  /// than act on an epoch a restart would forget: ha_rules::on_epoch_write_failed).
  std::function<void(std::uint64_t)> persist_epoch;
  /// Witness requests; `done(granted, highest_epoch, highest_refused_epoch)` may run on any thread.
  std::function<void(int kind, std::uint64_t epoch,
                     std::function<void(int, std::uint64_t, std::uint64_t)> done)>
    ask_witnesses;
  std::function<void(const peer_info&)> udp_self; ///< what the UDP path advertises
  std::function<std::uint64_t()> applied_seq;     ///< replication position for heartbeats
  cluster_view* view = nullptr;
  metrics::registry* metrics = nullptr;
  /// Fault injection for tests only ([test_faults], docs/ha.md "Liveness"): once this file exists
  /// the actor blocks its thread for good at its next tick (a stuck HA actor).
  std::string test_freeze_file;
  /// Fault injection for tests only: the actor throws at its first tick, every time it starts.
  bool test_crash = false;
};

struct ha_actor_state {
  std::unique_ptr<ha_rules> rules;
  std::shared_ptr<ha_environment> env;
  caf::actor peer; ///< remote HA actor (proxy), when the node link is up
  bool dialing = false;
  std::uint64_t dial_failures = 0;
  std::vector<caf::actor> subscribers;
  caf::actor replicator; ///< this node's replicator (actors/ha/replicator.hpp)
  std::int64_t last_failover_ms = 0;
  bool claim_retry_armed = false; ///< one claim-retry timer at a time (ha_rules::claim_retry_due)
  static inline const char* name = "ha";
};

caf::behavior ha_actor(caf::stateful_actor<ha_actor_state>* self,
                       std::shared_ptr<ha_environment> env);

} // namespace cms::ha
