#include "runtime/node/node.hpp"

#include "runtime/base/wall_clock.hpp"

#include "actors/supervision/supervisor.hpp"
#include "actors/type_ids.hpp"
#include "cms/version.hpp"
#include "persistence/database.hpp"
#include "actors/billing/billing_forwarder.hpp"
#include "actors/calls/call_control.hpp"
#include "actors/qos/gate_control.hpp"
#include "actors/links/data_link.hpp"
#include "actors/trunks/trunk_control.hpp"
#include "runtime/transport/link_prober.hpp"
#include "runtime/node/rks_transport.hpp"
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
#include "runtime/node/sd_notify.hpp"
#include "runtime/base/metrics.hpp"
#include "runtime/mgcp/agent.hpp"
#include "runtime/node/status_routes.hpp"
#include "runtime/base/thread_priority.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <caf/all.hpp>
#include <caf/openssl/manager.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
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

/// WATCHDOG=1 to systemd (Type=notify, WatchdogSec=) at a quarter of its period, but only while
/// the HA actor showed a sign of life within half of it: a dead or stuck HA actor (or a stuck
/// management thread) stops the pings, and systemd kills and restarts the node.
std::shared_ptr<boost::asio::steady_timer>
start_systemd_watchdog(boost::asio::io_context& io,
                       std::shared_ptr<std::atomic<std::int64_t>> ha_alive) {
  auto period = sd::watchdog_period();
  if (!period)
    return nullptr;
  auto timer = std::make_shared<boost::asio::steady_timer>(io);
  auto every = std::chrono::duration_cast<std::chrono::steady_clock::duration>(*period / 4);
  auto max_age = std::chrono::duration_cast<std::chrono::steady_clock::duration>(*period / 2);
  auto tick = std::make_shared<std::function<void()>>();
  std::weak_ptr<boost::asio::steady_timer> weak = timer;
  *tick = [weak, every, max_age, ha_alive, tick_weak = std::weak_ptr(tick)] {
    auto t = weak.lock();
    auto next = tick_weak.lock();
    if (!t || !next)
      return;
    auto last =
      std::chrono::steady_clock::time_point{std::chrono::steady_clock::duration{ha_alive->load()}};
    if (std::chrono::steady_clock::now() - last <= max_age)
      sd::notify("WATCHDOG=1");
    t->expires_after(every);
    t->async_wait([next](const boost::system::error_code& ec) {
      if (!ec)
        (*next)();
    });
  };
  log::get("node")->info("event=systemd_watchdog period_ms={}",
                         std::chrono::duration_cast<std::chrono::milliseconds>(*period).count());
  boost::asio::post(io, [tick] { (*tick)(); });
  return timer;
}

} // namespace

node::node(config::node_config cfg) : cfg_(std::move(cfg)) {}

