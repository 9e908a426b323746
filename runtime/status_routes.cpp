#include "runtime/status_routes.hpp"

#include "actors/type_ids.hpp"
#include "cms/version.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <memory>
#include <mutex>

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

/// The counters part of /status, taken from the registry at most once per `max_age`.
class counters_cache {
public:
  explicit counters_cache(std::chrono::milliseconds max_age) : max_age_(max_age) {}

  std::shared_ptr<const boost::json::object> get(metrics::registry& registry) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard g{mutex_};
    if (!value_ || now - taken_ >= max_age_) {
      auto fresh = std::make_shared<boost::json::object>();
      for (auto& s : registry.snapshot())
        if (s.type != metrics::kind::histogram)
          (*fresh)[sample_key(s)] = s.value;
      value_ = std::move(fresh);
      taken_ = now;
    }
    return value_;
  }

private:
  std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  std::shared_ptr<const boost::json::object> value_;
  std::chrono::steady_clock::time_point taken_;
};

} // namespace

void add_status_routes(http::server& server, status_context ctx) {
  auto shared = std::make_shared<status_context>(std::move(ctx));
  auto counters = std::make_shared<counters_cache>(shared->counters_max_age);

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

  server.add_route(http::verb::get, "/status", [shared, counters](const http::request&, http::respond_fn respond) {
    auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - shared->started);
    auto c = shared->cluster.get();
    boost::json::object body{{"node_id", shared->node_id},
                             {"version", cms::version},
                             {"role", c.role},
                             {"epoch", c.epoch},
                             {"uptime_s", uptime.count()},
                             {"started_ms", shared->started_utc_ms},
                             {"cluster", cluster_json(c)},
                             {"counters", *counters->get(shared->metrics)}};
    respond(http::json_response(200, body));
  });

  server.add_metrics_route("/metrics");
}

} // namespace cms
