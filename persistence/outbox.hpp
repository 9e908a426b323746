#pragma once
// The billing-record outbox: records are durable here before anyone is told the call event
// happened, then replicated to the standby and forwarded to the Record Keeping Server in
// sequence order. Sequences are monotonic per pair: the active assigns them, the standby stores
// the active's numbers, so after a failover the new active continues where the old one stopped.

#include "persistence/billing_record.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cms::persistence {

class database;

class outbox {
public:
  /// Holds a reference: the database must outlive the outbox.
  explicit outbox(database& db) : db_(db) {}

  /// Appends `records` in one savepoint (group commit: callers batch the records of several
  /// calls into one fsync; inside a caller's transaction the append joins it). Returns the
  /// sequence of each record, in order. Re-appending a record_id that is already stored is not
  /// an error and stores nothing: its existing sequence is returned (a retried event is billed
  /// once). The records' own `sequence` fields are ignored. `now_ms` stamps created_ms
  /// (defaults to the system clock).
  std::vector<std::uint64_t> append(const std::vector<billing::billing_record>& records,
                                    std::optional<std::int64_t> now_ms = std::nullopt);

  /// Standby side: stores records with the sequences the active assigned, marked replicated.
  /// Records already present (same record_id and sequence) are skipped; a sequence held by a
  /// different record_id is a constraint error (the pair's numbering diverged).
  void store_replicated(const std::vector<billing::billing_record>& records,
                        std::optional<std::int64_t> now_ms = std::nullopt);

  /// Unsent records in sequence order, at most `limit`. `replicated_only`: only those the standby
  /// acknowledged (replicated = 1), so that a record the RKS received can never be renumbered by a
  /// new active that took over without it (docs/billing.md, "HA rules").
  std::vector<billing::billing_record> pending(std::size_t limit, bool replicated_only = false);
  /// The record stored under `record_id` (with its sequence), if any. The EM mapping looks up a
  /// call's signaling_start and call_answer records through it.
  std::optional<billing::billing_record> find(const std::string& record_id);
  /// The position as the store records it: everything below the oldest unsent record was
  /// acknowledged (the highest sequence when nothing is pending, 0 when empty).
  std::uint64_t sent_position();
  /// Records not yet acknowledged by the standby, in sequence order, at most `limit`.
  std::vector<billing::billing_record> unreplicated(std::size_t limit);
  /// Records above `sequence`, in sequence order, at most `limit` (a standby's catch-up).
  std::vector<billing::billing_record> after(std::uint64_t sequence, std::size_t limit);
  /// The highest sequence the standby acknowledged (0 when none).
  std::uint64_t last_replicated();
  /// The highest sequence the RKS acknowledged (0 when none).
  std::uint64_t last_sent();

  /// The RKS acknowledged everything up to and including `sequence`. Returns rows newly marked.
  int mark_sent(std::uint64_t up_to_sequence);
  /// The standby acknowledged everything up to and including `sequence`.
  int mark_replicated(std::uint64_t up_to_sequence);
  /// Retention: deletes at most `limit` records the RKS acknowledged (sent) whose event is older
  /// than `older_than_ms` (UTC ms), oldest first. The newest acknowledged record always stays: it
  /// is where forwarding resumes after a restart. Unsent records are never deleted. Returns the
  /// number deleted.
  std::uint64_t prune_delivered(std::int64_t older_than_ms, std::size_t limit);

  std::uint64_t count();
  std::uint64_t pending_count();
  /// Highest sequence ever stored (0 when empty).
  std::uint64_t last_sequence();

private:
  std::vector<billing::billing_record> select(const char* where, std::size_t limit);

  database& db_;
  /// append's two statements, prepared on first use and kept: the long-lived outbox of the
  /// billing outbox owner no longer prepares them again for every group commit (that was 12.6%
  /// of the call path's instructions, docs/performance.md).
  struct append_statements;
  std::shared_ptr<append_statements> append_;
};

} // namespace cms::persistence