int node::run() {
  auto logger = log::get("node");
  auto started = std::chrono::steady_clock::now();
  auto started_utc = utc_ms();

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
  mgcp_cfg.receive.max_transactions = cfg_.mgcp.max_transactions;
  mgcp_cfg.receive.max_per_peer = cfg_.mgcp.max_transactions_per_peer;
  mgcp_cfg.receive.pending_timeout = cfg_.mgcp.pending_timeout;
  mgcp_cfg.flood.datagrams_per_second = static_cast<double>(cfg_.mgcp.source_datagrams_per_s);
  mgcp_cfg.flood.datagram_burst = static_cast<double>(cfg_.mgcp.source_datagram_burst);
  mgcp::agent agent{signalling.io, mgcp_cfg, metrics};

  http::server_config http_cfg;
  http_cfg.bind = cfg_.http.bind;
  http_cfg.port = cfg_.http.port;
  http_cfg.max_request_bytes = cfg_.http.max_request_bytes;
  http_cfg.max_connections_per_address = cfg_.http.max_connections_per_address;
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
  // An epoch the node acted on must survive a power cut: a node that came back with an older one
  // could accept a stale peer's updates.
  ha_db_options = persistence::acknowledged_writer(ha_db_options);
  auto ha_db =
    std::make_shared<persistence::database>(persistence::database::open(db_file, ha_db_options));
  auto persisted_epoch = persistence::ha_store{*ha_db}.epoch();
  // Both UDP paths are sealed with the cluster key (docs/security.md); without a key the
  // heartbeat path stays off (the config refuses witnesses without one).
  ha::udp_trust trust{cfg_.node.cluster_id, cfg_.peer.key, cfg_.peer.replay_window};
  // The HA actor's sign of life: it publishes what the UDP path says at every tick. The UDP path
  // and the systemd watchdog both go quiet once it stops (a dead or stuck HA actor).
  auto ha_alive = std::make_shared<std::atomic<std::int64_t>>(0);
  // Shorter than the peer's loss threshold (misses x interval): a stuck HA actor is seen as
  // lost about as fast as a killed process, and an HA actor late by less than that is not.
  auto ha_silent_after = cfg_.peer.heartbeat_interval * std::max(2, cfg_.peer.heartbeat_misses - 1);
  ha::udp_heartbeat udp_path{
    signalling.io,
    trust,
    {boost::asio::ip::make_address(cfg_.peer.listen_address), cfg_.peer.udp_heartbeat_port},
    {boost::asio::ip::make_address(cfg_.peer.address), cfg_.peer.peer_udp_heartbeat_port},
    cfg_.peer.heartbeat_interval,
    ha_silent_after,
    cfg_.mgcp.dscp,
    metrics};
  std::vector<ha::udp_endpoint> witness_endpoints;
  for (auto& w : cfg_.peer.witnesses)
    witness_endpoints.push_back(ha::parse_udp_endpoint(w));
  ha::witness_client witnesses{signalling.io, trust, witness_endpoints,
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
  env->udp_self = [&udp_path, ha_alive](const ha::peer_info& p) {
    ha_alive->store(std::chrono::steady_clock::now().time_since_epoch().count());
    udp_path.set_self(p);
  };
  env->test_freeze_file = cfg_.test_faults.freeze_ha_actor_file.string();
  env->test_crash = cfg_.test_faults.crash_ha_actor;
  if (cfg_.test_faults.any())
    logger->warn("event=test_faults_configured freeze_ha_actor_file=\"{}\" crash_ha_actor={} "
                 "note=\"for fault-injection tests only\"",
                 env->test_freeze_file, env->test_crash);
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

  // -- DQoS: one gate controller per CMTS, following the role (docs/qos.md) ---------------------
  {
    auto qos = qos::make_gate_control(
      persistence::provisioning_store{*db}.cmtses(), cfg_, signalling.io,
      [ha_slot] { return ha_slot->get(); }, metrics);
    calls.context->gates = qos.directory;
    children.insert(children.end(), qos.children.begin(), qos.children.end());
    role_followers->insert(role_followers->end(), qos.role_followers.begin(),
                           qos.role_followers.end());
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
  if (cfg_.billing.rks_secondary)
    fwd.rks_backup =
      billing::rks_endpoint{cfg_.billing.rks_secondary->host, cfg_.billing.rks_secondary->port};
  fwd.batch_size = static_cast<std::size_t>(cfg_.billing.batch_size);
  fwd.max_records_per_s = static_cast<std::uint32_t>(cfg_.billing.drain_max_records_per_s);
  // The standby learns what the RKS acknowledged, so after a failover it resumes from there.
  fwd.on_position = billing::position_to_replicator([repl_slot] { return repl_slot->get(); });
  fwd.thread_nice = 10; // a backlog drains on the CPU that call signalling leaves (docs/billing.md)
  // While a standby is attached only records it holds go to the RKS: their sequences, hence the
  // EMs' BCIDs and sequence numbers, survive a takeover (docs/billing.md, "HA rules").
  fwd.standby_attached = [view = &cluster] { return view->get().peer_state == "up"; };
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
  std::shared_ptr<billing::radius_sender> rks;
  if (fwd.rks_primary && !cfg_.billing.secret.empty()) {
    try {
      rks = make_radius_sender(management.io, cfg_, db_file, metrics);
    } catch (const std::exception& e) {
      // Calls go on; their records wait in the outbox until a restart with a usable RKS address.
      logger->error("event=billing_transport_failed error=\"{}\"", e.what());
    }
  }
  if (rks) {
    auto sender = std::static_pointer_cast<billing::rks_sender>(rks);
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
    logger->warn("event=billing_forwarding_disabled reason=\"needs [billing] rks_primary and "
                 "secret_file\"");
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
  // The node stops on SIGTERM/SIGINT, or when the root supervisor gave up (0 = root gone): a node
  // whose actors are gone must not linger as a zombie, so it exits non-zero for systemd.
  auto stop_signal = std::make_shared<std::promise<int>>();
  auto stop_once = std::make_shared<std::once_flag>();
  auto stop = [stop_signal, stop_once](int why) {
    std::call_once(*stop_once, [&] { stop_signal->set_value(why); });
  };
  auto stopped = stop_signal->get_future();
  root->attach_functor([stop, &sys](const caf::error& reason) {
    if (reason != caf::exit_reason::user_shutdown) {
      log::get("node")->critical("event=root_supervisor_exited reason=\"{}\"", sys.render(reason));
      stop(0);
    }
  });

  add_status_routes(http, {sys, root, metrics, cluster, cfg_.node.id, started, started_utc});
  add_call_routes(http, sys, calls.context);
  add_trunk_routes(http, trunk_ctl, admin_states);
  management_context mgmt_ctx{management.io,   http,        sys, root, cluster, metrics, cfg_,
                              calls_admission, admin_states};
  mgmt_ctx.live_trunks = true;
  mgmt_ctx.trunk_status = trunk_status_of(trunk_ctl.context); // gateway/spare/facility alarms
  auto mgmt = install_management(mgmt_ctx);

  int exit_code = 0;
  try {
    agent.start();
    http.start();
    if (!cfg_.peer.key.empty())
      udp_path.start();
    else
      logger->warn("event=udp_heartbeat_disabled reason=\"no [peer] key_file: the node link alone "
                   "carries heartbeats\"");
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
    boost::asio::signal_set signals{management.io, SIGTERM, SIGINT};
    signals.async_wait([stop](const boost::system::error_code& err, int signo) {
      if (!err)
        stop(signo);
    });
    auto watchdog_timer = start_systemd_watchdog(management.io, ha_alive);
    sd::notify("READY=1\nSTATUS=serving");
    auto signo = stopped.get();
    sd::notify("STOPPING=1");
    if (watchdog_timer)
      boost::asio::post(management.io, [watchdog_timer] { watchdog_timer->cancel(); });
    if (signo == 0) {
      exit_code = 1;
      logger->critical("event=stopping reason=\"root supervisor gave up\"");
    } else {
      logger->info("event=stopping signal={}", signo);
    }
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
    rks->stop();
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
