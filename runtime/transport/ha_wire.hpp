#pragma once
// The pair's UDP datagrams: heartbeats between the nodes, witness requests and answers. Each is a
// small JSON object sealed with the cluster key (ha_auth.hpp). Decoding checks the seal, the
// cluster and the ranges; the receiver then checks source, sequence and time (replay_guard).
// Shared by cmsd, cms-witness, the tests and the fuzz target.

#include "actors/ha/ha_rules.hpp"
#include "runtime/transport/ha_auth.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace cms::ha {

/// What every datagram says about its sending: who, in which order, when.
struct wire_origin {
  std::string sender; ///< node id (heartbeats, requests) or witness name (answers)
  std::uint64_t seq = 0;
  std::int64_t sent_ms = 0; ///< sender's wall clock
};

struct heartbeat_datagram {
  wire_origin origin;
  peer_info info;
  /// Age of the HA actor's last sign of life when the beat left (the I/O thread stops beating
  /// when it grows stale, so a dead or stuck HA actor is not heard as alive).
  std::int64_t ha_age_ms = 0;
};

enum class witness_op { claim, renew, release };
const char* to_string(witness_op op) noexcept;

struct witness_request {
  wire_origin origin; ///< origin.sender is the node asking
  witness_op op = witness_op::claim;
  std::uint64_t id = 0; ///< random: an answer must name a request in flight
  std::uint64_t epoch = 0;
  std::int64_t lease_ms = 0;
};

struct witness_answer {
  wire_origin origin; ///< origin.sender is the witness's name
  std::uint64_t id = 0;
  bool granted = false;
  std::uint64_t epoch = 0;
  std::string holder;
};

std::string encode(std::string_view key, const std::string& cluster, const heartbeat_datagram& d);
std::string encode(std::string_view key, const std::string& cluster, const witness_request& r);
std::string encode(std::string_view key, const std::string& cluster, const witness_answer& a);

/// drop_reason::none and `out` filled, or why the datagram is refused.
drop_reason decode(std::string_view key, const std::string& cluster, std::string_view datagram,
                   heartbeat_datagram& out);
drop_reason decode(std::string_view key, const std::string& cluster, std::string_view datagram,
                   witness_request& out);
drop_reason decode(std::string_view key, const std::string& cluster, std::string_view datagram,
                   witness_answer& out);

} // namespace cms::ha
