#include "runtime/node/management.hpp"

#include "runtime/base/wall_clock.hpp"

#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/provisioning.hpp"
#include "persistence/provisioning_import.hpp"
#include "runtime/node/admin_state_store.hpp"
#include "runtime/node/billing_status.hpp"
#include "runtime/node/cluster_events.hpp"
#include "runtime/http/auth.hpp"
#include "runtime/node/inventory_json.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/node/paging.hpp"
#include "runtime/snmp/subagent.hpp"
#include "runtime/node/snmp_bridge.hpp"
#include "runtime/node/status_routes.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

namespace cms {

namespace fs = std::filesystem;

namespace {

using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

/// How the request's credentials compare with the configured token, for the audit log only (the
/// decision itself is http::require_bearer's).
std::string token_check(const http::request& req, const std::string& token) {
  auto header = req.header("Authorization");
  if (!header)
    return "missing";
  std::string_view v = *header;
  if (v.size() < 7)
    return "malformed";
  std::string scheme(v.substr(0, 7));
  for (auto& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ")
    return "malformed";
  v.remove_prefix(7);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  if (v.empty())
    return "malformed";
  if (token.empty())
    return "disabled";
  return http::constant_time_equal(v, token) ? "valid" : "invalid";
}

/// The human part of an answer, for the audit line.
std::string detail_of(const http::response& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object())
    return {};
  auto& o = v.as_object();
  if (auto* e = o.if_contains("error"); e && e->is_object())
    if (auto* m = e->as_object().if_contains("message"); m && m->is_string())
      return std::string(m->as_string());
  if (auto* m = o.if_contains("message"); m && m->is_string())
    return std::string(m->as_string());
  return {};
}

/// Optional JSON body {"reason": "..."}; an empty body is fine. Returns nullopt for a bad body.
std::optional<std::string> reason_of(const http::request& req, const std::string& fallback) {
  auto first = req.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return fallback;
  boost::system::error_code ec;
  auto v = boost::json::parse(req.body, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  if (auto* r = v.as_object().if_contains("reason")) {
    if (!r->is_string())
      return std::nullopt;
    return std::string(r->as_string());
  }
  return fallback;
}

boost::json::object event_json(const node_event& e) {
  return {{"seq", e.seq},           {"time_ms", e.time_ms}, {"kind", e.kind},
          {"severity", e.severity}, {"message", e.message}, {"node", e.node},
          {"role", e.role}};
}

std::map<std::string, std::string> link_states(const std::vector<metrics::sample>& samples) {
  std::map<std::string, std::string> out;
  for (auto& s : samples)
    if (s.name == "cms_data_link_state")
      for (auto& [k, v] : s.labels)
        if (k == "link")
          out[v] = data_link_state_from_metrics(samples, v);
  return out;
}

} // namespace

// -- the service's state ------------------------------------------------------------------------

struct management_service::impl : std::enable_shared_from_this<management_service::impl> {
  boost::asio::io_context& io;
  http::server& http;
  caf::actor_system& sys;
  caf::actor root;
  const cluster_view& cluster;
  metrics::registry& metrics;
  const config::node_config& cfg;
  admission& calls_admission;
  admin_state_registry& admin_states;
  std::string token;
  audit_log audit;
  event_log events{256};
  std::atomic<bool> stopped{false};
  /// Store jobs posted to the worker and not finished: bounded by [http] max_queued_jobs, so a
  /// client cannot pile up work (and memory) behind a slow store.
  std::atomic<std::size_t> queued_jobs{0};

  // SQLite worker: one thread, one connection, every store access of the service.
  boost::asio::io_context worker_io{1};
  std::optional<work_guard> worker_guard{worker_io.get_executor()};
  std::thread worker;
  std::optional<persistence::database> db; ///< used on the worker thread only
  fs::path db_file;

  // What the worker last read, for the SNMP bridge (which must not block the io thread).
  mutable std::mutex cache_mutex;
  std::optional<persistence::provisioning> cached_provisioning;
  std::optional<billing_status> cached_billing;

