#pragma once
// The actor system configuration of a node: the project's type-ID block, the middleman and the
// OpenSSL manager for the node link, TLS material, the cluster id as application identifier and
// CAF's own node-link heartbeat (off by default in 0.17; see CAF-0.17-NOTES).

#include "runtime/base/config.hpp"

#include <caf/actor_system_config.hpp>

namespace cms {

struct node_caf_config : caf::actor_system_config {
  explicit node_caf_config(const config::node_config& cfg);
};

} // namespace cms
