#include "actors/trunks/gateway_actor.hpp"

#include "actors/calls/mgcp_edge.hpp"
#include "actors/type_ids.hpp"
#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

namespace cms::trunks {

namespace {

using self_ptr = caf::stateful_actor<gateway_actor_state>*;
using keepalive_atom = caf::atom_constant<caf::atom("gw_keep")>;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("gateway");
  return l;
}

gateway_view view(self_ptr self) {
  auto v = self->state.ctx->gateway_snapshot(self->state.gateway);
  return v ? *v : gateway_view{};
}

void set_gauge(self_ptr self, bool healthy) {
  self->state.ctx->registry
    .get_gauge("cms_trunk_gateway_up", "1 while the trunking gateway is healthy",
               {{"gateway", self->state.gateway}})
    .set(healthy ? 1 : 0);
}

/// A gateway back from a failure that was not a restart (it was unreachable, e.g. its link was
/// cut) still holds the connections and PSTN calls of the legs failed when it was declared down
/// (cause 41): clear them all before its channels are hunted again, or each reused channel is
/// refused (502, channel busy) by the gateway.
void clear_stale_connections(self_ptr self) {
  auto& st = self->state;
  auto edge = st.ctx->calls->edge();
  if (!edge)
    return;
  mgcp::command cmd;
  cmd.kind = mgcp::verb::dlcx;
  cmd.endpoint = "*@" + st.gateway;
  cmd.version = "MGCP 1.0";
  cmd.set_param("S", "X-TR/rel(41)");
  self->request(edge, st.ctx->settings.mgcp_request_timeout, actors::mgcp_request{st.peer, cmd})
    .then([](actors::mgcp_reply&) {}, [](caf::error&) {});
}

void set_health(self_ptr self, bool healthy, const std::string& why) {
  auto& st = self->state;
  bool changed = false;
  st.ctx->update_gateway(st.gateway, [&](gateway_view& v) {
    if (v.healthy == healthy)
      return;
    changed = true;
    v.healthy = healthy;
    ++v.transitions;
    v.since_ms = now_ms();
    if (healthy)
      v.misses = 0;
  });
  if (!changed)
    return;
  logger()->warn("gateway={} event={} why=\"{}\"", st.gateway, healthy ? "healthy" : "failed", why);
  st.ctx->registry
    .get_counter("cms_trunk_gateway_transitions_total", "Trunking gateway health changes",
                 {{"gateway", st.gateway}, {"to", healthy ? "healthy" : "failed"}})
    .inc();
  set_gauge(self, healthy);
  if (healthy)
    clear_stale_connections(self);
  if (auto router = st.ctx->router())
    self->send(router, gateway_health{st.gateway, healthy, why});
}

void keepalive(self_ptr self) {
  auto& st = self->state;
  if (!st.answered) {
    int misses = 0;
    st.ctx->update_gateway(st.gateway, [&](gateway_view& v) { misses = ++v.misses; });
    if (misses >= st.ctx->settings.keepalive_misses)
      set_health(self, false, "keepalive");
  }
  auto edge = st.ctx->calls->edge();
  auto seq = ++st.probe;
  st.answered = false;
  if (edge) {
    mgcp::command cmd;
    cmd.kind = mgcp::verb::auep;
    cmd.endpoint = "*@" + st.gateway;
    cmd.version = "MGCP 1.0";
    self->request(edge, st.ctx->settings.keepalive_interval, actors::mgcp_request{st.peer, cmd})
      .then(
        [self, seq](actors::mgcp_reply& r) {
          auto& st = self->state;
          if (seq != st.probe || !r.ok() || r.rsp.code < 200 || r.rsp.code >= 300)
            return;
          st.answered = true;
          bool forced = false;
          st.ctx->update_gateway(st.gateway, [&](gateway_view& v) {
            v.misses = 0;
            forced = v.forced;
          });
          if (!forced)
            set_health(self, true, "audit answered");
        },
        [](caf::error&) {});
  }
  self->delayed_send(self, st.ctx->settings.keepalive_interval, keepalive_atom::value);
}

} // namespace

caf::behavior gateway_actor(self_ptr self, std::shared_ptr<trunk_context> ctx,
                            std::string gateway) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.gateway = std::move(gateway);
  if (auto g = st.ctx->gateway(st.gateway))
    st.peer = actors::mgcp_peer{g->address, g->port};
  set_gauge(self, view(self).healthy);
  keepalive(self);
  return {
    [self](keepalive_atom) { keepalive(self); },
    [self](gateway_rsip& m) {
      auto& st = self->state;
      logger()->info("gateway={} event=rsip rm={}", st.gateway, m.method);
      if (m.method == "forced") {
        st.ctx->update_gateway(st.gateway, [](gateway_view& v) { v.forced = true; });
        set_health(self, false, "rsip forced");
      } else if (m.method == "restart" || m.method == "disconnected") {
        st.ctx->update_gateway(st.gateway, [](gateway_view& v) {
          v.forced = false;
          v.misses = 0;
        });
        st.answered = true;
        set_health(self, true, "rsip " + m.method);
      }
    },
    [self](atom::status) {
      auto v = view(self);
      return boost::json::serialize(boost::json::object{{"gateway", self->state.gateway},
                                                        {"healthy", v.healthy},
                                                        {"forced", v.forced},
                                                        {"misses", v.misses}});
    },
  };
}

} // namespace cms::trunks
