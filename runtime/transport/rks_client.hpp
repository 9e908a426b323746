#pragma once
// TLS client of the Record Keeping Server, used by the node's billing forwarder. Sends one batch at
// a time (later batches wait in order), keeps the connection while it is healthy and reconnects
// after any error. Mutual authentication: our certificate and the RKS's must chain to the pair's CA.

#include "persistence/billing_record.hpp"
#include "persistence/rks_protocol.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::billing {

/// PEM files of one side of a mutually authenticated TLS connection.
struct tls_settings {
  std::string cert; ///< our certificate (chain), presented to the peer
  std::string key;  ///< private key of that certificate
  std::string ca;   ///< CA certificate(s) the peer's certificate must chain to
};

/// Where the RKS listens on the current management path (primary link or backup VPN tunnel).
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

struct rks_client_options {
  std::string node = "cms"; ///< sent in each batch; the RKS logs and stores it
  int dscp = 8; ///< 0..63; management class CS1 by default, so that MGCP signalling goes first
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds handshake_timeout{3000};
  std::chrono::milliseconds reply_timeout{10000}; ///< from writing a batch to its ack
  std::size_t max_frame_size = rks::default_max_frame_size;
  std::string server_name; ///< when set, the RKS certificate must carry this name
};

/// Outcome of one batch. ok: the RKS committed every record (new or duplicate) up to
/// up_to_sequence, so they may leave the outbox.
struct send_result {
  bool ok = false;
  std::uint64_t up_to_sequence = 0;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::string error;
};

class rks_client {
public:
  using callback = std::function<void(send_result)>;

  /// Throws std::runtime_error when a certificate, key or CA file cannot be loaded.
  rks_client(boost::asio::io_context& io, tls_settings tls, metrics::registry& metrics,
             rks_client_options options = {});
  /// Pending sends are dropped without their callbacks being called.
  ~rks_client();
  rks_client(const rks_client&) = delete;
  rks_client& operator=(const rks_client&) = delete;

  /// Thread-safe. `done` runs on an io_context thread, once, after the ack, nack or error.
  /// Batches go out in call order; records must be in ascending sequence order.
  void send_batch(rks_endpoint to, std::vector<billing_record> records, callback done);

  /// Drops the connection; pending sends complete with error "client closed".
  void close();

private:
  class impl;
  std::shared_ptr<impl> impl_;
};

} // namespace cms::billing
