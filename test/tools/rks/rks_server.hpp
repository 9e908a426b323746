#pragma once
// The RKS's TLS listener. Each connection reads batches one at a time, stores them and acks after
// commit. Any bad frame (digest mismatch, truncation, oversize, bad JSON or batch) is nacked when
// possible, logged, counted, and ends the connection with nothing stored.

#include "runtime/base/metrics.hpp"
#include "test/tools/rks/record_store.hpp"
#include "runtime/transport/rks_client.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace cms::billing {

struct rks_server_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0; ///< 0: any free port, see rks_server::port()
  tls_settings tls;
  std::size_t max_frame_size = rks::default_max_frame_size;
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds frame_timeout{30000}; ///< to receive the rest of a started frame
  std::chrono::milliseconds idle_timeout{300000}; ///< between frames on a kept-alive connection
};

class rks_server {
public:
  /// Binds and listens; throws std::runtime_error on TLS file or bind errors.
  rks_server(boost::asio::io_context& io, rks_server_settings settings, record_store& store,
             metrics::registry& metrics);
  ~rks_server();
  rks_server(const rks_server&) = delete;
  rks_server& operator=(const rks_server&) = delete;

  std::uint16_t port() const;
  /// Stops accepting and closes every connection; the io_context then runs out of work.
  void stop();

private:
  class impl;
  std::shared_ptr<impl> impl_;
};

} // namespace cms::billing
