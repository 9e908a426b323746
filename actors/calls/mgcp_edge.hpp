#pragma once
// Glue between the MGCP agent (runtime/mgcp/agent.hpp, callbacks on its io thread) and the actors.
//
// Inbound: dispatch_inbound() runs on the agent's io thread. It looks the endpoint up in the
// endpoint directory (a read-mostly map, no actor round trip) and hands the command to the endpoint
// actor with high priority; an unknown endpoint is answered 500 at once. A wildcard RSIP
// ("*@mta-0001...") is answered 200 once and fanned out to every line of that MTA.
// Before any of that, the source is checked: a command for a domain bound to provisioned
// addresses (endpoint_directory::bind_source: trunking gateways, MTAs) that comes from elsewhere is
// dropped unanswered and counted (cms_mgcp_rejected_total{reason="wrong_source"}). An answer
// would go to the forged address (a reflector) and would confirm the endpoint to a prober; the
// real gateway never sends from another address.
//
// Outbound: actors `request(edge, timeout, mgcp_request{peer, cmd})` and get an mgcp_reply. The
// edge actor calls agent.send(); the agent's outcome callback (io thread) only anon_sends the
// outcome back to the edge actor, which delivers the response promise on its own thread.
// Answers to inbound commands go through the edge too (send(edge, mgcp_respond{...})), so a test
// can replace the edge by a fake that records everything the actors say on the wire.

#include "actors/calls/endpoint_protocol.hpp"
#include "runtime/mgcp/agent.hpp"
#include "runtime/mgcp/message.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace cms::actors {

class endpoint_directory;

/// Send `cmd` to `peer` as a new transaction. Answered with mgcp_reply (never an error unless the
/// edge itself is gone; use a finite request timeout anyway).
struct mgcp_request {
  mgcp_peer peer;
  mgcp::command cmd;
};

/// Outcome of an mgcp_request.
struct mgcp_reply {
  /// none: `rsp` holds the final response; otherwise why there is none.
  enum class failure : std::uint8_t { none, timeout, send_error, stopped, bad_peer };
  failure fail = failure::none;
  mgcp::response rsp;
  bool ok() const noexcept { return fail == failure::none; }
};

/// Answer a command an MTA sent us (agent.respond; thread-safe, cached for T-hist).
struct mgcp_respond {
  mgcp_peer peer;
  mgcp::response rsp;
};

/// Internal: the agent's outcome for transaction `tag`, posted from the io thread.
struct mgcp_outcome {
  std::uint64_t tag = 0;
  mgcp::command_outcome outcome;
};

struct mgcp_edge_state {
  mgcp::agent* agent = nullptr;
  std::uint64_t next_tag = 1;
  std::unordered_map<std::uint64_t, caf::response_promise> pending;
  /// Set by the replicator while this node is not active (actors/ha/takeover_protocol.hpp): a
  /// standby never sends commands to MTAs (a stray RQNT would move a line's N: back to us).
  /// A node of a pair starts fenced: until its HA actor has decided, it is not the active.
  bool fenced = false;
  static inline const char* name = "mgcp_edge";
};

/// The edge actor. Requests still outstanding when it quits end at their requester's timeout.
caf::behavior mgcp_edge(caf::stateful_actor<mgcp_edge_state>* self, mgcp::agent* agent,
                        bool start_fenced);

mgcp_peer to_peer(const mgcp::udp_endpoint& ep);
/// nullopt when the address is not an IP literal.
std::optional<mgcp::udp_endpoint> to_udp(const mgcp_peer& p);

/// Counters of the inbound path (io thread).
struct inbound_metrics {
  metrics::counter* unknown_endpoint = nullptr;
  metrics::counter* dispatched = nullptr;
  metrics::counter* wildcard = nullptr;
  metrics::counter* wrong_source = nullptr;
};

/// The agent's command handler: installs as agent.on_command([..](from, cmd){ dispatch_inbound(..) }).
void dispatch_inbound(const endpoint_directory& directory, mgcp::agent& agent,
                      const inbound_metrics& counters, const mgcp::udp_endpoint& from,
                      mgcp::command cmd);

} // namespace cms::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::mgcp_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::mgcp_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::mgcp_respond)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::actors::mgcp_outcome)
