#include "actors/calls/call_control.hpp"

#include "actors/calls/call_manager.hpp"
#include "actors/calls/endpoint_actor.hpp"
#include "actors/calls/mgcp_edge.hpp"
#include "actors/calls/state_catalog.hpp"
#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

namespace cms::actors {

namespace {} // namespace

child_spec lines_supervisor(std::shared_ptr<call_context> ctx,
                            const std::vector<persistence::subscriber>& lines,
                            restart_intensity intensity) {
  // Each spec refers to its row of one shared table instead of holding a copy of it: the specs
  // are copied several times on their way into the supervisor (child_spec lists, spawn
  // arguments, its state), and a subscriber row is ~300 bytes in 3 heap blocks (100k+ lines).
  auto table = std::make_shared<const std::vector<persistence::subscriber>>(lines);
  std::vector<child_spec> specs;
  specs.reserve(lines.size());
  for (std::size_t i = 0; i < table->size(); ++i)
    specs.push_back(child_spec{"line:" + (*table)[i].endpoint_name,
                               [ctx, table, i](caf::event_based_actor* self) {
                                 return self->spawn(endpoint_actor, ctx, (*table)[i]);
                               },
                               restart_policy::permanent});
  ctx->metrics.endpoints_total.set(static_cast<std::int64_t>(lines.size()));
  return supervisor_child("lines", std::move(specs), intensity, &ctx->metrics.registry);
}

call_control make_call_control(mgcp::agent& agent, call_control_options opts,
                               metrics::registry& registry) {
  call_control out;
  dial_plan plan{opts.lines, opts.settings.on_net_prefixes, opts.offnet};
  auto ctx = std::make_shared<call_context>(opts.settings, registry, std::move(plan));
  out.context = ctx;
  auto* agent_ptr = &agent;
  auto factory = opts.billing;
  bool detach = opts.detach_outbox;
  out.children.push_back(child_spec{"call-catalog",
                                    [ctx](caf::event_based_actor* self) {
                                      auto h = self->spawn(state_catalog, ctx->snapshots());
                                      ctx->set_catalog(h);
                                      return h;
                                    },
                                    restart_policy::permanent});
  out.children.push_back(child_spec{"billing-outbox",
                                    [ctx, factory, detach](caf::event_based_actor* self) {
                                      auto h = detach ? self->spawn<caf::detached>(billing_outbox,
                                                                                   ctx, factory)
                                                      : self->spawn(billing_outbox, ctx, factory);
                                      ctx->set_outbox(h);
                                      return h;
                                    },
                                    restart_policy::permanent});
  out.children.push_back(
    child_spec{"mgcp-edge",
               [ctx, agent_ptr, fenced = opts.start_fenced](caf::event_based_actor* self) {
                 auto h = self->spawn(mgcp_edge, agent_ptr, fenced);
                 ctx->set_edge(h);
                 return h;
               },
               restart_policy::permanent});
  out.children.push_back(child_spec{"call-manager",
                                    [ctx](caf::event_based_actor* self) {
                                      auto h = self->spawn(call_manager, ctx);
                                      ctx->set_manager(h);
                                      return h;
                                    },
                                    restart_policy::permanent});
  out.children.push_back(lines_supervisor(ctx, opts.lines, opts.lines_intensity));
  inbound_metrics counters;
  counters.unknown_endpoint = &registry.get_counter(
    "cms_mgcp_unknown_endpoint_total", "Commands for an endpoint that is not provisioned (500)");
  counters.dispatched =
    &registry.get_counter("cms_mgcp_dispatched_total", "Commands handed to endpoint actors");
  counters.wildcard = &registry.get_counter("cms_mgcp_wildcard_commands_total",
                                            "Wildcard RSIPs fanned out to the lines of an MTA");
  counters.wrong_source = &registry.get_counter(
    "cms_mgcp_rejected_total", "MGCP messages refused by policy (source, fence, bounds) by reason",
    {{"reason", "wrong_source"}});
  // Provisioned MTA addresses: commands for their lines come from there or are dropped.
  for (auto& line : opts.lines) {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(line.mta_address, ec);
    auto at = line.endpoint_name.rfind('@');
    if (!ec && at != std::string::npos)
      ctx->directory.bind_source(line.endpoint_name.substr(at + 1), address);
  }
  agent.on_command([ctx, agent_ptr, counters](const mgcp::udp_endpoint& from, mgcp::command cmd) {
    dispatch_inbound(ctx->directory, *agent_ptr, counters, from, std::move(cmd));
  });
  return out;
}

void call_control::shutdown() const {
  if (context)
    context->clear();
}

call_settings settings_from_config(const config::node_config& cfg) {
  call_settings s;
  auto name = cfg.mgcp.call_agent_name.empty() ? "ca@" + cfg.node.id : cfg.mgcp.call_agent_name;
  // "ca@host" -> "ca@host:port"; an IPv6 literal "[..]" keeps its own colons.
  auto tail = name.substr(name.rfind(']') == std::string::npos ? 0 : name.rfind(']'));
  if (tail.find(':') == std::string::npos)
    name += ":" + std::to_string(cfg.mgcp.port);
  s.notified_entity = name;
  s.max_call_rate = cfg.calls.max_call_rate;
  s.billing_retention = cfg.billing.retention;
  s.billing_queue_max = cfg.billing.max_queued_records;
  s.call_rate_burst = cfg.calls.call_rate_burst;
  s.emergency_codes = cfg.calls.emergency_codes;
  s.emergency_window = cfg.calls.emergency_window;
  return s;
}

} // namespace cms::actors
