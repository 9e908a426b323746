#include "actors/trunks/trunk_router.hpp"

#include "actors/trunks/trunk_leg.hpp"
#include "actors/type_ids.hpp"
#include "runtime/base/logging.hpp"

#include <algorithm>

namespace cms::trunks {

std::optional<std::string> trunk_offnet_router::route(const std::string& number) const {
  if (auto prefix = table_.match(number))
    return "offnet:" + *prefix;
  return std::nullopt;
}

caf::actor trunk_offnet_router::trunk_router() const {
  std::lock_guard guard{mutex_};
  return router_;
}

void trunk_offnet_router::set_trunk_router(caf::actor h) {
  std::lock_guard guard{mutex_};
  router_ = std::move(h);
}

namespace {

using self_ptr = caf::stateful_actor<trunk_router_state>*;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("trunk_router");
  return l;
}

void count_seizure(self_ptr self, const char* result) {
  self->state.ctx->registry
    .get_counter("cms_trunk_seizures_total", "Off-net seizure attempts by result",
                 {{"result", result}})
    .inc();
}

void set_segment(self_ptr self, bool primary_up, const std::string& why) {
  auto& ctx = *self->state.ctx;
  bool was = ctx.primary_up();
  ctx.set_primary_up(primary_up);
  ctx.registry
    .get_gauge("cms_trunk_partner_preferred",
               "1 while off-net calls go to the partner segment first (primary data link up)")
    .set(primary_up ? 1 : 0);
  if (was == primary_up)
    return;
  logger()->warn("event=segment_preference segment={} why=\"{}\"", primary_up ? "partner" : "local",
                 why);
  ctx.registry
    .get_counter("cms_trunk_segment_changes_total", "Changes of the preferred gateway segment",
                 {{"to", primary_up ? "partner" : "local"}})
    .inc();
}

std::string pick_spare(self_ptr self, const std::string& failed) {
  auto& st = self->state;
  auto home = st.ctx->gateway(failed);
  if (!home)
    return {};
  for (auto& g : st.ctx->prov.gateways) {
    if (g.role != "cold_spare" || g.name == failed)
      continue;
    bool fits = g.spare_for ? *g.spare_for == failed : g.segment == home->segment;
    if (!fits)
      continue;
    auto v = st.ctx->gateway_snapshot(g.name);
    if (!v || !v->healthy)
      continue;
    // A spare stands in for one gateway at a time.
    bool busy = false;
    for (auto& [f, by] : st.carried_by)
      if (by == g.name)
        if (auto fac = st.ctx->facility(f); fac && fac->gateway != failed)
          busy = true;
    if (!busy)
      return g.name;
  }
  return {};
}

void promote(self_ptr self, const std::string& failed) {
  auto& st = self->state;
  std::vector<std::string> homed;
  for (auto& f : st.ctx->prov.facilities)
    if (f.gateway == failed && st.carried_by[f.id] == failed)
      homed.push_back(f.id);
  if (homed.empty())
    return;
  auto spare = pick_spare(self, failed);
  if (spare.empty()) {
    logger()->error("gateway={} event=no_spare facilities={}", failed, homed.size());
    st.ctx->registry
      .get_counter("cms_trunk_promotions_failed_total",
                   "Failed gateways for which no healthy cold spare was available")
      .inc();
    return;
  }
  auto g = st.ctx->gateway(spare);
  logger()->warn("gateway={} event=promote_spare spare={} facilities={}", failed, spare,
                 homed.size());
  for (auto& f : homed)
    if (auto trunk = st.ctx->trunk(f))
      self->send(trunk, carry_facility{spare, actors::mgcp_peer{g->address, g->port}, true, false});
}

void on_health(self_ptr self, const gateway_health& h) {
  auto& st = self->state;
  for (auto& [f, by] : st.carried_by)
    if (by == h.gateway)
      if (auto trunk = st.ctx->trunk(f))
        self->send(trunk, carrier_health{h.gateway, h.healthy});
  auto g = st.ctx->gateway(h.gateway);
  if (!g || g->role != "active")
    return;
  if (!h.healthy) {
    promote(self, h.gateway);
    return;
  }
  if (st.ctx->settings.revert != revert_policy::when_idle)
    return;
  for (auto& f : st.ctx->prov.facilities)
    if (f.gateway == h.gateway && st.carried_by[f.id] != h.gateway)
      if (auto trunk = st.ctx->trunk(f.id)) {
        logger()->info("facility={} event=revert_pending home={} spare={}", f.id, h.gateway,
                       st.carried_by[f.id]);
        self->send(trunk,
                   carry_facility{h.gateway, actors::mgcp_peer{g->address, g->port}, true, true});
      }
}

void on_moved(self_ptr self, const facility_moved& m) {
  auto& st = self->state;
  auto old = st.carried_by[m.facility];
  if (old == m.gateway)
    return;
  st.carried_by[m.facility] = m.gateway;
  auto now = now_ms();
  st.ctx->update_gateway(old, [&](gateway_view& v) {
    v.carrying.erase(std::remove(v.carrying.begin(), v.carrying.end(), m.facility),
                     v.carrying.end());
    if (v.config.role == "cold_spare" && v.carrying.empty()) {
      v.promoted_ms = 0;
      logger()->warn("gateway={} event=spare_cold", v.config.name);
    }
  });
  st.ctx->update_gateway(m.gateway, [&](gateway_view& v) {
    v.carrying.push_back(m.facility);
    if (v.config.role == "cold_spare" && v.promoted_ms == 0)
      v.promoted_ms = now;
  });
  auto g = st.ctx->gateway(m.gateway);
  bool to_spare = g && g->role == "cold_spare";
  st.ctx->registry
    .get_counter(to_spare ? "cms_trunk_promotions_total" : "cms_trunk_reverts_total",
                 to_spare ? "Facilities moved to a promoted cold spare"
                          : "Facilities moved back to their home gateway",
                 {{"facility", m.facility}})
    .inc();
  for (auto& gw : st.ctx->prov.gateways)
    if (gw.role == "cold_spare") {
      auto v = st.ctx->gateway_snapshot(gw.name);
      st.ctx->registry
        .get_gauge("cms_trunk_spare_promoted", "1 while the cold spare carries facilities",
                   {{"gateway", gw.name}})
        .set(v && !v->carrying.empty() ? 1 : 0);
    }
}

} // namespace

