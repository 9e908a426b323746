#include "runtime/node/node.hpp"

#include "actors/supervision/supervisor.hpp"
#include "actors/type_ids.hpp"
#include "cms/version.hpp"
#include "persistence/database.hpp"
#include "actors/billing/billing_forwarder.hpp"
#include "actors/calls/call_control.hpp"
#include "actors/links/data_link.hpp"
#include "actors/trunks/trunk_control.hpp"
#include "runtime/transport/link_prober.hpp"
#include "runtime/transport/rks_client.hpp"
#include "actors/ha/ha_actor.hpp"
#include "actors/ha/replicator.hpp"
#include "persistence/outbox.hpp"
#include "persistence/provisioning.hpp"
#include "persistence/ha_store.hpp"
#include "runtime/base/actor_ask.hpp"
#include "runtime/base/actor_slot.hpp"
#include "runtime/node/caf_setup.hpp"
#include "runtime/node/call_routes.hpp"
#include "runtime/node/trunk_routes.hpp"
#include "runtime/transport/ha_udp.hpp"
#include "runtime/base/cluster_view.hpp"
#include "runtime/http/server.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/node/management.hpp"
#include "runtime/base/metrics.hpp"
#include "runtime/mgcp/agent.hpp"
#include "runtime/node/status_routes.hpp"
#include "runtime/base/thread_priority.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <caf/all.hpp>
#include <caf/openssl/manager.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <thread>

namespace cms {

namespace {

using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

/// An io_context with its own thread; `nice` > 0 lowers that thread's OS scheduling priority
/// (relative to the process: runtime/base/thread_priority.hpp).
struct io_thread {
  boost::asio::io_context io{1};
  work_guard guard{io.get_executor()};
  std::thread thread;