  // The watcher of cluster/link changes (events) on the management io_context.
  boost::asio::steady_timer watch_timer;
  cluster_snapshot last_cluster;
  std::map<std::string, std::string> last_links;
  trunk_status_source trunk_source;
  trunk_alarm_gate trunk_alarms; ///< gateway and facility alarms: the active's only
  int ticks = 0;

  std::unique_ptr<snmp::subagent> own_subagent;
  snmp::subagent* subagent = nullptr;
  std::unique_ptr<snmp_bridge> bridge;
  bool live_trunks = false;

  explicit impl(management_context& ctx)
    : io(ctx.io),
      http(ctx.http),
      sys(ctx.sys),
      root(ctx.root),
      cluster(ctx.cluster),
      metrics(ctx.metrics),
      cfg(ctx.cfg),
      calls_admission(ctx.calls_admission),
      admin_states(ctx.admin_states),
      token(ctx.cfg.http.admin_token.value_or("")),
      audit(ctx.cfg.node.data_dir / "audit.log", ctx.cfg.node.id,
            audit_limits{ctx.cfg.http.audit_max_bytes, ctx.cfg.http.audit_files,
                         ctx.cfg.http.audit_refused_per_s}),
      db_file(ctx.cfg.node.data_dir / "cms.db"),
      watch_timer(ctx.io),
      trunk_source(ctx.trunk_status),
      subagent(ctx.subagent),
      live_trunks(ctx.live_trunks) {
    events.set_reporter(cfg.node.id, [this] { return cluster.get().role; });
    worker = std::thread([this] {
      pthread_setname_np(pthread_self(), "cms-mgmt-db");
      worker_io.run();
    });
  }

  persistence::database& store() {
    if (!db)
      db.emplace(persistence::database::open(db_file));
    return *db;
  }

  /// Runs `job(db)` on the worker and answers with its response; store trouble becomes a 500
  /// (details in the log, never in the answer).
  void with_store(std::function<http::response(persistence::database&)> job,
                  http::respond_fn respond) {
    if (queued_jobs.fetch_add(1) >= cfg.http.max_queued_jobs) {
      queued_jobs.fetch_sub(1);
      metrics
        .get_counter("cms_mgmt_jobs_refused_total",
                     "Management store jobs refused because the worker's queue was full")
        .inc();
      auto r = http::json_error(503, "the node is busy; try again later");
      r.error_reason = "job_queue_full";
      respond(std::move(r));
      return;
    }
    boost::asio::post(worker_io, [self = shared_from_this(), job = std::move(job), respond] {
      struct done_guard {
        std::atomic<std::size_t>& n;
        ~done_guard() { n.fetch_sub(1); }
      } done{self->queued_jobs};
      try {
        respond(job(self->store()));
      } catch (const std::exception& e) {
        log::get("mgmt")->error("event=store_read_failed error=\"{}\"", e.what());
        self->db.reset(); // reopen next time: the file may have been replaced or repaired
        auto r = http::json_error(500, "the node's store could not be read or written");
        r.error_reason = "store";
        respond(std::move(r));
      }
    });
  }

  persistence::provisioning load_provisioning(persistence::database& d) {
    auto p = persistence::provisioning_store{d}.load_all();
    std::lock_guard g{cache_mutex};
    cached_provisioning = p;
    return p;
  }

  void refresh_cache() {
    boost::asio::post(worker_io, [self = shared_from_this()] {
      try {
        auto& d = self->store();
        // Provisioning changes only through this service (POST /admin/provision reloads it) or
        // with a restart: load it once, not every 5 s (a full read of 100k+ subscriber rows).
        bool loaded;
        {
          std::lock_guard g{self->cache_mutex};
          loaded = self->cached_provisioning.has_value();
        }
        if (!loaded)
          self->load_provisioning(d);
        auto b = read_billing_status(d);
        std::lock_guard g{self->cache_mutex};
        self->cached_billing = b;
      } catch (const std::exception& e) {
        log::get("mgmt")->warn("event=cache_refresh_failed error=\"{}\"", e.what());
        self->db.reset();
      }
    });
  }

