#pragma once
// Counters of the EM accounting client, shaped like RADIUS-ACC-CLIENT-MIB (RFC 4670
// radiusAccServerExtTable: one row per RKS) so the SNMP agent can export them as they are.

#include <chrono>
#include <cstdint>
#include <vector>

namespace cms::radius {

struct rks_server_counters {
  std::uint64_t requests = 0;            ///< radiusAccClientExtRequests (first sends to this RKS)
  std::uint64_t retransmissions = 0;     ///< radiusAccClientExtRetransmissions
  std::uint64_t responses = 0;           ///< radiusAccClientExtResponses (valid ones accepted)
  std::uint64_t malformed_responses = 0; ///< radiusAccClientExtMalformedResponses
  std::uint64_t bad_authenticators = 0;  ///< radiusAccClientExtBadAuthenticators
  std::uint64_t pending_requests = 0;    ///< radiusAccClientExtPendingRequests (gauge)
  std::uint64_t timeouts = 0;            ///< radiusAccClientExtTimeouts (retries exhausted)
  std::uint64_t unknown_types = 0;       ///< radiusAccClientExtUnknownTypes
  /// radiusAccClientExtPacketsDropped: from this RKS, well formed, but for no request in flight to
  /// it (late duplicate, or an identifier that went to the other RKS).
  std::uint64_t packets_dropped = 0;
  std::chrono::microseconds round_trip_time{0};     ///< radiusAccClientExtRoundTripTime (last)
  std::chrono::microseconds round_trip_time_avg{0}; ///< mean over `responses` (not in the MIB)
};

struct accounting_client_counters {
  /// radiusAccClientExtInvalidServerAddresses: datagrams from neither configured RKS.
  std::uint64_t invalid_server_addresses = 0;
  std::uint64_t failovers = 0;          ///< switches of the active RKS after retries ran out
  std::uint64_t returns_to_primary = 0; ///< switches back after a Status-Server answer
  bool on_secondary = false;
  std::vector<rks_server_counters> servers; ///< [0] primary, [1] secondary (when configured)
};

} // namespace cms::radius
