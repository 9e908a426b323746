#pragma once
// The replicator: one per node, the pair's hot copy of call processing and the
// takeover that uses it (item 4). Protocol types: actors/ha/replication_protocol.hpp.
//
// On the ACTIVE it subscribes to the state catalogue (every line and call transition, in order)
// and receives the billing outbox's committed batches (with the outbox's sequences). It numbers
// every change, keeps the latest image of every line and call, and streams batches in order to
// the standby's replicator, which acknowledges them. Billing commits are answered to the calls
// (billing_outbox.hpp) once the standby acknowledged them, or at once, marked single-node, while
// no standby follows the stream. Lag (records, ms) is exported as cms_replication_lag_records /
// cms_replication_lag_ms and in cluster_view.
//
// On the STANDBY it applies the stream to its store (actor_state rows of ha_store; billing
// records in the outbox with the active's sequences; the RKS position), to an in-memory image and
// to its own state catalogue (so GET /endpoints and /calls show the replicated state). A standby
// that (re)joins, or sees a gap or another stream, requests a snapshot (the active's image +
// the billing records after its own outbox position), then follows the stream.
//
// Epochs: every message carries the sender's epoch. A lower epoch than ours is refused with
// (atom::repl_refuse, our_epoch); learning a higher epoch, we tell the HA actor (epoch_seen ->
// ha_rules::on_higher_epoch), which demotes an active at once.
//
// Finding the peer: the replicators are not published. Each registers with its HA actor
// (atom::repl_attach), which hands the handle to the peer's HA actor over the existing node link
// (atom::repl_peer): one mutually authenticated connection per pair carries everything.
//
// Takeover: on role_changed to active, every line of the image is adopted by its endpoint actor
// (keeps its MTA address, claims the line: AUEP + RQNT with N: = this node) and every call of the
// image is resumed by the call manager (call_actor_resume: no DLCX, same start time). On the way
// back to standby (switchover, higher epoch) the MGCP edge is fenced and local calls and lines are
// quiesced without a DLCX, then the node resynchronises from the new active.
//
// Protocol (local):
//   (atom::role_changed, role, epoch)      from the HA actor (we subscribe)
//   actors::state_change                   from the state catalogue (we subscribe)
//   (atom::repl_billing, records)          from the billing outbox
//   (atom::sent_position, seq)             active: the RKS acknowledged up to seq (replicated)
//   (atom::repl_peer, actor)               from the HA actor: the peer's replicator
//   (atom::status) -> std::string          JSON: role, epoch, seq, acked, lag, synced...

#include "actors/calls/call_context.hpp"
#include "actors/ha/ha_rules.hpp"
#include "actors/ha/replication_protocol.hpp"
#include "runtime/base/cluster_view.hpp"
#include "runtime/base/metrics.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>

namespace cms::persistence {
class database;
}

namespace cms::ha {

/// The latest state of every line and call ("endpoint/<name>", "call/<id>"), owned by the node so
/// that it survives a restart of the replicator actor.
struct replication_image {
  std::map<std::string, repl_record> entries;
  std::uint64_t seq = 0;                 ///< last numbered (active) or applied (standby)
  bool live = false;                     ///< filled from a peer in this process (not the store)
  std::atomic<std::uint64_t> applied{0}; ///< for the HA heartbeats (read on any thread)
};

struct replicator_environment {
  std::filesystem::path db_file;               ///< the node's store (own connection)
  std::shared_ptr<actors::call_context> calls; ///< catalogue, outbox, edge, manager, lines
  std::function<caf::actor()> ha;              ///< the current HA actor
  std::shared_ptr<replication_image> image;
  cluster_view* view = nullptr;
  metrics::registry* metrics = nullptr;
  std::chrono::milliseconds tick{200};
  std::chrono::milliseconds snapshot_timeout{10000};
  /// A standby without a snapshot for this long warns and re-introduces itself (watch_sync).
  std::chrono::milliseconds sync_watch{15000};
  /// Records handed to the active per snapshot request (more go in further orphans_only rounds).
  std::size_t orphan_chunk = 100000;
  std::size_t batch_max = 512;
  /// Changes numbered within this window leave in one batch. 0: flush right behind the mailbox,
  /// which under a steady call load sends one node-link message (and gets one acknowledgement)
  /// per change, ~25 per call; the TLS link's I/O thread then dominated the active's CPU
  /// (docs/performance.md, "pair"). cmsd sets a few ms; the deterministic tests keep 0.
  std::chrono::microseconds flush_delay{0};
};

struct replicator_state {
  std::shared_ptr<replicator_environment> env;
  std::unique_ptr<persistence::database> db;
  role current = role::starting;
  std::uint64_t epoch = 0;
  caf::actor peer;                           ///< the peer node's replicator (a proxy)
  caf::actor_addr catalog, outbox, edge, ha; ///< what we subscribed/attached to
  bool fence_closed = false;
  // -- active side --
  std::uint64_t stream = 0;    ///< our stream id while active
  bool standby_synced = false; ///< the standby took a snapshot of this stream
  std::uint64_t acked = 0;
  std::deque<std::pair<std::uint64_t, std::int64_t>> unacked;          ///< (seq, numbered at ms)
  std::deque<std::pair<std::uint64_t, std::uint64_t>> billing_unacked; ///< (seq, outbox sequence)
  std::vector<repl_record> outgoing;
  bool flush_scheduled = false;
  // -- standby side --
  std::uint64_t following = 0; ///< stream id we apply
  bool synced = false;
  /// The active was lost while we followed its stream in order: our image is as current as its
  /// announcements allow, though `synced` is cleared so that a returning peer resynchronises.
  /// Cleared when a peer is heard again. A promotion judges its gap by this (record_promotion_gap).
  bool current_at_peer_loss = false;
  bool snapshot_in_flight = false;
  /// The store refused the active's records (a sequence or record id held differently): the next
  /// snapshot hands over every local billing record and takes the active's outbox from the start.
  bool diverged = false;
  /// Since when (actor clock) this standby has been waiting for a snapshot; the tick warns and
  /// re-introduces it to the active when the wait grows long (watch_sync).
  std::optional<caf::actor_clock::time_point> unsynced_since;
  caf::actor_clock::time_point last_sync_warning;
  std::uint64_t head = 0; ///< active's head at its last batch
  std::int64_t head_at_ms = 0;
  std::uint64_t refused = 0;
  static inline const char* name = "replicator";
  ~replicator_state();
};

caf::behavior replicator(caf::stateful_actor<replicator_state>* self,
                         std::shared_ptr<replicator_environment> env);

} // namespace cms::ha