  /// Asks the HA actor (child "ha" of the root supervisor) and calls on_reply or on_error from an
  /// actor thread. Never blocks the caller.
  template <class Reply, class Msg>
  void ask_ha(Msg msg, std::function<void(Reply)> on_reply,
              std::function<void(std::string)> on_error) {
    auto r = root;
    // The unused int: CAF 0.17 dereferences a null argument tuple (UBSan) when a lambda actor
    // is spawned without arguments.
    sys.spawn(
      [r, msg, on_reply, on_error](caf::event_based_actor* self, int) {
        self->request(r, std::chrono::seconds{1}, atom::lookup_v, std::string{"ha"})
          .then(
            [=](const caf::actor& ha) {
              self->request(ha, std::chrono::seconds{2}, msg)
                .then([=](Reply reply) { on_reply(std::move(reply)); },
                      [=](const caf::error& err) { on_error(self->system().render(err)); });
            },
            [=](const caf::error& err) { on_error(self->system().render(err)); });
      },
      0);
  }

  /// An admin route: bearer-protected, audited whatever the outcome.
  http::handler admin(std::string action, http::handler inner) {
    auto guarded = http::require_bearer(token, std::move(inner));
    return [self = shared_from_this(), action = std::move(action),
            guarded](const http::request& req, http::respond_fn respond) {
      audit_entry base;
      base.action = action;
      base.target = req.param("name");
      base.remote = req.remote_address + ":" + std::to_string(req.remote_port);
      base.token = token_check(req, self->token);
      guarded(req, [self, base, respond](http::response r) {
        auto e = base;
        e.status = r.status;
        e.detail = detail_of(r);
        self->audit.append(e);
        // The target is the caller's text: only a caller with the token gets (a bounded part of)
        // it into the log.
        log::get("audit")->info(
          "event=admin_action action={} target=\"{}\" remote={} token={} status={}", e.action,
          e.token == "valid" ? e.target.substr(0, audit_log::max_target_bytes) : std::string{},
          e.remote, e.token, e.status);
        respond(std::move(r));
      });
    };
  }

  void watch() {
    if (stopped)
      return;
    auto now = cluster.get();
    for (auto& e : cluster_changes(last_cluster, now))
      events.record(e.kind, e.severity, e.message);
    last_cluster = now;
    auto links = link_states(metrics.snapshot());
    // Both nodes probe the links; the active's view is the alarm, a standby's is information.
    for (auto& e : link_changes(last_links, links))
      events.record(e.kind, now.role == "active" ? e.severity : "info", e.message);
    last_links = std::move(links);
    if (trunk_source) {
      for (auto& alarm : trunk_alarms.update(now.role == "active", trunk_source(),
                                             std::chrono::steady_clock::now())) {
        auto e = to_event(alarm);
        log::get("mgmt")->warn("event=trunk_alarm kind={} subject={} reason=\"{}\"", e.kind,
                               alarm.subject, alarm.reason);
        events.record(e.kind, e.severity, e.message);
      }
    }
    if (ticks++ % 10 == 0) // every 5 s: provisioning and billing for the SNMP view
      refresh_cache();
    watch_timer.expires_after(std::chrono::milliseconds{500});
    watch_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec)
        self->watch();
    });
  }

  snmp_inputs snmp_view_inputs() {
    snmp_inputs in;
    in.node_id = cfg.node.id;
    in.cluster = cluster.get();
    in.samples = metrics.snapshot();
    {
      std::lock_guard g{cache_mutex};
      in.provisioning = cached_provisioning;
      in.billing = cached_billing;
    }
    in.links_out_of_service = admin_states.out_of_service(admin_object::data_link);
    in.gateways_out_of_service = admin_states.out_of_service(admin_object::gateway);
    if (trunk_source)
      in.trunks = trunk_source();
    return in;
  }

  void start_snmp() {
    if (!cfg.snmp.enabled)
      return;
    if (!subagent) {
      // The subagent forwards net-snmp's messages to spdlog's default logger, which
      // log::init() drops (spdlog::drop_all): give it the node's "snmp" logger, so library
      // messages keep the node's one-line key=value format instead of crashing on a null logger.
      if (!spdlog::default_logger_raw())
        spdlog::set_default_logger(log::get("snmp"));
      snmp::subagent_config sc;
      if (!cfg.snmp.agentx_socket.empty())
        sc.agentx_socket = cfg.snmp.agentx_socket;
      sc.name = "cmsd-" + cfg.node.id;
      own_subagent = std::make_unique<snmp::subagent>(sc);
      try {
        own_subagent->start();
      } catch (const std::exception& e) {
        log::get("snmp")->error("event=snmp_subagent_failed agentx={} error=\"{}\"",
                                sc.agentx_socket, e.what());
        own_subagent.reset();
        return;
      }
      subagent = own_subagent.get();
      log::get("snmp")->info("event=snmp_subagent_started agentx={}", sc.agentx_socket);
    }
    bridge = std::make_unique<snmp_bridge>(io, *subagent, [w = weak_from_this()] {
      auto self = w.lock();
      return self ? self->snmp_view_inputs() : snmp_inputs{};
    });
    bridge->start();
  }

  void stop() {
    if (stopped.exchange(true))
      return;
    if (bridge)
      bridge->stop();
    boost::asio::post(io, [self = shared_from_this()] { self->watch_timer.cancel(); });
    // Barrier: once the io thread ran this, no bridge tick can touch the subagent any more. If
    // the io thread has already stopped nothing runs there either.
    auto barrier = std::make_shared<std::promise<void>>();
    auto done = barrier->get_future();
    boost::asio::post(io, [barrier] { barrier->set_value(); });
    done.wait_for(std::chrono::seconds{1});
    if (own_subagent)
      own_subagent->stop();
    worker_guard.reset();
    worker_io.stop();
    if (worker.joinable() && worker.get_id() != std::this_thread::get_id())
      worker.join();
    db.reset();
  }

  ~impl() {
    worker_guard.reset();
    worker_io.stop();
    if (worker.joinable()) {
      // The last reference may be dropped by a job on the worker itself.
      if (worker.get_id() == std::this_thread::get_id())
        worker.detach();
      else
        worker.join();
    }
  }
};

