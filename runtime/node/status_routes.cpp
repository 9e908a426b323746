#include "runtime/node/status_routes.hpp"

#include "actors/type_ids.hpp"
#include "cms/version.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <cmath>
#include <cstdint>
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

/// The /status body, built at most once per `max_age` and served as it is meanwhile. Building it
/// walks the metrics registry under the lock that call signalling takes for its counters and
/// serialises ~100 of them: a poller hammering /status (wrk at 20,000 requests/s) must cost the
/// node a string copy per request, not registry traffic on the call path.
class status_body_cache {
public:
  explicit status_body_cache(std::chrono::milliseconds max_age) : max_age_(max_age) {}

  template <class Build>
  std::string get(Build&& build) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard g{mutex_};
    if (!valid_ || now - taken_ >= max_age_) {
      body_ = build();
      taken_ = now;
      valid_ = true;
    }
    return body_;
  }

private:
  std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  bool valid_ = false;
  std::string body_;
  std::chrono::steady_clock::time_point taken_;
};

} // namespace

boost::json::object cluster_json(const cluster_snapshot& c) {
  return {{"role", c.role},
          {"epoch", c.epoch},
          {"peer_state", c.peer_state},
          {"heartbeat_paths", {{"node_link", c.peer_link}, {"udp", c.peer_udp}}},
          {"replication_lag_records", c.replication_lag_records},
          {"replication_lag_ms", json_number(c.replication_lag_ms)},
          {"replication_behind", c.replication_behind},
          {"promotion_gap", c.promotion_gap},
          {"promotion_gap_ms", c.promotion_gap_ms},
          {"last_failover_ms", c.last_failover_ms},
          {"last_failover_reason", c.last_failover_reason}};
}

boost::json::value json_number(double v) {
  // Exactly representable integers only: beyond 2^53 a double is no longer a count one can trust
  // to the unit, and NaN or infinity have no integer form.
  constexpr double exact = 9007199254740992.0; // 2^53
  if (std::isfinite(v) && std::trunc(v) == v && std::fabs(v) <= exact)
    return v < 0 ? boost::json::value(static_cast<std::int64_t>(v))
                 : boost::json::value(static_cast<std::uint64_t>(v));
  return boost::json::value(v);
}

void add_status_routes(http::server& server, status_context ctx) {
  auto shared = std::make_shared<status_context>(std::move(ctx));
  auto cache = std::make_shared<status_body_cache>(shared->counters_max_age);

  // Healthy means the actor system is serving: the root supervisor must answer within 1 s.
  server.add_route(
    http::verb::get, "/healthz", [shared](const http::request&, http::respond_fn respond) {
      // The unused int: CAF 0.17 dereferences a null argument tuple (UBSan) when a lambda actor
      // is spawned without arguments.
      shared->sys.spawn(
        [shared, respond](caf::event_based_actor* self, int) {
          self->request(shared->root, std::chrono::seconds{1}, atom::children_v)
            .then(
              [=](const std::string&) {
                respond(http::json_response(200, {{"status", "ok"},
                                                  {"node_id", shared->node_id},
                                                  {"role", shared->cluster.get().role}}));
              },
              [=](const caf::error& err) {
                respond(http::json_error(503, "actor system not responding: " +
                                                self->system().render(err)));
              });
        },
        0);
    });

  server.add_route(
    http::verb::get, "/status", [shared, cache](const http::request&, http::respond_fn respond) {
      respond(http::text_response(200, cache->get([&] {
        // Whole seconds: a fraction adds nothing for an uptime and would print in exponent form.
        auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::steady_clock::now() - shared->started);
        auto c = shared->cluster.get();
        boost::json::object counters;
        for (auto& s : shared->metrics.snapshot())
          if (s.type != metrics::kind::histogram)
            counters[sample_key(s)] = json_number(s.value);
        boost::json::object body{{"node_id", shared->node_id},
                                 {"version", cms::version},
                                 {"role", c.role},
                                 {"epoch", c.epoch},
                                 {"uptime_s", static_cast<std::int64_t>(uptime.count())},
                                 {"started_ms", shared->started_utc_ms},
                                 {"cluster", cluster_json(c)},
                                 {"counters", std::move(counters)}};
        return boost::json::serialize(body);
      }),
                                  "application/json"));
    });

  server.add_metrics_route("/metrics");
}

} // namespace cms
