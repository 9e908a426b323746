#pragma once
// From outbox records to PacketCable Event Messages: which EMs each billing record becomes, on
// which half-call, with which BCID and EM sequence number. Pure and deterministic: the same record
// (and the same call context from the outbox) gives the same EMs, so a resend, by either node of
// the pair, carries the same bytes and the RKS stores each EM once under its
// UNIQUE(bcid, em_type, sequence). The table is in docs/billing.md.
//
// Numbering (the outbox sequence is pair-wide, so both follow from it by construction):
//   BCID     timestamp = the call's signaling_start time (s), element id and time zone from
//            [billing], event counter = 2 x S (originating half) or 2 x S + 1 (terminating half),
//            mod 2^32, where S is the outbox sequence of the call's signaling_start record.
//   sequence EM header sequence = 8 x R + slot, mod 2^32, where R is the record's own outbox
//            sequence and slot the EM's fixed place in the record (table below, < 8).

#include "persistence/billing_record.hpp"
#include "runtime/radius/event_message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::billing {

/// Who sends the EMs: the pair, not a node ([billing] element_id, time_zone), so that both nodes
/// number the same call the same way.
struct em_identity {
  std::string element_id;             ///< at most 8 printable ASCII
  std::string time_zone = "0+000000"; ///< "D+hhmmss"
  std::string financial_entity_id;    ///< empty: the attribute is left out
};

/// What a record's EMs need from the rest of the outbox (persistence::outbox::find).
struct em_call_context {
  /// The call's signaling_start record; absent (pruned, or never billed): the record's own
  /// sequence and time stand in for it.
  std::optional<billing_record> start;
  /// The call's call_answer record exists: a release becomes Call_Disconnect + stops, and the
  /// terminating half was opened by the answer.
  bool answered = false;
};

/// EM slots within one record (the EM header sequence is 8 x record sequence + slot).
inline constexpr std::uint32_t em_slots_per_record = 8;

/// The pair's default element id: 5 decimal digits from the cluster id (FNV-1a), the same on
/// both nodes of a pair.
std::string default_element_id(const std::string& cluster_id);

/// True for a trunk channel ("ds/ds1-N/C@gateway"): its half-call is an interconnect half.
bool is_trunk_endpoint(const std::string& endpoint);

/// The BCID of one half of a call.
radius::bcid half_call_bcid(const em_identity& id, std::uint64_t start_sequence,
                            std::int64_t start_ms, bool terminating);

/// The EMs of one outbox record, in slot order. Unknown events give none.
std::vector<radius::event_message>
event_messages_for(const billing_record& r, const em_call_context& call, const em_identity& id);

} // namespace cms::billing
