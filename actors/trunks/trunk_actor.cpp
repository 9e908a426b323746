#include "actors/trunks/trunk_actor.hpp"

#include "actors/calls/mgcp_edge.hpp"
#include "actors/trunks/trunk_leg.hpp"
#include "actors/type_ids.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/mgcp/endpoint_name.hpp"
#include "runtime/mgcp/parameters.hpp"
#include "runtime/mgcp/text.hpp"
#include "runtime/mgcp/trunk_package.hpp"

#include <boost/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <charconv>

namespace cms::trunks {

namespace {

using self_ptr = caf::stateful_actor<trunk_actor_state>*;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("trunk");
  return l;
}

bool usable(const trunk_state& d) { return d.gateway_healthy && !d.facility_down; }

void publish(self_ptr self) {
  auto& st = self->state;
  st.ctx->save(st.data, st.legs);
  auto counts = channel_counts(st.data);
  for (auto& [state, n] : counts)
    st.ctx->registry
      .get_gauge("cms_trunk_channels", "Trunk channels by facility, carrier and state",
                 {{"facility", st.data.facility}, {"carrier", st.data.carrier}, {"state", state}})
      .set(n);
  st.ctx->registry
    .get_gauge("cms_trunk_facility_up", "1 while the facility's carrying gateway and span are up",
               {{"facility", st.data.facility}})
    .set(usable(st.data) ? 1 : 0);
}

channel* find(self_ptr self, int number) {
  for (auto& c : self->state.data.channels)
    if (c.number == number)
      return &c;
  return nullptr;
}

void set_channel(self_ptr self, channel& c, channel_state to, std::string call_id) {
  auto& st = self->state;
  if (c.state != to) {
    ++st.data.transitions;
    st.ctx->registry
      .get_counter("cms_trunk_channel_transitions_total", "Trunk channel state changes",
                   {{"facility", st.data.facility}, {"to", to_string(to)}})
      .inc();
    logger()->debug("facility={} channel={} event=state from={} to={} call={}", st.data.facility,
                    c.number, to_string(c.state), to_string(to), call_id);
  }
  c.state = to;
  c.call_id = std::move(call_id);
}

/// The state a channel without a call rests in.
channel_state resting(self_ptr self) {
  return usable(self->state.data) ? channel_state::idle : channel_state::out_of_service;
}

void register_names(self_ptr self) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  for (auto& n : st.registered)
    st.ctx->calls->directory.erase(n, me);
  st.registered.clear();
  // While a spare carries the facility, the home gateway's names stay registered too: its RSIP
  // (restart after the failure) must reach us to bring the facility home.
  std::vector<std::string> gateways{st.data.gateway};
  if (st.data.home_gateway != st.data.gateway)
    gateways.push_back(st.data.home_gateway);
  for (auto& gw : gateways)
    for (auto& c : st.data.channels) {
      auto name = channel_endpoint(st.data.span, c.number, gw);
      st.ctx->calls->directory.put(name, me);
      st.registered.push_back(name);
    }
}

void respond(self_ptr self, const actors::inbound_command& in, int code, std::string comment) {
  if (!in.respond)
    return;
  if (auto edge = self->state.ctx->calls->edge()) {
    mgcp::response rsp;
    rsp.code = code;
    rsp.transaction_id = in.cmd.transaction_id;
    rsp.comment = std::move(comment);
    self->send<caf::message_priority::high>(edge, actors::mgcp_respond{in.from, std::move(rsp)});
  }
}

/// Every channel without a leg takes its resting state; legs of lost channels are told.
void refresh(self_ptr self, bool tell_legs) {
  auto& st = self->state;
  for (auto& c : st.data.channels) {
    if (c.state == channel_state::blocked)
      continue;
    auto leg = st.legs.find(c.number);
    if (leg == st.legs.end()) {
      set_channel(self, c, resting(self), {});
    } else if (!usable(st.data)) {
      if (tell_legs)
        self->send(leg->second, channel_lost{c.number});
      set_channel(self, c, channel_state::out_of_service, c.call_id);
    }
  }
}

