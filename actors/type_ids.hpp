#pragma once
// The one CAF type-ID block of the project: every type and atom that crosses an actor boundary is
// listed here, so both nodes of the pair register exactly the same set (a type missing on one side
// arrives as an empty message, see CAF-0.17-NOTES). Add new types at the END of the block only:
// ids are positional and must match between the two nodes.

#include "actors/calls/call_protocol.hpp"
#include "actors/links/data_link_protocol.hpp"
#include "actors/calls/endpoint_protocol.hpp"
#include "actors/ha/state_change.hpp"
#include "actors/ha/ha_rules.hpp"
#include "actors/ha/replication_protocol.hpp"
#include "persistence/billing_record.hpp"

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <string>
#include <vector>

CAF_BEGIN_TYPE_ID_BLOCK(cms, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(cms, (cms::billing::billing_record))
CAF_ADD_TYPE_ID(cms, (std::vector<cms::billing::billing_record>))

// Supervision.
CAF_ADD_ATOM(cms, cms::atom, lookup, "lookup")     ///< (lookup, child id) -> current actor
CAF_ADD_ATOM(cms, cms::atom, children, "children") ///< (children) -> child report
CAF_ADD_ATOM(cms, cms::atom, status, "status")     ///< (status) -> JSON text of an actor's state
CAF_ADD_ATOM(cms, cms::atom, tick, "tick")         ///< internal periodic timer

// The pair (actors/ha): node-link messages between the two HA actors, and local notifications.
CAF_ADD_TYPE_ID(cms, (cms::ha::role))
CAF_ADD_TYPE_ID(cms, (cms::ha::peer_info))
CAF_ADD_ATOM(cms, cms::atom, hello, "hello")     ///< (hello, peer_info): dialer introduces itself
CAF_ADD_ATOM(cms, cms::atom, heartbeat, "hb")    ///< (hb, peer_info) on the node link
CAF_ADD_ATOM(cms, cms::atom, udp_hb, "udp_hb")   ///< (udp_hb, peer_info) from the UDP path
CAF_ADD_ATOM(cms, cms::atom, claimed, "claimed") ///< (claimed, epoch, granted, highest) local
CAF_ADD_ATOM(cms, cms::atom, renewed, "renewed") ///< (renewed, epoch, granted, highest, sent) local
CAF_ADD_ATOM(cms, cms::atom, switchover, "switchovr") ///< admin: hand the active role over
CAF_ADD_ATOM(cms, cms::atom, handover, "handover")    ///< active -> standby: claim now
CAF_ADD_ATOM(cms, cms::atom, subscribe, "subscribe")  ///< (subscribe, actor): role changes
CAF_ADD_ATOM(cms, cms::atom, role_changed, "rolechg") ///< (rolechg, role, epoch) to subscribers

// Call processing state: what the replication of lines and calls carries.
CAF_ADD_TYPE_ID(cms, (cms::actors::mgcp_peer))
CAF_ADD_TYPE_ID(cms, (cms::actors::endpoint_state))
CAF_ADD_TYPE_ID(cms, (cms::actors::call_state))
CAF_ADD_TYPE_ID(cms, (cms::actors::state_change))
CAF_ADD_TYPE_ID(cms, (cms::actors::call_removed))

// Data links and the billing forwarder.
CAF_ADD_TYPE_ID(cms, (cms::links::link_state))
CAF_ADD_TYPE_ID(cms, (cms::links::link_status))
CAF_ADD_TYPE_ID(cms, (cms::links::link_snapshot))
CAF_ADD_ATOM(cms, cms::atom, probe_ack, "probe_ack")    ///< (probe_ack, seq): a link probe answered
CAF_ADD_ATOM(cms, cms::atom, link_changed, "linkchg")   ///< (linkchg, link_status) to subscribers
CAF_ADD_ATOM(cms, cms::atom, batch_done, "fwd_done")    ///< forwarder internal: RKS outcome
CAF_ADD_ATOM(cms, cms::atom, sent_position, "sent_pos") ///< (sent_pos, seq): RKS acked up to seq
CAF_ADD_ATOM(cms, cms::atom, position, "position")      ///< (position) -> seq acked by the RKS

// Replication and takeover (actors/ha/replicator.hpp).
CAF_ADD_TYPE_ID(cms, (cms::ha::repl_record))
CAF_ADD_TYPE_ID(cms, (std::vector<cms::ha::repl_record>))
CAF_ADD_TYPE_ID(cms, (cms::ha::repl_batch))
CAF_ADD_TYPE_ID(cms, (cms::ha::repl_snapshot_request))
CAF_ADD_TYPE_ID(cms, (cms::ha::repl_snapshot))
CAF_ADD_ATOM(cms, cms::atom, repl_attach,
             "repl_att") ///< (repl_att, actor): a local replicator registers
CAF_ADD_ATOM(cms, cms::atom, repl_peer,
             "repl_peer") ///< (repl_peer, actor): the peer node's replicator
CAF_ADD_ATOM(cms, cms::atom, repl_ack,
             "repl_ack") ///< (repl_ack, epoch, stream, seq) standby -> active
CAF_ADD_ATOM(cms, cms::atom, repl_refuse,
             "repl_ref") ///< (repl_ref, epoch): sender's epoch is older
CAF_ADD_ATOM(cms, cms::atom, epoch_seen,
             "epochseen") ///< (epochseen, epoch, source) to the HA actor
CAF_ADD_ATOM(cms, cms::atom, repl_billing,
             "repl_bill") ///< (repl_bill, records) outbox -> replicator
CAF_ADD_ATOM(cms, cms::atom, repl_acked,
             "repl_ackd") ///< (repl_ackd, seq, on_both) replicator -> outbox
CAF_ADD_ATOM(cms, cms::atom, commit,
             "bo_commit")                      ///< (bo_commit, record) -> seq: durable (both nodes)
CAF_ADD_ATOM(cms, cms::atom, pace, "fwd_pace") ///< forwarder internal: the drain pause is over
CAF_ADD_ATOM(cms, cms::atom, clock_stepped,
             "clk_step") ///< (clk_step, adjustment_ms, at_ms) manager -> call: wall clock stepped
CAF_ADD_ATOM(cms, cms::atom, record_sequence,
             "bo_seq") ///< (bo_seq, record_id) -> seq of a stored record, 0 if none

CAF_END_TYPE_ID_BLOCK(cms)
