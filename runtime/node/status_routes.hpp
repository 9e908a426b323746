#pragma once
// The node's own status resources: GET /healthz, GET /status, GET /metrics. Handlers never block:
// anything that needs an actor is asked by a short-lived actor that answers through respond_fn.

#include "runtime/base/cluster_view.hpp"
#include "runtime/http/server.hpp"
#include "runtime/base/metrics.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace cms {

/// A counter or gauge as JSON: an integer when it holds one (Boost.JSON writes every double in
/// exponent form, `0E0`, `1.2E1`, which people and shell scripts misread), else the double.
boost::json::value json_number(double v);

/// The pair as /status and GET /cluster show it (role, epoch, peer, heartbeat paths, replication).
boost::json::object cluster_json(const cluster_snapshot& c);

struct status_context {
  caf::actor_system& sys;
  caf::actor root; ///< root supervisor: /healthz asks it to prove actors run
  metrics::registry& metrics;
  const cluster_view& cluster;
  std::string node_id;
  std::chrono::steady_clock::time_point started;
  std::int64_t started_utc_ms = 0;
  /// /status serves the body it built this long ago at most: building it walks the metrics registry
  /// under the lock that call signalling takes for its counters, and a monitoring poller (or wrk
  /// at 20,000 requests/s) must not turn into lock traffic on the call path. 0: every request.
  std::chrono::milliseconds counters_max_age{100};
};

void add_status_routes(http::server& server, status_context ctx);

} // namespace cms
