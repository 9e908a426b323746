#include "runtime/node/caf_setup.hpp"

#include "actors/type_ids.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include <algorithm>
#include <thread>

namespace cms {

node_caf_config::node_caf_config(const config::node_config& cfg) {
  add_message_types<caf::id_block::cms>();
  load<caf::io::middleman>();
  load<caf::openssl::manager>();
  // Mutual TLS on the node link: without these CAF silently falls back to anonymous ciphers.
  if (cfg.tls.configured()) {
    openssl_certificate = cfg.tls.certificate.string();
    openssl_key = cfg.tls.key.string();
    openssl_cafile = cfg.tls.ca.string();
  }
  set("middleman.app-identifiers", std::vector<std::string>{cfg.node.cluster_id});
  // Both nodes must run the heartbeat; timeout >= 3x interval (CAF-0.17-NOTES).
  auto interval = std::max<std::int64_t>(cfg.peer.heartbeat_interval.count(), 100);
  set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds{interval}});
  set("middleman.connection-timeout",
      caf::timespan{std::chrono::milliseconds{interval * std::max(3, cfg.peer.heartbeat_misses)}});
  set("logger.verbosity", caf::atom("quiet"));
  // Two cores in the reference deployment: one worker per core; I/O threads are extra.
  set("scheduler.max-threads",
      static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
}

} // namespace cms
