#pragma once
// Authentication of the pair's UDP control plane (heartbeats, witness requests and answers).
// Every datagram is sealed with HMAC-SHA256 under the cluster key and carries a per-sender
// sequence number and the sender's wall-clock time; a receiver drops anything it cannot verify,
// anything replayed and anything outside the time window, and counts each drop by reason.
// Wire format and threat model: docs/security.md, "Pair control plane".

#include "runtime/base/metrics.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cms::ha {

/// "CMA1" then the 32-byte MAC of (magic || body), then the body.
constexpr std::string_view sealed_magic = "CMA1";
constexpr std::size_t mac_bytes = 32;
constexpr std::size_t sealed_overhead = 4 + mac_bytes;

/// Why a datagram was dropped; each reason is a label of cms_ha_udp_dropped_total.
enum class drop_reason {
  none,
  malformed,          ///< not a sealed datagram, or a body we cannot parse
  bad_mac,            ///< sealed with another key, or altered on the way
  wrong_source,       ///< sent from an address that is not the configured peer / witness / node
  wrong_cluster,      ///< authenticated, but for another cluster
  stale,              ///< sender time outside the replay window
  replayed,           ///< sequence number not above the last accepted one of that sender
  epoch_out_of_range, ///< epoch above INT64_MAX (the store is signed 64-bit)
  unknown_request,    ///< a witness answer to no request in flight
  lease_too_long,     ///< a witness request for a longer lease than the witness allows
};
const char* to_string(drop_reason r) noexcept;

/// Adds the MAC. `key` must not be empty.
std::string seal(std::string_view key, std::string_view body);
/// The body of a datagram whose MAC verifies (constant-time compare), or the reason it does not.
drop_reason unseal(std::string_view key, std::string_view datagram, std::string_view& body);

/// 64 bits from the CSPRNG (OpenSSL RAND_bytes); witness request ids are not guessable.
std::uint64_t random_u64();

/// Wall-clock milliseconds since the epoch: what datagrams carry as their sending time.
std::int64_t wall_ms();

/// Strictly increasing per sender, and across restarts too: it starts from the wall clock in
/// microseconds, so a restarted sender does not reuse numbers the receiver already accepted.
class sequence_counter {
public:
  std::uint64_t next();

private:
  std::uint64_t last_ = 0;
};

/// Accepts each sender's datagrams once, in increasing sequence, within the time window.
/// A sender silent for more than two windows starts afresh (its old datagrams are stale by then),
/// so a sender whose clock stepped back before it restarted is heard again.
class replay_guard {
public:
  explicit replay_guard(std::chrono::milliseconds window) : window_(window.count()) {}

  /// Records and accepts (none), or says why not. `now_ms` is the receiver's wall_ms().
  drop_reason check(const std::string& sender, std::uint64_t seq, std::int64_t sent_ms,
                    std::int64_t now_ms);

private:
  struct seen {
    std::uint64_t seq = 0;
    std::int64_t at_ms = 0;
  };
  std::int64_t window_;
  std::map<std::string, seen> senders_;
};

/// cms_ha_udp_dropped_total{path,reason}: every dropped control-plane datagram.
class drop_counters {
public:
  drop_counters(metrics::registry& m, std::string path) : metrics_(m), path_(std::move(path)) {}
  /// Called on one thread (the socket's); a flood costs an array lookup per datagram.
  void count(drop_reason r);

private:
  metrics::registry& metrics_;
  std::string path_;
  std::array<metrics::counter*, 10> counters_{};
};

} // namespace cms::ha