void move_to(self_ptr self, const std::string& gateway, actors::mgcp_peer peer, bool healthy) {
  auto& st = self->state;
  logger()->warn("facility={} event=carried_by from={} to={} home={}", st.data.facility,
                 st.data.gateway, gateway, st.data.home_gateway);
  st.data.gateway = gateway;
  st.data.peer = std::move(peer);
  st.data.gateway_healthy = healthy;
  st.data.facility_down = false;
  st.data.revert_pending = false;
  register_names(self);
  refresh(self, true);
  publish(self);
  if (auto router = st.ctx->router())
    self->send(router, facility_moved{st.data.facility, gateway});
}

void maybe_revert(self_ptr self) {
  auto& st = self->state;
  if (!st.data.revert_pending || !st.legs.empty())
    return;
  auto home = st.ctx->gateway(st.data.home_gateway);
  if (!home)
    return;
  auto view = st.ctx->gateway_snapshot(home->name);
  if (view && !view->healthy) {
    st.data.revert_pending = false;
    return;
  }
  move_to(self, home->name, actors::mgcp_peer{home->address, home->port}, true);
}

void free_channel(self_ptr self, int number, const std::string& call_id) {
  auto& st = self->state;
  auto c = find(self, number);
  if (!c || c->call_id != call_id)
    return;
  if (auto it = st.legs.find(number); it != st.legs.end()) {
    self->demonitor(it->second);
    st.legs.erase(it);
  }
  set_channel(self, *c, c->state == channel_state::blocked ? channel_state::blocked : resting(self),
              {});
  publish(self);
  maybe_revert(self);
}

int channel_number(self_ptr self, const std::string& endpoint) {
  auto name = mgcp::parse_endpoint_name(endpoint);
  if (!name || name->terms.size() != 3 || name->wildcarded())
    return 0;
  auto span_term = mgcp::text::lower(name->terms[1]);
  if (span_term != "ds1-" + std::to_string(self->state.data.span))
    return 0;
  int n = 0;
  auto& t = name->terms[2];
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc{} || p != t.data() + t.size() || !find(self, n))
    return 0;
  return n;
}

void start_incoming(self_ptr self, channel& c, const mgcp::trunk::pstn_event& sup) {
  auto& st = self->state;
  auto call_id = fmt::format("{:016x}", st.rng());
  leg_channel held{st.data.facility, c.number,
                   channel_endpoint(st.data.span, c.number, st.data.gateway), st.data.peer};
  auto leg = self->spawn(incoming_leg, st.ctx, held, call_id, sup.called, sup.calling);
  self->monitor(leg);
  st.legs[c.number] = leg;
  set_channel(self, c, channel_state::seized, call_id);
  ++st.data.incoming;
  st.ctx->registry
    .get_counter("cms_trunk_incoming_total", "PSTN seizures accepted, by facility",
                 {{"facility", st.data.facility}})
    .inc();
  logger()->info("facility={} channel={} event=pstn_seizure call={} called={} calling={}",
                 st.data.facility, c.number, call_id, sup.called, sup.calling);
  publish(self);
}

void on_notify(self_ptr self, actors::inbound_command& in) {
  auto& st = self->state;
  auto n = channel_number(self, in.cmd.endpoint);
  if (n == 0)
    return respond(self, in, 500, "Endpoint unknown");
  auto observed = in.cmd.param("O");
  auto events = mgcp::trunk::parse_list(observed ? *observed : std::string{});
  if (!events) {
    st.ctx->registry
      .get_counter("cms_trunk_bad_notify_total", "NTFYs from gateways with bad X-TR events")
      .inc();
    return respond(self, in, 538, "Bad observed events");
  }
  auto c = find(self, n);
  auto leg = st.legs.find(n);
  for (auto& e : *events) {
    if (e.kind == mgcp::trunk::signal_kind::sup) {
      if (leg != st.legs.end() || c->state != channel_state::idle) {
        // Glare or a blocked/out-of-service channel: the gateway releases the PSTN call.
        logger()->warn("facility={} channel={} event=seizure_refused state={}", st.data.facility, n,
                       to_string(c->state));
        return respond(self, in, 501, "Channel not available");
      }
      respond(self, in, 200, "OK");
      start_incoming(self, *c, e);
      return;
    }
  }
  respond(self, in, 200, "OK");
  if (leg == st.legs.end()) {
    // Progress of a call no leg owns: the gateway executed a CRCX we had given up on (e.g. a
    // retransmission that reached it after a restart). Clear it, or the channel stays taken there.
    bool progress = false;
    for (auto& e : *events)
      progress = progress || e.kind == mgcp::trunk::signal_kind::alt ||
                 e.kind == mgcp::trunk::signal_kind::ans;
    auto edge = st.ctx->calls->edge();
    if (progress && edge) {
      logger()->warn("facility={} channel={} event=orphan_call_cleared", st.data.facility, n);
      mgcp::command dl;
      dl.kind = mgcp::verb::dlcx;
      dl.endpoint = in.cmd.endpoint;
      dl.version = "MGCP 1.0";
      dl.set_param("S", mgcp::trunk::build({mgcp::trunk::signal_kind::rel, {}, {}, 41}));
      self
        ->request(edge, st.ctx->settings.mgcp_request_timeout,
                  actors::mgcp_request{in.from, std::move(dl)})
        .then([](actors::mgcp_reply&) {}, [](caf::error&) {});
    }
    return;
  }
  for (auto& e : *events) {
    if (e.kind == mgcp::trunk::signal_kind::sup)
      continue;
    self->send(leg->second, pstn_signal{std::string{mgcp::trunk::to_string(e.kind)}, e.cause});
  }
}

