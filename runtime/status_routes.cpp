#include "runtime/status_routes.hpp"

#include "actors/type_ids.hpp"
#include "cms/version.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <memory>

namespace cms {

namespace {

std::string sample_key(const metrics::sample& s) {
  if (s.labels.empty())
    return s.name;
  std::string key = s.name + "{";
  bool first = true;
  for (auto& [k, v] : s.labels) {
    key += (first ? "" : ",") + k + "=" + v;
    first = false;
  }
  return key + "}";
}

boost::json::object cluster_json(const cluster_snapshot& c) {
  return {{"role", c.role},
          {"epoch", c.epoch},
          {"peer_state", c.peer_state},
          {"heartbeat_paths", {{"node_link", c.peer_link}, {"udp", c.peer_udp}}},
          {"replication_lag_records", c.replication_lag_records},
          {"replication_lag_ms", c.replication_lag_ms},
          {"last_failover_ms", c.last_failover_ms},
          {"last_failover_reason", c.last_failover_reason}};
}

} // namespace

void add_status_routes(http::server& server, status_context ctx) {
  auto shared = std::make_shared<status_context>(std::move(ctx));

  // Healthy means the actor system is serving: the root supervisor must answer within 1 s.
  server.add_route(http::verb::get, "/healthz", [shared](const http::request&, http::respond_fn respond) {
    // The unused int: CAF 0.17 dereferences a null argument tuple (UBSan) when a lambda actor
    // is spawned without arguments.
    shared->sys.spawn([shared, respond](caf::event_based_actor* self, int) {
      self->request(shared->root, std::chrono::seconds{1}, atom::children_v)
        .then(
          [=](const std::string&) {
            respond(http::json_response(200, {{"status", "ok"}, {"node_id", shared->node_id},
                                              {"role", shared->cluster.get().role}}));
          },
          [=](const caf::error& err) {
            respond(http::json_error(503, "actor system not responding: " + self->system().render(err)));
          });
    }, 0);
  });

  server.add_route(http::verb::get, "/status", [shared](const http::request&, http::respond_fn respond) {
    auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - shared->started);
    auto c = shared->cluster.get();
    boost::json::object counters;
    for (auto& s : shared->metrics.snapshot())
      if (s.type != metrics::kind::histogram)
        counters[sample_key(s)] = s.value;
    boost::json::object body{{"node_id", shared->node_id},
                             {"version", cms::version},
                             {"role", c.role},
                             {"epoch", c.epoch},
                             {"uptime_s", uptime.count()},
                             {"started_ms", shared->started_utc_ms},
                             {"cluster", cluster_json(c)},
                             {"counters", std::move(counters)}};
    respond(http::json_response(200, body));
  });

  server.add_metrics_route("/metrics");
}

} // namespace cms
