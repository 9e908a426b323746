#pragma once
// A trunk leg: the PSTN side of one call, on one DS0 channel. Towards its call actor it behaves as
// a line (endpoint_protocol.hpp: create/modify/delete_connection, apply_treatment, release_line;
// it reports line_events), so the call actor runs the same state machine for on-net and off-net
// calls. Towards the gateway it sends CRCX/MDCX/DLCX/RQNT on its channel with the X-TR package
// signals (docs/trunks.md) and turns the gateway's X-TR events (relayed by the trunk actor as
// pstn_signal) into line_events.
//
// Outgoing legs are started by the router with the ordered hunt candidates and asked (hunt_atom)
// for a channel; when the CRCX of a seizure fails (gateway not answering, refusing, or declared
// failed meanwhile) the leg gives the channel back and hunts the next candidate, invisibly to the
// call, up to trunk_settings::max_setup_attempts. Incoming legs are started by a trunk actor for
// a PSTN seizure: they ask the call manager for a call (originate_call, as a line going off hook)
// and report the called number as dialled digits.

#include "actors/trunks/route_table.hpp"
#include "actors/trunks/trunk_context.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cms::trunks {

using hunt_atom = caf::atom_constant<caf::atom("tl_hunt")>;

/// The channel a leg holds.
struct leg_channel {
  std::string facility;
  int channel = 0;
  std::string endpoint;
  actors::mgcp_peer peer;
};

struct trunk_leg_state {
  std::shared_ptr<trunk_context> ctx;
  bool incoming = false;
  std::string call_id;
  std::string called;
  std::string calling;
  caf::actor call;
  std::vector<hunt_candidate> candidates; ///< outgoing: what is left to hunt
  std::string route;                      ///< outgoing: "offnet:<prefix>:<group>/<facility>"
  int attempts = 0;
  leg_channel held; ///< channel 0: none
  std::string connection_id;
  std::uint64_t crcx_generation = 0; ///< a lost channel aborts the CRCX in flight
  bool crcx_pending = false;
  bool answered = false;      ///< PSTN answered (outgoing) / we answered (incoming)
  bool pstn_released = false; ///< the far end released (no rel signal needed)
  bool lost = false;          ///< the channel went out of service under us
  std::uint64_t request_counter = 0;
  /// Set while a CRCX is out: gives up on it and retries elsewhere (channel_lost).
  std::function<void()> pending_retry;
  static inline const char* name = "trunk_leg";
};

caf::behavior outgoing_leg(caf::stateful_actor<trunk_leg_state>* self,
                           std::shared_ptr<trunk_context> ctx, seize_trunk req,
                           std::vector<hunt_candidate> candidates);

caf::behavior incoming_leg(caf::stateful_actor<trunk_leg_state>* self,
                           std::shared_ptr<trunk_context> ctx, leg_channel held,
                           std::string call_id, std::string called, std::string calling);

} // namespace cms::trunks