  void start(const char* name, int nice) {
    thread = std::thread([this, name, nice] {
      if (auto error = lower_this_thread(name, nice); !error.empty())
        log::get("node")->warn("event=thread_priority_failed thread={} error=\"{}\"", name, error);
      io.run();
    });
  }
  void stop() {
    guard.reset();
    io.stop();
    if (thread.joinable())
      thread.join();
  }
};

std::int64_t utc_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Last resort: CAF's system destructor waits for every actor; a stuck one must not hang the stop.
class shutdown_watchdog {
public:
  explicit shutdown_watchdog(std::chrono::milliseconds budget) {
    thread_ = std::thread([this, budget] {
      std::unique_lock lock{mutex_};
      if (!cv_.wait_for(lock, budget, [this] { return done_; })) {
        log::get("node")->critical("event=shutdown_timeout budget_ms={}", budget.count());
        spdlog::shutdown();
        ::_exit(3);
      }
    });
  }
  ~shutdown_watchdog() {
    {
      std::lock_guard lock{mutex_};
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// Publishes the HA actor for the peer over mutual TLS. Without certificates CAF would silently
/// use anonymous TLS, so the node refuses to open the node link at all then.
void open_node_link(caf::actor_system& sys, const caf::actor& root,
                    const config::node_config& cfg) {
  auto logger = log::get("node");
  if (!cfg.tls.configured()) {
    logger->error("event=node_link_disabled reason=\"no [tls] certificate/key/ca configured\"");
    return;
  }
  auto found =
    ask_and_wait<caf::actor>(sys, root, std::chrono::seconds{5}, atom::lookup_v, std::string{"ha"});
  if (!found)
    throw std::runtime_error("no HA actor: " + sys.render(found.error()));
  caf::actor ha = *found;
  // What caf::openssl::publish() asks the TLS middleman, asked the same way as the lookup above:
  // publish() waits with a scoped_actor, a hand-off ThreadSanitizer cannot see (its intermittent
  // report in scripts/tsan.sh is gone since, docs/performance.md "Sanitizers").
  auto middleman = caf::actor_cast<caf::actor>(sys.openssl_manager().actor_handle());
  auto port = ask_and_wait<std::uint16_t>(
    sys, middleman, std::chrono::seconds{10}, caf::publish_atom::value,
    static_cast<std::uint16_t>(cfg.peer.listen_port), caf::actor_cast<caf::strong_actor_ptr>(ha),
    sys.message_types(ha), cfg.peer.listen_address, true);
  if (!port)
    throw std::runtime_error("cannot publish the node link on " + cfg.peer.listen_address + ":" +
                             std::to_string(cfg.peer.listen_port) + ": " +
                             sys.render(port.error()));
  logger->info("event=node_link_listening address={}:{}", cfg.peer.listen_address, *port);
}

/// A node that stops while it is active and no peer is up takes its calls with nobody to resume
/// them: end them first, while the MGCP edge and the billing outbox still run, so that both legs'
/// connections are deleted and every signaling_stop record is durable. With a peer up, the peer
/// takes the calls over from the replicated image instead, and they are left alone.
void end_calls_at_stop(caf::actor_system& sys, const caf::actor& manager,
                       const cluster_snapshot& cluster) {
  auto logger = log::get("node");
  if (cluster.role != "active" || cluster.peer_state == "up")
    return;
  auto ended = ask_and_wait<std::size_t>(sys, manager, std::chrono::seconds{3},
                                         actors::end_all_calls{actors::cause::temporary_failure});
  if (ended)
    logger->info("event=calls_ended_at_stop calls={}", *ended);
  else
    logger->error("event=calls_not_ended_at_stop error=\"{}\"", sys.render(ended.error()));
}

} // namespace

node::node(config::node_config cfg) : cfg_(std::move(cfg)) {}

int node::run() {
  auto logger = log::get("node");
  auto started = std::chrono::steady_clock::now();
  auto started_utc = utc_ms_now();

  std::error_code ec;
  std::filesystem::create_directories(cfg_.node.data_dir, ec);
  auto db_file = cfg_.node.data_dir / "cms.db";
  std::optional<persistence::database> db;
  try {
    db.emplace(persistence::database::open(db_file));
  } catch (const std::exception& e) {
    logger->critical("event=store_unusable file={} error=\"{}\"", db_file.string(), e.what());
    return 1;
  }
  logger->info("event=store_open file={} schema={}", db_file.string(), db->schema_version());

  metrics::registry metrics;
  metrics.get_gauge("cms_node_start_time_seconds", "Node start time (UTC seconds)")
    .set(started_utc / 1000);
  cluster_view cluster;
  admission calls_admission;         // the drain switch (POST /admin/drain)
  admin_state_registry admin_states; // links/gateways taken out of service by the operator

  // Declared before the actor system so that it outlives the system's (blocking) destructor.
  std::unique_ptr<shutdown_watchdog> watchdog;
  node_caf_config caf_cfg{cfg_};
  caf::actor_system sys{caf_cfg};

  io_thread signalling; // MGCP/UDP: normal priority
  io_thread management; // HTTP, billing transport, SNMP glue: lower priority
  signalling.start("cms-mgcp", 0);
  management.start("cms-mgmt", 5);

  mgcp::agent_config mgcp_cfg;
  mgcp_cfg.bind_address = cfg_.mgcp.bind;
  mgcp_cfg.port = cfg_.mgcp.port;
  mgcp_cfg.dscp = cfg_.mgcp.dscp;
  mgcp_cfg.receive_buffer_bytes = cfg_.mgcp.receive_buffer_bytes;
  mgcp::agent agent{signalling.io, mgcp_cfg, metrics};

  http::server_config http_cfg;
  http_cfg.bind = cfg_.http.bind;
  http_cfg.port = cfg_.http.port;
  http_cfg.max_request_bytes = cfg_.http.max_request_bytes;
  http_cfg.pacing.requests_per_s = static_cast<double>(cfg_.http.max_requests_per_s);
  http_cfg.pacing.burst = static_cast<std::size_t>(cfg_.http.request_burst);
  http_cfg.pacing.max_delay = cfg_.http.max_pace_delay;
  if (cfg_.http.tls) { // HTTPS with the node's certificate (config checks [tls] is set)
    http_cfg.tls_certificate = cfg_.tls.certificate.string();
    http_cfg.tls_key = cfg_.tls.key.string();
  }
  http::server http{management.io, http_cfg, metrics};

  // -- the pair ---------------------------------------------------------------------------------
  // The HA actor writes the epoch through its own connection (a connection is used by one owner).
  // The epoch must be durable before the node acts on it, so its writer waits out the node's own
  // long transactions (a standby applying a snapshot under load) instead of failing after 2 s.
  persistence::open_options ha_db_options;
  ha_db_options.busy_timeout = std::chrono::seconds(15);
  auto ha_db =
    std::make_shared<persistence::database>(persistence::database::open(db_file, ha_db_options));
  auto persisted_epoch = persistence::ha_store{*ha_db}.epoch();
  ha::udp_heartbeat udp_path{
    signalling.io,
    cfg_.node.cluster_id,
    {boost::asio::ip::make_address(cfg_.peer.listen_address), cfg_.peer.udp_heartbeat_port},
    {boost::asio::ip::make_address(cfg_.peer.address), cfg_.peer.peer_udp_heartbeat_port},
    cfg_.peer.heartbeat_interval,
    cfg_.mgcp.dscp,
    metrics};
  std::vector<ha::udp_endpoint> witness_endpoints;
  for (auto& w : cfg_.peer.witnesses)
    witness_endpoints.push_back(ha::parse_udp_endpoint(w));
  ha::witness_client witnesses{signalling.io, cfg_.node.cluster_id, witness_endpoints,
                               cfg_.peer.heartbeat_interval, metrics};

  auto env = std::make_shared<ha::ha_environment>();
  env->settings.node_id = cfg_.node.id;
  env->settings.priority = cfg_.node.priority;
  env->settings.heartbeat_interval = cfg_.peer.heartbeat_interval;
  env->settings.heartbeat_misses = cfg_.peer.heartbeat_misses;
  env->settings.discovery_window = cfg_.peer.heartbeat_interval * (cfg_.peer.heartbeat_misses + 2);
  env->settings.witnesses = static_cast<int>(witness_endpoints.size());
  env->settings.lease = cfg_.peer.lease;
  env->peer_host = cfg_.peer.address;
  env->peer_port = cfg_.peer.port;
  // One connection per node pair: the side with the smaller address dials.
  env->dial = std::make_pair(cfg_.peer.listen_address, cfg_.peer.listen_port) <
              std::make_pair(cfg_.peer.address, cfg_.peer.port);
  env->persisted_epoch = persisted_epoch;
  env->persist_epoch = [ha_db](std::uint64_t e) { persistence::ha_store{*ha_db}.set_epoch(e); };
  if (!witness_endpoints.empty())
    env->ask_witnesses = [&witnesses, id = cfg_.node.id, lease = cfg_.peer.lease](
                           int kind, std::uint64_t epoch,
                           std::function<void(int, std::uint64_t, std::uint64_t)> done) {
      witnesses.ask(
        static_cast<ha::witness_client::request_kind>(kind), id, epoch, lease,
        [done](ha::witness_tally t) { done(t.granted, t.highest_epoch, t.highest_refused); });
    };
  env->udp_self = [&udp_path](const ha::peer_info& p) { udp_path.set_self(p); };
  env->view = &cluster;
  env->metrics = &metrics;

  auto ha_slot = std::make_shared<actor_slot>();
  // Actors that follow the role (they act only while active). Each keeps its current handle in a
  // slot, so a restarted HA actor re-subscribes them and a restarted subscriber subscribes itself.
  auto role_followers = std::make_shared<std::vector<std::shared_ptr<actor_slot>>>();
  udp_path.on_receive([ha_slot](const ha::peer_info& p) {
    if (auto ha = ha_slot->get())
      caf::anon_send<caf::message_priority::high>(ha, atom::udp_hb_v, p);
  });

  std::vector<actors::child_spec> children;
  children.push_back({"ha",
                      [env, ha_db, ha_slot, role_followers](caf::event_based_actor* self) {
                        // A restarted HA actor starts from the epoch persisted meanwhile.
                        auto e = std::make_shared<ha::ha_environment>(*env);
                        e->persisted_epoch = persistence::ha_store{*ha_db}.epoch();
                        // Detached (own thread): a worker blocked in SQLite or busy with calls
                        // must not delay lease renewals (spurious step-downs, docs/ha.md).
                        auto ha = self->spawn<caf::detached>(ha::ha_actor, e);
                        ha_slot->set(ha);
                        for (auto& follower : *role_followers)
                          if (auto f = follower->get())
                            self->send(ha, atom::subscribe_v, f);
                        return ha;
                      },
                      actors::restart_policy::permanent});

  // -- call processing ---------------------------------------------------------------------------
  actors::call_control_options call_opts;
  call_opts.settings = actors::settings_from_config(cfg_);
  call_opts.lines = persistence::provisioning_store{*db}.subscribers();
  call_opts.billing = [db_file] { return actors::make_sqlite_billing_writer(db_file); };
  auto provisioned = persistence::provisioning_store{*db}.load_all();
  auto offnet = trunks::make_offnet_router(provisioned);
  call_opts.offnet = offnet;
  call_opts.start_fenced =
    true; // silent on MGCP until the HA actor says active (replicator opens it)
  auto calls =
    actors::make_call_control(agent, std::move(call_opts), metrics); // before agent.start()
  children.insert(children.end(), calls.children.begin(), calls.children.end());
  calls.context->admission.attach_drain(&calls_admission); // POST /admin/drain refuses new calls
  // Only the active node starts new calls (docs/ha.md): closed until the HA actor says active.
  calls.context->admission.follow_ha_role();
  {
    auto slot = std::make_shared<actor_slot>();
    role_followers->push_back(slot);
    children.push_back({"admission-role",
                        [ctx = calls.context, slot, ha_slot](caf::event_based_actor* self) {
                          auto f =
                            self->spawn(actors::call_admission_role_follower, &ctx->admission);
                          slot->set(f);
                          if (auto ha = ha_slot->get())
                            self->send(ha, atom::subscribe_v, f);
                          return f;
                        },
                        actors::restart_policy::permanent});
  }

  // -- replication and takeover (actors/ha/replicator.hpp) -------------------
  // The image outlives restarts of the replicator; the HA heartbeats carry its position.
  auto repl_image = std::make_shared<ha::replication_image>();
  env->applied_seq = [repl_image] { return repl_image->applied.load(); };
  auto repl_env = std::make_shared<ha::replicator_environment>();
  repl_env->db_file = db_file;
  repl_env->calls = calls.context;
  repl_env->ha = [ha_slot] { return ha_slot->get(); };
  repl_env->image = repl_image;
  repl_env->view = &cluster;
  repl_env->metrics = &metrics;
  repl_env->flush_delay =
    std::chrono::milliseconds{5}; // batch the changes of 5 ms (performance.md)
  auto repl_slot =
    std::make_shared<actor_slot>(); // where the billing forwarder ships its RKS position
  children.push_back({"replicator",
                      [repl_env, repl_slot](caf::event_based_actor* self) {
                        auto r = self->spawn(ha::replicator, repl_env);
                        repl_slot->set(r);
                        return r;
                      },
                      actors::restart_policy::permanent});

  // -- management data links and the billing forwarder ---------------------------------------
  std::vector<std::shared_ptr<links::link_board>> link_boards;
  std::vector<std::shared_ptr<links::udp_link_prober>> link_probers;
  billing::forwarder_settings fwd;
  fwd.db_file = db_file;
  if (cfg_.billing.rks_primary)
    fwd.rks_primary =
      billing::rks_endpoint{cfg_.billing.rks_primary->host, cfg_.billing.rks_primary->port};
  if (cfg_.billing.rks_backup)
    fwd.rks_backup =
      billing::rks_endpoint{cfg_.billing.rks_backup->host, cfg_.billing.rks_backup->port};
  fwd.batch_size = static_cast<std::size_t>(cfg_.billing.batch_size);
  fwd.max_records_per_s = static_cast<std::uint32_t>(cfg_.billing.drain_max_records_per_s);
  // The standby learns what the RKS acknowledged, so after a failover it resumes from there.
  fwd.on_position = billing::position_to_replicator([repl_slot] { return repl_slot->get(); });
  fwd.thread_nice = 10; // a backlog drains on the CPU that call signalling leaves (docs/billing.md)
  std::map<std::string, std::shared_ptr<actor_slot>> link_actors; // by link kind
  for (auto& dl : persistence::provisioning_store{*db}.data_links()) {
    auto prober =
      std::make_shared<links::udp_link_prober>(management.io, dl, cfg_.management.dscp, metrics);
    auto board = std::make_shared<links::link_board>(dl.name, dl.kind);
    link_probers.push_back(prober);
    link_boards.push_back(board);
    (dl.kind == "primary" ? fwd.primary_link : fwd.backup_link) = dl.name;
    links::probe_settings probes{cfg_.links.probe_interval, cfg_.links.probe_misses, 10};
    auto slot = link_actors.emplace(dl.kind, std::make_shared<actor_slot>()).first->second;
    children.push_back({"link:" + dl.name,
                        [board, prober, probes, slot, &metrics](caf::event_based_actor* self) {
                          auto link =
                            self->spawn(links::data_link, board, prober, probes, &metrics);
                          slot->set(link);
                          return link;
                        },
                        actors::restart_policy::permanent});
  }
  std::shared_ptr<billing::rks_client> rks;
  if (cfg_.tls.configured() && fwd.rks_primary) {
    billing::rks_client_options rks_opts;
    rks_opts.node = cfg_.node.id;
    rks_opts.dscp = cfg_.management.dscp;
    rks = std::make_shared<billing::rks_client>(management.io,
                                                billing::tls_settings{cfg_.tls.certificate.string(),
                                                                      cfg_.tls.key.string(),
                                                                      cfg_.tls.ca.string()},
                                                metrics, rks_opts);
    auto sender = billing::make_rks_client_sender(rks);
    auto slot = std::make_shared<actor_slot>();
    role_followers->push_back(slot);
    children.push_back(
      {"billing-forwarder",
       [fwd, sender, link_boards, slot, ha_slot, &metrics](caf::event_based_actor* self) {
         // Detached: its SQLite reads stay off the workers that serve calls.
         auto f = self->spawn<caf::detached>(billing::billing_forwarder, fwd, sender, &metrics);
         for (auto& b : link_boards)
           links::subscribe(b, f);
         slot->set(f);
         if (auto ha = ha_slot->get())
           self->send(ha, atom::subscribe_v, f);
         return f;
       },
       actors::restart_policy::permanent});
  } else {
    logger->warn(
      "event=billing_forwarding_disabled reason=\"needs [tls] and [billing] rks_primary\"");
  }

  // -- trunks: gateways, facilities, off-net routing steered by the primary data link ---------
  trunks::trunk_options trunk_opts;
  if (auto it = link_actors.find("primary"); it != link_actors.end())
    trunk_opts.primary_link = [slot = it->second] { return slot->get(); };
  auto trunk_ctl =
    trunks::make_trunk_control(calls.context, offnet, provisioned, trunk_opts, metrics);
  children.push_back(trunk_ctl.child);

  auto root = sys.spawn(actors::supervisor, std::string{"root"}, std::move(children),
                        actors::restart_intensity{5, std::chrono::seconds{10}}, &metrics);

  add_status_routes(http, {sys, root, metrics, cluster, cfg_.node.id, started, started_utc});
  add_call_routes(http, sys, calls.context);
  add_trunk_routes(http, trunk_ctl);
  management_context mgmt_ctx{management.io,   http,        sys, root, cluster, metrics, cfg_,
                              calls_admission, admin_states};
  mgmt_ctx.live_trunks = true;
  mgmt_ctx.trunk_status = trunk_status_of(trunk_ctl.context); // gateway/spare/facility alarms
  auto mgmt = install_management(mgmt_ctx);

  int exit_code = 0;
  try {
    agent.start();
    http.start();
    udp_path.start();
    open_node_link(sys, root, cfg_);
  } catch (const std::exception& e) {
    logger->critical("event=start_failed error=\"{}\"", e.what());
    exit_code = 1;
  }

  if (exit_code == 0) {
    logger->info("event=started version={} mgcp={}:{} http={}:{} role={}", cms::version,
                 agent.local_endpoint().address().to_string(), agent.local_endpoint().port(),
                 http.local_endpoint().address().to_string(), http.local_endpoint().port(),
                 cluster.get().role);
    // A capped buffer (net.core.rmem_max, no CAP_NET_ADMIN) loses datagrams in bursts: say so.
    auto rcvbuf = agent.receive_buffer_bytes();
    if (cfg_.mgcp.receive_buffer_bytes > 0 && rcvbuf < cfg_.mgcp.receive_buffer_bytes)
      logger->warn(
        "event=mgcp_receive_buffer_capped asked={} got={} hint=\"raise net.core.rmem_max\"",
        cfg_.mgcp.receive_buffer_bytes, rcvbuf);
    std::promise<int> stop_signal;
    auto stopped = stop_signal.get_future();
    boost::asio::signal_set signals{management.io, SIGTERM, SIGINT};
    signals.async_wait([&](const boost::system::error_code& err, int signo) {
      if (!err)
        stop_signal.set_value(signo);
    });
    auto signo = stopped.get();
    logger->info("event=stopping signal={}", signo);
  }

  if (exit_code == 0 && calls.context)
    end_calls_at_stop(sys, calls.context->manager(), cluster.get());
  watchdog = std::make_unique<shutdown_watchdog>(std::chrono::milliseconds{2000});
  http.stop();
  mgmt->stop();
  agent.stop();
  ha_slot->set(nullptr);
  repl_slot->set(nullptr);
  udp_path.stop();
  witnesses.stop();
  for (auto& p : link_probers)
    p->stop();
  if (rks)
    rks->close();
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  calls.shutdown();
  trunk_ctl.shutdown();
  management.stop();
  signalling.stop();
  logger->info("event=stopped uptime_s={:.1f}",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return exit_code;
}

} // namespace cms
