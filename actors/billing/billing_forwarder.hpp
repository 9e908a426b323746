#pragma once
// The billing forwarder: sends the outbox's records, oldest first and in batches,
// to the Record Keeping Server over the current management path, and lets a record leave the
// outbox (mark_sent) only after the RKS acknowledged it.
//
// Path: the primary RKS address while the primary data link carries traffic (up or degraded),
// else the backup address (reached over the backup VPN tunnel) while the backup link does, else
// none: records stay in the outbox (store and forward) and drain, oldest first, when a link
// returns. Only the active node forwards: the forwarder follows (atom::role_changed, role, epoch).
// One batch is in flight at a time, so records reach the RKS in sequence order; a failed batch is
// re-sent after a back-off (the RKS stores each Event Message once under its BCID, type and
// sequence, so re-sending is harmless).
//
// Position: the highest sequence the RKS acknowledged (every record at or below it is marked sent
// in SQLite). `on_position` hands it to replication after each ack; on the standby the replicated
// position arrives as (atom::sent_position, seq) and is applied to the local outbox, so the next
// active resumes after it (anything acked but not yet replicated is re-sent and deduplicated).
// On becoming active the forwarder re-reads its position from SQLite: the store moved on while
// it was standby.
//
// Protocol:
//   (atom::role_changed, ha::role, uint64_t epoch)  forward only while role == active
//   (atom::link_changed, links::link_status)         from the data-link actors (subscribe us)
//   (atom::sent_position, uint64_t seq)              standby: the active's RKS position
//   (atom::position)      -> uint64_t                highest sequence acked by the RKS
//   (atom::status)        -> std::string             JSON: active, path, pending, position, ...
//   (atom::tick)                                     internal poll timer
//   (atom::batch_done, attempt, ok, up_to, error)    internal: the sender's outcome
//   (atom::pace)                                     internal: the drain ceiling's pause is over
//
// Drain ceiling (`max_records_per_s`): a backlog (after a link outage) otherwise drains back to
// back, and every batch (SQLite read, Event Message encoding, RADIUS, marking sent) takes CPU from call signalling on a
// small machine. With a ceiling, the next batch waits until the previous one's records fit in it.

#include "actors/links/data_link_protocol.hpp"
#include "actors/ha/ha_rules.hpp"
#include "persistence/billing_record.hpp"
#include "runtime/base/metrics.hpp"
#include "actors/billing/rks_sender.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cms::persistence {
class database;
class outbox;
} // namespace cms::persistence

namespace cms::billing {

/// The `on_position` hook of a node: hands each RKS position to the current replicator as
/// (atom::sent_position, seq), which streams it to the standby (actors/ha/replicator.hpp); there it
/// marks the records sent, so a new active resumes after the position instead of re-sending
/// everything. `replicator` returns the current handle (null while it restarts: that position is
/// skipped, the next ack carries a higher one).
std::function<void(std::uint64_t)> position_to_replicator(std::function<caf::actor()> replicator);

enum class management_path : std::uint8_t { none, primary, backup };
const char* to_string(management_path p) noexcept;

struct forwarder_settings {
  std::filesystem::path db_file; ///< the node's store; the forwarder opens its own connection
  std::optional<rks_endpoint> rks_primary; ///< [billing] rks_primary; absent: never forward
  std::optional<rks_endpoint> rks_backup;  ///< [billing] rks_secondary; absent: no backup path
  std::string primary_link; ///< data link of kind primary; empty: the primary path needs no link
  std::string backup_link;  ///< data link of kind backup; empty: backup path used whenever set
  std::size_t batch_size = 100;                  ///< [billing] batch_size
  std::chrono::milliseconds poll_interval{100};  ///< how often the outbox is checked when idle
  std::chrono::milliseconds retry_initial{250};  ///< back-off after a failed batch, doubling...
  std::chrono::milliseconds retry_max{5000};     ///< ...up to this
  std::chrono::milliseconds send_timeout{60000}; ///< a batch without outcome this long is re-sent
  std::uint64_t high_water = 500000;             ///< pending records that raise the outbox alarm
  std::uint64_t low_water = 450000;              ///< pending records below which the alarm clears
  /// SNMP trap hook: (raised, pending). Called on the forwarder's thread.
  std::function<void(bool raised, std::uint64_t pending)> on_high_water;
  /// Replication hook: the RKS position after each ack. Called on the forwarder's thread.
  std::function<void(std::uint64_t position)> on_position;
  /// True while a standby is attached: then only records the standby acknowledged (replicated)
  /// are sent, so a record the RKS holds can never be renumbered by a new active that took over
  /// without it (docs/billing.md, "HA rules"). Unset: every pending record (a lone node).
  std::function<bool()> standby_attached;
  /// Consecutive failed batches that raise the RKS alarm (no RKS answers: both down, or a wrong
  /// shared secret, which FreeRADIUS answers with silence); the next delivered batch clears it.
  std::uint64_t rks_alarm_failures = 3;
  /// Spawned detached (the node): lower the OS priority of the forwarder's own thread by this
  /// much and name it "cms-billing", so that draining a backlog (SQLite reads, Event Message encoding, marking sent)
  /// only takes CPU that call signalling leaves over. 0 (tests on a shared thread): leave it.
  int thread_nice = 0;
  /// [billing] drain_max_records_per_s: ceiling of the forwarding rate; 0 = as fast as the RKS acks.
  std::uint32_t max_records_per_s = 0;
};

/// Pure path choice (unit-tested): which RKS address to use given the links' last known states
/// (a configured link with no known state counts as down).
management_path choose_path(const forwarder_settings& s,
                            const std::map<std::string, links::link_state>& links);

struct billing_forwarder_state {
  forwarder_settings settings;
  std::shared_ptr<rks_sender> sender;
  metrics::registry* metrics = nullptr;
  std::unique_ptr<persistence::database> db;
  std::unique_ptr<persistence::outbox> outbox;
  bool active = false;
  std::uint64_t epoch = 0;
  std::map<std::string, links::link_state> links;
  /// Per link, the transition count of the state in `links`: the subscription's snapshot and the
  /// link actor's updates come from different senders, so an older state can arrive last.
  std::map<std::string, std::uint64_t> link_transitions;
  management_path path = management_path::none;
  bool in_flight = false;
  std::uint64_t attempt = 0; ///< id of the batch in flight (late outcomes are ignored)
  management_path in_flight_path = management_path::none;
  caf::actor_clock::time_point in_flight_since;
  std::uint64_t position = 0; ///< highest sequence acked by the RKS
  std::uint64_t pending = 0;  ///< unsent records at the last poll
  std::chrono::milliseconds backoff{0};
  caf::actor_clock::time_point retry_at;
  caf::actor_clock::time_point paced_until; ///< drain ceiling: no batch before this
  bool pace_wake_pending = false;           ///< an atom::pace is on its way
  std::uint64_t consecutive_failures = 0;
  bool alarm = false;
  bool rks_alarm = false;    ///< no RKS answered rks_alarm_failures batches in a row
  bool store_failed = false; ///< opening the store failed (logged once)
  bool thread_set = false;   ///< thread_nice applied (on the first message)
  std::string last_error;
  static inline const char* name = "billing_forwarder";
  ~billing_forwarder_state();
};

caf::behavior billing_forwarder(caf::stateful_actor<billing_forwarder_state>* self,
                                forwarder_settings settings, std::shared_ptr<rks_sender> sender,
                                metrics::registry* metrics);

} // namespace cms::billing