// -- routes -------------------------------------------------------------------------------------

namespace {

using impl_ptr = std::shared_ptr<management_service::impl>;

void add_read_routes(const impl_ptr& m) {
  m->http.add_route(
    http::verb::get, "/cluster", [m](const http::request&, http::respond_fn respond) {
      auto body = cluster_json(m->cluster.get());
      body["node_id"] = m->cfg.node.id;
      body["draining"] = m->calls_admission.draining();
      auto shared = std::make_shared<boost::json::object>(std::move(body));
      m->ask_ha<std::string>(
        caf::make_message(atom::status_v),
        [shared, respond](std::string json) {
          boost::system::error_code ec;
          auto ha = boost::json::parse(json, ec);
          auto& b = *shared;
          if (!ec && ha.is_object()) {
            auto& o = ha.as_object();
            b["peer"] = o.contains("peer") ? o.at("peer") : boost::json::value(nullptr);
            b["claiming"] = o.contains("claiming") ? o.at("claiming") : boost::json::value(false);
            b["witnesses"] = o.contains("witnesses") ? o.at("witnesses") : boost::json::value(0);
            b["ha"] = std::move(o);
          } else {
            b["peer"] = nullptr;
            b["ha"] = nullptr;
            b["ha_error"] = "unreadable HA status";
          }
          respond(http::json_response(200, b));
        },
        [shared, respond](std::string err) {
          auto& b = *shared;
          b["peer"] = nullptr;
          b["ha"] = nullptr;
          b["ha_error"] = "HA actor not answering: " + err;
          respond(http::json_response(200, b));
        });
    });

  m->http.add_route(http::verb::get, "/billing",
                    [m](const http::request&, http::respond_fn respond) {
                      m->with_store(
                        [m](persistence::database& d) {
                          auto b = read_billing_status(d);
                          {
                            std::lock_guard g{m->cache_mutex};
                            m->cached_billing = b;
                          }
                          auto body = to_json(b);
                          body["node_id"] = m->cfg.node.id;
                          return http::json_response(200, body);
                        },
                        respond);
                    });

  auto collection =
    [m](const char* path,
        std::function<boost::json::object(const persistence::provisioning&, const page_request&,
                                          const http::param_map&)>
          build) {
      m->http.add_route(
        http::verb::get, path, [m, build](const http::request& req, http::respond_fn respond) {
          http::response error;
          auto page = parse_paging(req, error);
          if (!page) {
            respond(std::move(error));
            return;
          }
          auto query = req.query;
          m->with_store(
            [m, build, page = *page, query](persistence::database& d) {
              return http::json_response(200, build(m->load_provisioning(d), page, query));
            },
            respond);
        });
    };
  // With trunk control running, /routes and /trunks come from the live trunk actors instead.
  if (!m->live_trunks)
    collection("/routes",
               [](const persistence::provisioning& p, const page_request& page,
                  const http::param_map& q) { return make_page(routes_json(p), page, q); });
  collection("/links", [m](const persistence::provisioning& p, const page_request& page,
                           const http::param_map& q) {
    return make_page(links_json(p, m->metrics.snapshot(), m->admin_states), page, q);
  });
  // A trunk is a facility (a PRI or SS7 span on a gateway); the gateways and trunk groups
  // (small tables) come along unpaged.
  if (!m->live_trunks)
    collection("/trunks", [m](const persistence::provisioning& p, const page_request& page,
                              const http::param_map& q) {
      auto body = make_page(facilities_json(p, m->admin_states), page, q);
      body["gateways"] = gateways_json(p, m->admin_states);
      body["trunk_groups"] = trunk_groups_json(p);
      return body;
    });

  m->http.add_route(
    http::verb::get, "/events", [m](const http::request& req, http::respond_fn respond) {
      std::uint64_t after = 0;
      std::size_t limit = default_page_limit;
      try {
        auto a = req.query_param("after", "0");
        auto l = req.query_param("limit", std::to_string(default_page_limit));
        std::size_t used = 0;
        after = std::stoull(a, &used);
        if (used != a.size() || a.front() == '-')
          throw std::invalid_argument("after");
        limit = std::stoul(l, &used);
        if (used != l.size() || l.front() == '-' || limit > max_page_limit)
          throw std::invalid_argument("limit");
      } catch (const std::exception&) {
        respond(http::json_error(400, "after must be a non-negative integer and limit at most " +
                                        std::to_string(max_page_limit)));
        return;
      }
      boost::json::array items;
      for (auto& e : m->events.since(after, limit))
        items.push_back(event_json(e));
      respond(http::json_response(
        200, boost::json::object{{"items", std::move(items)}, {"last_seq", m->events.last_seq()}}));
    });
}

void add_admin_routes(const impl_ptr& m) {
  m->http.add_route(
    http::verb::post, "/admin/switchover",
    m->admin("switchover", [m](const http::request&, http::respond_fn respond) {
      m->ask_ha<bool>(
        caf::make_message(atom::switchover_v),
        [m, respond](bool accepted) {
          if (!accepted) {
            respond(http::json_error(
              409, "switchover refused: this node is not active or has no live peer"));
            return;
          }
          m->events.record("admin", "warning", "switchover requested by the operator");
          respond(http::json_response(
            200, boost::json::object{
                   {"accepted", true},
                   {"message", "switchover started: the active role is handed to the peer"}}));
        },
        [respond](std::string err) {
          respond(http::json_error(503, "HA actor not answering: " + err));
        });
    }));

  auto drain_route = [m](bool drain) {
    return [m, drain](const http::request& req, http::respond_fn respond) {
      auto reason = reason_of(req, drain ? "operator drain" : "operator undrain");
      if (!reason) {
        respond(http::json_error(400, "body must be empty or a JSON object {\"reason\": \"...\"}"));
        return;
      }
      // On the store's worker, which also serialises every drain change: written to disk first,
      // so a failed write changes nothing and a restarted node keeps draining.
      m->with_store(
        [m, drain, reason = *reason](persistence::database& d) {
          bool changed = m->calls_admission.draining() != drain;
          if (changed) {
            admission::state next{drain, utc_ms(), reason};
            admin_state_store{d}.save_drain(next);
            m->calls_admission.restore(next);
            m->events.record("admin", "warning",
                             drain ? "draining: new calls refused (" + reason + ")"
                                   : "undrained: new calls accepted (" + reason + ")");
          }
          std::string msg =
            drain ? (changed ? "draining: new calls are refused, calls in progress continue"
                             : "already draining")
                  : (changed ? "accepting new calls again" : "was not draining");
          return http::json_response(
            200, boost::json::object{{"draining", m->calls_admission.draining()},
                                     {"changed", changed},
                                     {"message", msg}});
        },
        respond);
    };
  };
  m->http.add_route(http::verb::post, "/admin/drain", m->admin("drain", drain_route(true)));
  m->http.add_route(http::verb::post, "/admin/undrain", m->admin("undrain", drain_route(false)));

  auto service_route = [m](admin_object kind, bool out) {
    return [m, kind, out](const http::request& req, http::respond_fn respond) {
      auto reason = reason_of(req, out ? "operator" : "operator");
      if (!reason) {
        respond(http::json_error(400, "body must be empty or a JSON object {\"reason\": \"...\"}"));
        return;
      }
      auto name = req.param("name");
      m->with_store(
        [m, kind, out, name, reason = *reason](persistence::database& d) {
          auto p = m->load_provisioning(d);
          bool known = false;
          if (kind == admin_object::data_link) {
            for (auto& l : p.data_links)
              known = known || l.name == name;
          } else {
            for (auto& g : p.gateways)
              known = known || g.name == name;
          }
          const char* what = kind == admin_object::data_link ? "data link" : "gateway";
          if (!known)
            return http::json_error(404, std::string("no provisioned ") + what + " named " + name);
          bool changed = m->admin_states.set_out_of_service(kind, name, out, reason);
          if (changed) {
            // Kept on disk so a restarted node keeps it; a failed write undoes the change.
            try {
              admin_state_store{d}.save(kind, m->admin_states.get(kind, name));
            } catch (...) {
              m->admin_states.set_out_of_service(kind, name, !out, "undone: store write failed");
              throw;
            }
          }
          if (changed)
            m->events.record("admin", "warning",
                             std::string(what) + " " + name +
                               (out ? " taken out of service" : " returned to service") + " (" +
                               reason + ")");
          auto state = out ? "out_of_service" : "in_service";
          return http::json_response(
            200, boost::json::object{{"name", name},
                                     {"admin_state", state},
                                     {"changed", changed},
                                     {"message", std::string(what) + " " + name +
                                                   (changed ? " is now " : " already ") + state}});
        },
        respond);
    };
  };
  m->http.add_route(http::verb::post, "/admin/links/{name}/out-of-service",
                    m->admin("link_out_of_service", service_route(admin_object::data_link, true)));
  m->http.add_route(http::verb::post, "/admin/links/{name}/return",
                    m->admin("link_return", service_route(admin_object::data_link, false)));
  m->http.add_route(http::verb::post, "/admin/gateways/{name}/out-of-service",
                    m->admin("gateway_out_of_service", service_route(admin_object::gateway, true)));
  m->http.add_route(http::verb::post, "/admin/gateways/{name}/return",
                    m->admin("gateway_return", service_route(admin_object::gateway, false)));

  m->http.add_route(
    http::verb::post, "/admin/provision",
    m->admin("provision", [m](const http::request& req, http::respond_fn respond) {
      if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
        respond(http::json_error(400, "send the provisioning file (TOML) as the request body"));
        return;
      }
      auto body = req.body;
      m->with_store(
        [m, body](persistence::database& d) {
          // The importer reads a file: stage the body beside the store, import, remove it.
          auto staged =
            m->cfg.node.data_dir / ("provision-upload-" + std::to_string(::getpid()) + ".toml");
          {
            std::ofstream out{staged, std::ios::trunc};
            out << body;
            if (!out)
              throw std::runtime_error("cannot stage the upload at " + staged.string());
          }
          struct cleanup {
            fs::path p;
            ~cleanup() {
              std::error_code ec;
              fs::remove(p, ec);
            }
          } remove_staged{staged};
          try {
            auto report = persistence::import_provisioning(d, staged);
            m->load_provisioning(d);
            auto totals = report.totals();
            std::ostringstream line;
            line << report;
            if (report.changed())
              m->events.record("admin", "info", "provisioning imported: " + line.str());
            return http::json_response(
              200, boost::json::object{{"changed", report.changed()},
                                       {"inserted", totals.inserted},
                                       {"updated", totals.updated},
                                       {"deleted", totals.deleted},
                                       {"unchanged", totals.unchanged},
                                       {"message", "provisioning imported: " + line.str()}});
          } catch (const persistence::provisioning_error& e) {
            std::string msg = e.what();
            auto pos = msg.find(staged.string());
            if (pos != std::string::npos)
              msg.replace(pos, staged.string().size(), "request body");
            return http::json_error(400, "provisioning refused, nothing changed: " + msg);
          }
        },
        respond);
    }));
}

} // namespace

