#include "actors/trunks/trunk_control.hpp"

#include "actors/trunks/gateway_actor.hpp"
#include "actors/trunks/trunk_actor.hpp"

#include <boost/json.hpp>

namespace cms::trunks {

std::shared_ptr<trunk_offnet_router> make_offnet_router(const persistence::provisioning& prov) {
  return std::make_shared<trunk_offnet_router>(prov);
}

trunk_control make_trunk_control(std::shared_ptr<actors::call_context> calls,
                                 std::shared_ptr<trunk_offnet_router> offnet,
                                 persistence::provisioning prov, trunk_options opts,
                                 metrics::registry& registry) {
  trunk_control out;
  auto ctx =
    std::make_shared<trunk_context>(opts.settings, std::move(calls), std::move(prov), registry);
  out.context = ctx;
  out.offnet = offnet;
  auto link = opts.primary_link;
  std::vector<actors::child_spec> children;
  children.push_back(actors::child_spec{"trunk-router",
                                        [ctx, offnet, link](caf::event_based_actor* self) {
                                          auto h = self->spawn(trunk_router, ctx, link);
                                          ctx->set_router(h);
                                          if (offnet)
                                            offnet->set_trunk_router(h);
                                          return h;
                                        },
                                        actors::restart_policy::permanent});
  std::vector<actors::child_spec> gateways;
  for (auto& g : ctx->prov.gateways) {
    // A gateway's NTFY and RSIP come from its provisioned address or are dropped before any actor
    // sees them: a forged "RSIP *@gw RM: forced" would otherwise take it out of service.
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(g.address, ec);
    if (!ec)
      ctx->calls->directory.bind_source(g.name, address);
    auto name = g.name;
    gateways.push_back(actors::child_spec{"gateway:" + name,
                                          [ctx, name](caf::event_based_actor* self) {
                                            auto h = self->spawn(gateway_actor, ctx, name);
                                            ctx->set_gateway_actor(name, h);
                                            return h;
                                          },
                                          actors::restart_policy::permanent});
  }
  std::vector<actors::child_spec> facilities;
  for (auto& f : ctx->prov.facilities) {
    auto id = f.id;
    facilities.push_back(actors::child_spec{"facility:" + id,
                                            [ctx, id](caf::event_based_actor* self) {
                                              auto h = self->spawn(trunk_actor, ctx, id);
                                              ctx->set_trunk(id, h);
                                              return h;
                                            },
                                            actors::restart_policy::permanent});
  }
  children.push_back(
    actors::supervisor_child("facilities", std::move(facilities), opts.intensity, &registry));
  children.push_back(
    actors::supervisor_child("gateways", std::move(gateways), opts.intensity, &registry));
  out.child = actors::supervisor_child("trunks", std::move(children), opts.intensity, &registry);
  return out;
}

std::string trunks_json(const trunk_context& ctx) {
  boost::json::array gateways;
  for (auto& v : ctx.gateway_snapshots()) {
    boost::json::array carrying;
    for (auto& f : v.carrying)
      carrying.push_back(boost::json::value(f));
    boost::json::object o{{"name", v.config.name},
                          {"address", v.config.address},
                          {"port", v.config.port},
                          {"role", v.config.role},
                          {"segment", v.config.segment},
                          {"healthy", v.healthy},
                          {"forced", v.forced},
                          {"carrying", std::move(carrying)},
                          {"promoted", v.promoted_ms != 0},
                          {"promoted_ms", v.promoted_ms},
                          {"transitions", v.transitions},
                          {"since_ms", v.since_ms}};
    if (v.config.spare_for)
      o["spare_for"] = *v.config.spare_for;
    gateways.push_back(std::move(o));
  }
  boost::json::array facilities;
  for (auto& f : ctx.prov.facilities) {
    auto snap = ctx.snapshot(f.id);
    boost::json::object o{{"id", f.id},
                          {"kind", f.kind},
                          {"carrier", f.carrier},
                          {"span", f.span},
                          {"home_gateway", f.gateway},
                          {"channels_total", f.channels}};
    if (f.backup_facility)
      o["backup_facility"] = *f.backup_facility;
    if (snap) {
      boost::json::object counts;
      for (auto& [k, n] : channel_counts(*snap))
        counts[k] = n;
      o["gateway"] = snap->gateway;
      o["healthy"] = snap->gateway_healthy && !snap->facility_down;
      o["facility_down"] = snap->facility_down;
      o["revert_pending"] = snap->revert_pending;
      o["channels"] = std::move(counts);
      o["seizures"] = snap->seizures;
      o["incoming"] = snap->incoming;
      o["hunt_refused"] = snap->hunt_refused;
    } else {
      o["gateway"] = f.gateway;
      o["healthy"] = false;
      o["running"] = false;
    }
    facilities.push_back(std::move(o));
  }
  bool up = ctx.primary_up();
  return boost::json::serialize(boost::json::object{{"primary_link_up", up},
                                                    {"preferred_segment", up ? "partner" : "local"},
                                                    {"gateways", std::move(gateways)},
                                                    {"facilities", std::move(facilities)}});
}

std::string routes_json(const trunk_offnet_router& offnet) {
  return boost::json::serialize(boost::json::object{{"routes", offnet.table().to_json()}});
}

void trunk_control::shutdown() const {
  if (context)
    context->clear();
  if (offnet)
    offnet->set_trunk_router(nullptr);
}

} // namespace cms::trunks
