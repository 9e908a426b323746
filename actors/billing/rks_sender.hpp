#pragma once
// What the billing forwarder needs from a transport to the Record Keeping Server: where the RKS of
// the current management path is, and one call that delivers a batch of outbox records and says
// how far the RKS answered. The node's transport is radius_sender (PacketCable Event Messages over
// RADIUS); deterministic tests use a fake.

#include "persistence/billing_record.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::billing {

/// Where the RKS listens on one management path (primary link or backup VPN tunnel).
struct rks_endpoint {
  std::string host;
  std::uint16_t port = 0;
  /// "host:port" or "[v6addr]:port"; nullopt on anything else.
  static std::optional<rks_endpoint> parse(std::string_view host_port);
  std::string to_string() const;
  friend bool operator==(const rks_endpoint& a, const rks_endpoint& b) {
    return a.host == b.host && a.port == b.port;
  }
  friend bool operator!=(const rks_endpoint& a, const rks_endpoint& b) { return !(a == b); }
};

/// Outcome of one batch. ok: every record up to and including up_to_sequence was answered by the
/// RKS (all of its Event Messages), so those records may leave the outbox. A batch answered only
/// in part reports ok with the end of the answered prefix.
struct send_result {
  bool ok = false;
  std::uint64_t up_to_sequence = 0;
  std::string error;
};

/// Sends one batch (records in ascending sequence order); `done` runs once, on any thread.
class rks_sender {
public:
  virtual ~rks_sender() = default;
  virtual void send(const rks_endpoint& to, std::vector<billing_record> records,
                    std::function<void(send_result)> done) = 0;
};

} // namespace cms::billing