// -- the service ---------------------------------------------------------------------------------

management_service::management_service(std::shared_ptr<impl> i) : impl_(std::move(i)) {}
management_service::~management_service() { stop(); }
void management_service::stop() { impl_->stop(); }
event_log& management_service::events() { return impl_->events; }
const fs::path& management_service::audit_file() const { return impl_->audit.file(); }

fs::path find_dashboard_dir() {
  std::vector<fs::path> candidates;
  if (auto* env = std::getenv("CMS_DASHBOARD_DIR"); env && *env)
    candidates.emplace_back(env);
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    candidates.push_back(exe.parent_path().parent_path() / "share" / "cms" / "dashboard");
  candidates.emplace_back("/usr/local/share/cms/dashboard");
  candidates.emplace_back("/usr/share/cms/dashboard");
  // A build run from the source tree. Not __FILE__: a compiler cache with a base directory makes
  // it relative to the build directory, which is not where cmsd runs.
  candidates.emplace_back(CMS_DASHBOARD_SOURCE_DIR);
  for (auto& c : candidates)
    if (fs::is_regular_file(c / "index.html", ec))
      return c;
  return {};
}

namespace {

/// Drain and out-of-service states saved before a restart, put back before the node takes calls
/// (the node starts its MGCP agent after install_management). Read on the store's worker.
void restore_saved_admin_states(const impl_ptr& m) {
  std::promise<std::vector<std::string>> loaded;
  auto lines = loaded.get_future();
  boost::asio::post(m->worker_io, [m, &loaded] {
    try {
      auto saved = admin_state_store{m->store()}.load();
      loaded.set_value(restore_admin_states(saved, m->calls_admission, m->admin_states));
    } catch (...) {
      loaded.set_exception(std::current_exception());
    }
  });
  try {
    for (auto& line : lines.get()) {
      log::get("mgmt")->warn("event=admin_state_restored state=\"{}\"", line);
      m->events.record("admin", "warning", line);
    }
  } catch (const std::exception& e) {
    // The node still runs, with everything in service: say so loudly.
    log::get("mgmt")->error("event=admin_state_restore_failed error=\"{}\"", e.what());
    m->events.record("admin", "critical",
                     std::string("saved drain/out-of-service states could not be read: ") +
                       e.what());
  }
}

} // namespace

std::unique_ptr<management_service> install_management(management_context ctx) {
  auto m = std::make_shared<management_service::impl>(ctx);
  add_read_routes(m);
  add_admin_routes(m);
  auto dir = ctx.dashboard_dir.empty() ? find_dashboard_dir() : ctx.dashboard_dir;
  if (!dir.empty()) {
    ctx.http.add_static_dir("/", dir.string());
    log::get("mgmt")->info("event=dashboard dir={}", dir.string());
  } else {
    log::get("mgmt")->warn(
      "event=dashboard_missing hint=\"set CMS_DASHBOARD_DIR or install runtime/node/dashboard "
      "to /usr/local/share/cms/dashboard\"");
  }
  restore_saved_admin_states(m);
  m->last_cluster = m->cluster.get();
  m->events.record("node", "info",
                   "node " + ctx.cfg.node.id + " started (role " + m->last_cluster.role + ")");
  boost::asio::post(m->io, [m] { m->watch(); });
  m->start_snmp();
  return std::make_unique<management_service>(m);
}

} // namespace cms
