#pragma once
// The one owner of billing-record writes. Calls send billing_record messages; the owner collects
// those arriving within `billing_batch_window` (or up to `billing_batch_max`) and writes them in
// one SQLite transaction (group commit: one fsync for many calls) through the outbox repository.
// A failed write keeps the batch and retries every second; records are never dropped. The first
// failure raises the billing store alarm (gauge cms_billing_store_alarm), the next success clears it.
// On an exit message it writes what it holds before quitting.
//
// Retention: every `billing_prune_interval` it deletes the records the RKS acknowledged that are
// older than `billing_retention` (settings; 0 keeps everything), a bounded chunk at a time so
// the write lock is never held long (cms_billing_pruned_total). Each node prunes its own store
// by the same rule, so a pair's two outboxes converge to the same window.
//
// Replication: once a replicator attached itself, every committed batch is handed to it
// with the sequences this outbox assigned, and a (atom::commit, record) request is answered only
// when the record is on both nodes (the replicator's ack) or, while the standby is absent, once
// committed here alone (counted in cms_billing_acked_single_node_total). The wait is bounded
// (`replication_wait`, default 2 s; counted in cms_billing_replication_wait_expired_total).
// Without a replicator (a lone node, unit tests) a commit is answered when it is queued.
//
// Protocol:
//   billing::billing_record             queue one record
//   (atom::commit, billing_record) -> uint64_t   queue one record; answered as described above
//   (atom::record_sequence, record_id) -> uint64_t   the sequence of a record (written first if
//                                        still queued); 0 when it is not stored. A call's BCIDs
//                                        number from its signaling_start record's sequence.
//   (atom::repl_attach, actor)          the replicator to hand committed batches to
//   (atom::repl_acked, seq, on_both)    from the replicator: records up to seq are durable
//   (atom::status) -> std::string       {"written":N,"batches":N,"queued":N,"last_sequence":N,
//                                        "store_alarm":bool}

#include "actors/calls/call_context.hpp"
#include "persistence/billing_record.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cms::actors {

/// Where batches go. Called on the owner actor's thread only.
class billing_writer {
public:
  virtual ~billing_writer() = default;
  /// Appends the batch atomically; returns the sequences assigned. Throws on failure.
  virtual std::vector<std::uint64_t> append(const std::vector<billing::billing_record>& batch) = 0;
  /// The sequence stored under `record_id`, if any (outbox.find). Optional.
  virtual std::optional<std::uint64_t> sequence_of(const std::string& /*record_id*/) {
    return std::nullopt;
  }
  /// The standby holds every record up to `sequence` (outbox.mark_replicated). Optional.
  virtual void mark_replicated(std::uint64_t /*sequence*/) {}
  /// Retention (outbox.prune_delivered): deletes up to `limit` delivered records older than
  /// `older_than_ms`; returns how many. Optional.
  virtual std::uint64_t prune_delivered(std::int64_t /*older_than_ms*/, std::size_t /*limit*/) {
    return 0;
  }
};

/// Opens its own connection to the node's SQLite store (connections are per owner).
std::unique_ptr<billing_writer> make_sqlite_billing_writer(const std::filesystem::path& db_file);

/// Called by the owner actor when it starts (and again after a restart).
using billing_writer_factory = std::function<std::unique_ptr<billing_writer>()>;

struct billing_outbox_state {
  std::shared_ptr<call_context> ctx;
  billing_writer_factory factory;
  std::unique_ptr<billing_writer> writer;
  std::vector<billing::billing_record> queued;
  bool flush_scheduled = false;
  std::uint64_t written = 0;
  std::uint64_t batches = 0;
  std::uint64_t last_sequence = 0;
  /// The last write failed (cms_billing_store_alarm): records wait in `queued`.
  bool store_alarm = false;
  /// Replication (see above).
  caf::actor replicator;
  /// Commit requests of queued records: (index in `queued`, promise).
  std::vector<std::pair<std::size_t, caf::response_promise>> queued_commits;
  struct waiting_commit {
    std::uint64_t sequence = 0;
    caf::response_promise promise;
    caf::actor_clock::time_point since;
  };
  std::vector<waiting_commit> waiting;
  std::chrono::milliseconds replication_wait{2000};
  bool wait_check_scheduled = false;
  static inline const char* name = "billing_outbox";
};

caf::behavior billing_outbox(caf::stateful_actor<billing_outbox_state>* self,
                             std::shared_ptr<call_context> ctx, billing_writer_factory factory);

} // namespace cms::actors
