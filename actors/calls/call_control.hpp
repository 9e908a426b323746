#pragma once
// Assembly of call processing: the actors as supervisor child specs and the MGCP inbound dispatch.
// Wiring in the node (runtime/node/node.cpp), in this order:
//
//   auto opts = cms::actors::call_control_options{};
//   opts.settings = cms::actors::settings_from_config(cfg);        // N:, timers (defaults)
//   opts.lines = cms::persistence::provisioning_store{db}.subscribers();
//   opts.billing = [file = db_file] { return cms::actors::make_sqlite_billing_writer(file); };
//   auto calls = cms::actors::make_call_control(agent, std::move(opts), registry);
//                                      // installs agent.on_command: call before agent.start()
//   children.insert(children.end(), calls.children.begin(), calls.children.end());
//   ... spawn the root supervisor with `children`, start the agent ...
//   add_call_routes(http_server, system, calls.context);  // runtime/node: GET /endpoints, /calls
//   ... on shutdown, after the supervisor is told to exit: calls.shutdown();
//
// The children, in start order: "call-catalog" (state catalogue, replication hook),
// "billing-outbox" (group-committing outbox owner, own thread), "mgcp-edge", "call-manager",
// "lines" (a supervisor over one endpoint actor per provisioned line). The replicator
// subscribes with send(calls.context->catalog(), state_subscribe{its_actor}).

#include "actors/billing/billing_outbox.hpp"
#include "actors/calls/call_context.hpp"
#include "actors/calls/dial_plan.hpp"
#include "actors/supervision/supervisor.hpp"
#include "persistence/provisioning.hpp"
#include "runtime/base/config.hpp"
#include "runtime/base/metrics.hpp"
#include "runtime/mgcp/agent.hpp"

#include <caf/all.hpp>

#include <filesystem>
#include <memory>
#include <vector>

namespace cms::actors {

struct call_control_options {
  call_settings settings;
  /// Provisioned lines (subscribers table); one endpoint actor each.
  std::vector<persistence::subscriber> lines;
  /// Opens the outbox the billing owner writes to.
  billing_writer_factory billing;
  /// Off-net routing; null: every off-net number gets "no route" (cause 3).
  std::shared_ptr<const offnet_router> offnet;
  /// Run the billing owner on its own thread (SQLite fsyncs must not stall the scheduler).
  bool detach_outbox = true;
  /// The MGCP edge starts fenced (answers and sends nothing) until the replicator opens it on
  /// becoming active. A restarting node of a pair that answered an RSIP and re-armed the line
  /// before knowing its role took the line's N: away from the active, which then never heard the
  /// hang-up (drill-failover, docs/ha.md). Standalone test rigs without a replicator leave it off.
  bool start_fenced = false;
  restart_intensity lines_intensity{100, std::chrono::seconds{10}};
};

struct call_control {
  std::shared_ptr<call_context> context;
  /// For the root supervisor, in this order.
  std::vector<child_spec> children;
  /// Drops the directory and the actor handles the context holds (lets the system shut down).
  void shutdown() const;
};

/// Builds the context and child specs and installs the agent's command handler (dispatch to the
/// endpoint actors). The agent must outlive the actors. Throws std::invalid_argument on a bad
/// digit map in the settings.
call_control make_call_control(mgcp::agent& agent, call_control_options options,
                               metrics::registry& registry);

/// Settings from the node config: N: = mgcp.call_agent_name (":port" added when absent).
call_settings settings_from_config(const config::node_config& cfg);

/// Child spec of the "lines" supervisor alone (tests build the same tree without an agent).
child_spec lines_supervisor(std::shared_ptr<call_context> ctx,
                            const std::vector<persistence::subscriber>& lines,
                            restart_intensity intensity);

} // namespace cms::actors
