#pragma once
// The node's management plane on top of the HTTP server: read-only resources, admin
// actions with an audit trail, the dashboard, recent events and the SNMP bridge. The node calls
// install_management() once, after add_status_routes() and before http.start():
//
//   #include "runtime/node/management.hpp"
//   cms::admission calls_admission;          // the drain switch; hand it to call control too
//   cms::admin_state_registry admin_states;  // links/gateways out of service; for link/trunk actors
//   ...
//   auto mgmt = cms::install_management({management.io, http, sys, root, cluster, metrics, cfg_,
//                                        calls_admission, admin_states});
//   ...                                      // on shutdown, right after http.stop():
//   mgmt->stop();
//
// Routes it adds (docs/http-api.md, docs/openapi.yaml):
//   GET  /cluster /billing /routes /links /trunks /events, GET / (dashboard, runtime/node/dashboard/)
//   POST /admin/switchover /admin/drain /admin/undrain /admin/provision
//   POST /admin/links/{name}/out-of-service|return, /admin/gateways/{name}/out-of-service|return
// Admin routes need `Authorization: Bearer <[http] admin_token>`; every admin request, accepted or
// refused, is appended to <data_dir>/audit.log (runtime/node/audit_log.hpp).
//
// Threads: handlers run on the management io_context and never block. SQLite reads (billing,
// provisioning) and provisioning imports run on one worker thread of the service with its own
// connection to <data_dir>/cms.db. With [snmp] enabled = true the service starts the AgentX
// subagent (unless one is passed in) and the snmp_bridge that feeds it every second.

#include "runtime/node/admin_state.hpp"
#include "runtime/base/admission.hpp"
#include "runtime/node/audit_log.hpp"
#include "runtime/base/cluster_view.hpp"
#include "runtime/base/config.hpp"
#include "runtime/node/event_log.hpp"
#include "runtime/http/server.hpp"
#include "runtime/node/management_trunks.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace cms {

namespace snmp {
class subagent;
}

struct management_context {
  management_context(boost::asio::io_context& io_, http::server& http_, caf::actor_system& sys_,
                     caf::actor root_, const cluster_view& cluster_, metrics::registry& metrics_,
                     const config::node_config& cfg_, admission& calls_admission_,
                     admin_state_registry& admin_states_, snmp::subagent* subagent_ = nullptr,
                     std::filesystem::path dashboard_dir_ = {})
    : io(io_),
      http(http_),
      sys(sys_),
      root(std::move(root_)),
      cluster(cluster_),
      metrics(metrics_),
      cfg(cfg_),
      calls_admission(calls_admission_),
      admin_states(admin_states_),
      subagent(subagent_),
      dashboard_dir(std::move(dashboard_dir_)) {}

  boost::asio::io_context& io; ///< the management io_context (the one the HTTP server runs on)
  http::server& http;
  caf::actor_system& sys;
  caf::actor root; ///< root supervisor: the HA actor is looked up as child "ha"
  const cluster_view& cluster;
  metrics::registry& metrics;
  const config::node_config& cfg;
  admission& calls_admission;
  admin_state_registry& admin_states;
  /// Optional: a subagent the node started itself. Null with [snmp] enabled = true: the service
  /// creates and starts one on cfg.snmp.agentx_socket.
  snmp::subagent* subagent;
  /// Optional: where the dashboard files are. Empty: $CMS_DASHBOARD_DIR, <exe>/../share/cms/dashboard,
  /// /usr/local/share/cms/dashboard, /usr/share/cms/dashboard, then the source tree's runtime/node/dashboard.
  std::filesystem::path dashboard_dir;
  /// Trunk control registers the live GET /trunks and /routes itself; management then leaves
  /// those two paths alone.
  bool live_trunks = false;
  /// Optional: live gateway and facility states (trunk_status_of(trunk control's context)). The
  /// service turns their changes into events (GET /events) and SNMP notifications.
  trunk_status_source trunk_status;
};

class management_service {
public:
  struct impl;
  explicit management_service(std::shared_ptr<impl> i);
  /// Calls stop().
  ~management_service();
  management_service(const management_service&) = delete;
  management_service& operator=(const management_service&) = delete;

  /// Stops timers, the SNMP subagent (if the service started it) and the SQLite worker. Call it
  /// after http.stop() and before the management io thread stops. Idempotent.
  void stop();

  /// The recent-events ring behind GET /events: other parts may record into it.
  event_log& events();
  const std::filesystem::path& audit_file() const;

private:
  std::shared_ptr<impl> impl_;
};

/// Registers the routes and starts the timers. Throws std::invalid_argument when a route is
/// registered twice (programming error).
std::unique_ptr<management_service> install_management(management_context ctx);

/// The dashboard directory found by the search described at management_context::dashboard_dir;
/// empty when none exists.
std::filesystem::path find_dashboard_dir();

} // namespace cms