void on_rsip(self_ptr self, actors::inbound_command& in) {
  auto& st = self->state;
  auto key = in.from.address + ":" + std::to_string(in.from.port) + "/" +
             std::to_string(in.cmd.transaction_id);
  respond(self, in, 200, "OK");
  if (key == st.last_rsip)
    return; // another copy of a wildcard RSIP
  st.last_rsip = key;
  auto method_text = in.cmd.param("RM") ? mgcp::text::lower(*in.cmd.param("RM")) : "restart";
  auto name = mgcp::parse_endpoint_name(in.cmd.endpoint);
  bool whole_gateway = name && name->terms.size() == 1 && name->terms[0] == "*";
  if (whole_gateway) {
    auto from = mgcp::text::lower(name->domain);
    if (auto gw = st.ctx->gateway_actor(from))
      self->send(gw, gateway_rsip{from, method_text});
    return;
  }
  if (name && mgcp::text::lower(name->domain) != st.data.gateway)
    return; // a span RSIP from the home gateway while a spare carries us: nothing to do
  // The span (or one of its channels) restarts or goes away: "drop a facility".
  bool down = method_text == "forced" || method_text == "graceful";
  if (down == st.data.facility_down)
    return;
  st.data.facility_down = down;
  logger()->warn("facility={} event={} gateway={} rm={}", st.data.facility,
                 down ? "facility_down" : "facility_up", st.data.gateway, method_text);
  st.ctx->registry
    .get_counter("cms_trunk_facility_transitions_total", "Facilities going down / up",
                 {{"facility", st.data.facility}, {"to", down ? "down" : "up"}})
    .inc();
  refresh(self, true);
  publish(self);
}

std::string status_json(self_ptr self) {
  auto& d = self->state.data;
  boost::json::object counts;
  for (auto& [k, v] : channel_counts(d))
    counts[k] = v;
  return boost::json::serialize(boost::json::object{{"facility", d.facility},
                                                    {"gateway", d.gateway},
                                                    {"home_gateway", d.home_gateway},
                                                    {"carrier", d.carrier},
                                                    {"healthy", usable(d)},
                                                    {"channels", counts},
                                                    {"legs", self->state.legs.size()}});
}

trunk_state fresh_state(const trunk_context& ctx, const std::string& id) {
  trunk_state d;
  d.facility = id;
  auto f = ctx.facility(id);
  if (!f)
    return d;
  d.kind = f->kind;
  d.carrier = f->carrier;
  d.span = f->span;
  d.home_gateway = f->gateway;
  d.gateway = f->gateway;
  if (auto g = ctx.gateway(f->gateway)) {
    d.segment = g->segment;
    d.peer = actors::mgcp_peer{g->address, g->port};
  }
  if (auto view = ctx.gateway_snapshot(f->gateway))
    d.gateway_healthy = view->healthy;
  for (int i = 1; i <= f->channels; ++i)
    d.channels.push_back(
      channel{i, d.gateway_healthy ? channel_state::idle : channel_state::out_of_service, {}});
  return d;
}

} // namespace

std::map<std::string, int> channel_counts(const trunk_state& st) {
  std::map<std::string, int> out;
  for (int i = 0; i < channel_state_count; ++i)
    out[to_string(static_cast<channel_state>(i))] = 0;
  for (auto& c : st.channels)
    ++out[to_string(c.state)];
  return out;
}