caf::behavior trunk_router(self_ptr self, std::shared_ptr<trunk_context> ctx,
                           std::function<caf::actor()> primary_link) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.table = route_table{st.ctx->prov};
  for (auto& f : st.ctx->prov.facilities) {
    auto snap = st.ctx->snapshot(f.id);
    st.carried_by[f.id] = snap ? snap->gateway : f.gateway;
  }
  // A restarted router rebuilds what each gateway carries from the facilities.
  for (auto& g : st.ctx->prov.gateways)
    st.ctx->update_gateway(g.name, [&](gateway_view& v) {
      v.carrying.clear();
      for (auto& [f, by] : st.carried_by)
        if (by == g.name)
          v.carrying.push_back(f);
    });
  set_segment(self, st.ctx->primary_up(), "start");
  if (primary_link)
    if (auto link = primary_link())
      self->send(link, atom::subscribe_v, caf::actor{self});
  return {
    [self](seize_trunk& req) -> caf::result<trunk_seizure> {
      auto& st = self->state;
      if (!st.table.match(req.called)) {
        count_seizure(self, "no_route");
        trunk_seizure s;
        s.cause = actors::cause::no_route;
        return s;
      }
      auto candidates = st.table.candidates(req.called, st.ctx->primary_up(), st.rotation++);
      if (candidates.empty()) {
        count_seizure(self, "no_circuit");
        trunk_seizure s;
        s.cause = cause::no_circuit;
        return s;
      }
      auto leg = self->spawn(outgoing_leg, st.ctx, req, std::move(candidates));
      auto rp = self->make_response_promise<trunk_seizure>();
      self->request(leg, std::chrono::seconds{30}, hunt_atom::value)
        .then(
          [self, rp](trunk_seizure& s) mutable {
            count_seizure(self, s.ok ? "ok" : "no_circuit");
            rp.deliver(s);
          },
          [self, rp, leg](caf::error&) mutable {
            count_seizure(self, "no_circuit");
            self->send_exit(leg, caf::exit_reason::user_shutdown);
            trunk_seizure s;
            s.cause = cause::no_circuit;
            rp.deliver(s);
          });
      return rp;
    },
    [self](atom::link_changed, const links::link_status& s) {
      auto& want = self->state.ctx->settings.primary_link;
      if (want.empty() ? s.kind != "primary" : s.link != want)
        return;
      set_segment(self, links::usable(s.state), "link " + s.link + " " + links::to_string(s.state));
    },
    [self](gateway_health& h) { on_health(self, h); },
    [self](facility_moved& m) { on_moved(self, m); },
  };
}

} // namespace cms::trunks
