#pragma once
// What the replicators of the pair say to each other over the node link (and the few local
// messages around them). Every type here is in the type-ID block (actors/type_ids.hpp), so both
// nodes register exactly the same set.
//
// Active -> standby:   repl_batch                          the stream, in sequence order
// Standby -> active:   (atom::repl_ack, epoch, stream, seq) everything up to seq is applied
//                      repl_snapshot_request -> repl_snapshot (request, finite timeout)
// Either way:          (atom::repl_refuse, epoch)          "your epoch is older than mine"
// Every message carries the sender's epoch; a replicator that receives a lower epoch than its own
// refuses it, and the sender, learning of a higher epoch, tells its HA actor.

#include "actors/ha/byte_image.hpp"
#include "persistence/billing_record.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cms::ha {

/// One numbered change of the stream. kind: "endpoint" / "call" (a state_change of the state
/// catalogue: `key`, `state` = CAF binary image, `removed`), "billing" (`billing` holds the record
/// with the active's sequence) or "rks_position" (`value` = RKS-acknowledged sequence).
struct repl_record {
  std::uint64_t seq = 0;
  std::int64_t at_ms = 0; ///< active's wall clock when numbered (lag in ms)
  std::string kind;
  std::string key;
  std::vector<char> state;
  bool removed = false;
  billing::billing_record billing;
  std::uint64_t value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, repl_record& x) {
  return f(caf::meta::type_name("repl_record"), x.seq, x.at_ms, x.kind, x.key,
           cms::byte_image{x.state}, x.removed, x.billing, x.value);
}

/// A run of consecutive records. `stream` identifies the active replicator's incarnation: a
/// standby that sees another stream id (the active restarted) asks for a new snapshot.
struct repl_batch {
  std::uint64_t epoch = 0;
  std::uint64_t stream = 0;
  std::uint64_t head = 0; ///< highest sequence the active has numbered so far
  std::vector<repl_record> records;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, repl_batch& x) {
  return f(caf::meta::type_name("repl_batch"), x.epoch, x.stream, x.head, x.records);
}

/// A standby (re)joins. `outbox_last`: the highest billing sequence it still holds; `orphans`:
/// records it committed itself as an active and no standby ever acknowledged (it drops them and
/// hands them to the active, whose outbox deduplicates by record id).
/// More records to hand over than fit one message: `orphans_only` asks the active to adopt this
/// chunk and answer without a snapshot; the standby drops the chunk and sends the next one.
struct repl_snapshot_request {
  std::uint64_t epoch = 0;
  std::uint64_t outbox_last = 0;
  std::vector<billing::billing_record> orphans;
  bool orphans_only = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, repl_snapshot_request& x) {
  return f(caf::meta::type_name("repl_snapshot_request"), x.epoch, x.outbox_last, x.orphans,
           x.orphans_only);
}

/// The active's consistent image: every live line/call state numbered up to `seq`, plus the
/// billing records after the standby's `outbox_last`. The stream continues at seq + 1.
struct repl_snapshot {
  std::uint64_t epoch = 0;
  std::uint64_t stream = 0;
  std::uint64_t seq = 0;
  bool refused = false; ///< the requester's epoch was older: `epoch` is ours
  std::vector<repl_record> image;
  std::vector<billing::billing_record> billing;
  std::uint64_t rks_position = 0;
  bool orphans_only = false; ///< answer to an orphans_only request: chunk adopted, no image
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, repl_snapshot& x) {
  return f(caf::meta::type_name("repl_snapshot"), x.epoch, x.stream, x.seq, x.refused, x.image,
           x.billing, x.rks_position, x.orphans_only);
}

} // namespace cms::ha
