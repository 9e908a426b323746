#pragma once
// The cmsd node: owns the actor system, the I/O threads (MGCP signalling, management), the SQLite
// store, the HTTP server and the root supervisor, and runs until SIGTERM/SIGINT.
//
// Threads: CAF's scheduler runs the actors; one io_context thread serves MGCP/UDP (signalling,
// normal priority); one io_context thread serves management I/O (HTTP, billing transport, SNMP
// glue) at a lower OS priority, so management work never competes with call signalling.

#include "runtime/base/config.hpp"

namespace cms {

class node {
public:
  explicit node(config::node_config cfg);
  /// Starts everything, blocks until a termination signal, shuts down. Returns the exit code
  /// (0 clean, 1 a start-up failure such as an unusable database or a port in use).
  int run();

private:
  config::node_config cfg_;
};

} // namespace cms