caf::behavior trunk_actor(self_ptr self, std::shared_ptr<trunk_context> ctx, std::string facility) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.rng.seed(std::random_device{}());
  if (auto saved = st.ctx->snapshot(facility)) {
    // A restart: resume the channels and keep the calls that are up.
    st.data = *saved;
    st.legs = st.ctx->legs(facility);
    for (auto it = st.legs.begin(); it != st.legs.end();) {
      if (!it->second) {
        it = st.legs.erase(it);
        continue;
      }
      self->monitor(it->second);
      ++it;
    }
    logger()->warn("facility={} event=resumed legs={}", facility, st.legs.size());
  } else {
    st.data = fresh_state(*st.ctx, facility);
  }
  register_names(self);
  publish(self);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& [n, leg] : st.legs) {
      if (leg.address() != msg.source)
        continue;
      auto number = n;
      auto c = find(self, number);
      auto call_id = c ? c->call_id : std::string{};
      logger()->warn("facility={} channel={} event=leg_down call={}", st.data.facility, number,
                     call_id);
      // The leg died without giving the channel back: clear the gateway side too.
      if (auto edge = st.ctx->calls->edge(); edge && !call_id.empty()) {
        mgcp::command dl;
        dl.kind = mgcp::verb::dlcx;
        dl.endpoint = channel_endpoint(st.data.span, number, st.data.gateway);
        dl.version = "MGCP 1.0";
        dl.set_param("C", call_id);
        dl.set_param("S", mgcp::trunk::build({mgcp::trunk::signal_kind::rel, {}, {}, 41}));
        self
          ->request(edge, st.ctx->settings.mgcp_request_timeout,
                    actors::mgcp_request{st.data.peer, std::move(dl)})
          .then([](actors::mgcp_reply&) {}, [](caf::error&) {});
      }
      free_channel(self, number, call_id);
      return;
    }
  });
  return {
    [self](hunt_channel& req) -> hunt_result {
      auto& st = self->state;
      hunt_result out;
      if (usable(st.data))
        for (auto& c : st.data.channels)
          if (c.state == channel_state::idle && !st.legs.count(c.number)) {
            set_channel(self, c, channel_state::seized, req.call_id);
            st.legs[c.number] = req.leg;
            self->monitor(req.leg);
            ++st.data.seizures;
            out.ok = true;
            out.channel = c.number;
            out.endpoint = channel_endpoint(st.data.span, c.number, st.data.gateway);
            out.peer = st.data.peer;
            publish(self);
            return out;
          }
      ++st.data.hunt_refused;
      st.ctx->registry
        .get_counter("cms_trunk_hunt_refused_total",
                     "Hunts refused by a facility (no idle channel or facility out of service)",
                     {{"facility", st.data.facility}})
        .inc();
      publish(self);
      return out;
    },
    [self](channel_update& u) {
      auto c = find(self, u.channel);
      if (!c || c->call_id != u.call_id)
        return;
      if (u.state == channel_state::idle) {
        free_channel(self, u.channel, u.call_id);
      } else if (c->state != channel_state::out_of_service) {
        set_channel(self, *c, u.state, u.call_id);
        publish(self);
      }
    },
    [self](actors::inbound_command& in) {
      switch (in.cmd.kind) {
      case mgcp::verb::ntfy:
        return on_notify(self, in);
      case mgcp::verb::rsip:
        return on_rsip(self, in);
      default:
        return respond(self, in, 504, "Command not accepted by a call agent");
      }
    },
    [self](carrier_health& h) {
      auto& st = self->state;
      if (h.gateway != st.data.gateway || h.healthy == st.data.gateway_healthy)
        return;
      st.data.gateway_healthy = h.healthy;
      logger()->warn("facility={} event=carrier_{} gateway={}", st.data.facility,
                     h.healthy ? "up" : "down", h.gateway);
      refresh(self, true);
      publish(self);
    },
    [self](carry_facility& m) {
      auto& st = self->state;
      if (m.when_idle) {
        st.data.revert_pending = true;
        publish(self);
        maybe_revert(self);
        return;
      }
      if (m.gateway != st.data.gateway)
        move_to(self, m.gateway, m.peer, m.healthy);
    },
    [self](atom::status) { return status_json(self); },
  };
}

} // namespace cms::trunks
