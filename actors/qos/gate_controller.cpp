#include "actors/qos/gate_controller.hpp"

#include "actors/type_ids.hpp"
#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

namespace cms::qos {

namespace {

using self_ptr = caf::stateful_actor<gate_controller_state>*;
using cops::command_status;
using cops::gate_command;
using cops::gate_command_type;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("qos");
  return l;
}

metrics::counter& counter(self_ptr self, const std::string& name, const std::string& help,
                          const std::string& result = {}) {
  metrics::label_set labels{{"cmts", self->state.settings.cmts}};
  if (!result.empty())
    labels.push_back({"result", result});
  return self->state.metrics->get_counter(name, help, labels);
}

void count(self_ptr self, const char* name, const char* help, const std::string& result = {}) {
  if (self->state.metrics)
    counter(self, name, help, result).inc();
}

void publish_gauges(self_ptr self) {
  auto& st = self->state;
  if (!st.metrics)
    return;
  metrics::label_set labels{{"cmts", st.settings.cmts}};
  st.metrics
    ->get_gauge("cms_dqos_gates", "Gates this node's gate controller holds, per CMTS", labels)
    .set(static_cast<std::int64_t>(st.gates.size()));
  st.metrics
    ->get_gauge("cms_dqos_cmts_ready", "1 while the COPS connection to the CMTS is ready", labels)
    .set(st.ready ? 1 : 0);
}

/// Sends through the session; the outcome comes back as command_done{token} on this actor.
void send_command(self_ptr self, gate_command cmd, std::uint64_t token) {
  auto& st = self->state;
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self->ctrl());
  if (!st.session) {
    cops::command_outcome o;
    o.status = command_status::not_ready;
    self->send(self, command_done{token, o});
    return;
  }
  st.session->send(std::move(cmd), [weak, token](const cops::command_outcome& o) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), command_done{token, o});
  });
}

void send_for_gate(self_ptr self, gate_command_type kind, std::uint32_t gate_id,
                   bool audit = false) {
  gate_command cmd;
  cmd.command = kind;
  cmd.gate_id = gate_id;
  auto token = self->state.next_token++;
  self->state.gate_requests[token] = {gate_id, kind, audit};
  send_command(self, std::move(cmd), token);
}

void tell_call_closed(self_ptr self, std::uint32_t gate_id, const known_gate& g, std::string why,
                      std::uint16_t subcode) {
  if (g.call)
    self->send(g.call, gate_closed{g.call_id, gate_id, std::move(why), subcode});
}

/// Every gate the controller knows, checked against the CMTS.
void audit(self_ptr self) {
  auto& st = self->state;
  ++st.audits;
  std::size_t deletes = 0;
  for (auto& [id, g] : st.gates) {
    if (g.deleting) {
      ++deletes;
      send_for_gate(self, gate_command_type::gate_delete, id, true);
    } else {
      send_for_gate(self, gate_command_type::gate_info, id, true);
    }
  }
  logger()->info("cmts={} event=gate_audit gates={} deletes={}", st.settings.cmts, st.gates.size(),
                 deletes);
  count(self, "cms_dqos_audits_total", "Gate audits run after a COPS (re)connection or takeover");
}

void start_session(self_ptr self) {
  auto& st = self->state;
  if (st.session || !st.io)
    return;
  auto gen = ++st.generation;
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self->ctrl());
  auto post = [weak](auto msg) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), std::move(msg));
  };
  cops::session_handlers h;
  h.connected = [post, gen] { post(session_ready{gen}); };
  h.lost = [post, gen](const std::string& why) { post(session_lost{gen, why}); };
  h.gate_event = [post, gen](const gate_command& c) { post(session_gate_event{gen, c}); };
  h.log = [cmts = st.settings.cmts](const std::string& line) {
    logger()->info("cmts={} cops=\"{}\"", cmts, line);
  };
  st.session = cops::gate_controller_session::create(*st.io, st.settings.session, std::move(h));
  st.session->start();
  logger()->info("cmts={} event=cops_session_started address={}:{}", st.settings.cmts,
                 st.settings.session.cmts_address, st.settings.session.cmts_port);
}

void stop_session(self_ptr self) {
  auto& st = self->state;
  if (!st.session)
    return;
  st.session->stop();
  st.session.reset();
  st.ready = false;
  ++st.generation;
  logger()->info("cmts={} event=cops_session_stopped", st.settings.cmts);
}

void on_set_done(self_ptr self, gate_controller_state::pending_set p,
                 const cops::command_outcome& o) {
  auto& st = self->state;
  gate_outcome out;
  out.status = cops::to_string(o.status);
  if (o.status == command_status::ack && o.answer.gate_id) {
    out.ok = true;
    out.gate_id = *o.answer.gate_id;
    known_gate g;
    g.call_id = p.request.call_id;
    g.half = p.request.half;
    g.subscriber = p.request.subscriber;
    g.call = p.request.call;
    if (g.call)
      self->monitor(g.call);
    st.gates[out.gate_id] = std::move(g);
  } else if (o.status == command_status::err && o.answer.error) {
    out.error_code = o.answer.error->code;
    out.error_subcode = o.answer.error->subcode;
  }
  logger()->info("cmts={} call={} event=gate_set status={} gate_id={:08x} error={}",
                 st.settings.cmts, p.request.call_id, out.status, out.gate_id, out.error_code);
  count(self, "cms_dqos_gate_sets_total", "Gate-Set requests by outcome", out.status);
  publish_gauges(self);
  p.promise.deliver(std::move(out));
}

void on_gate_done(self_ptr self, gate_controller_state::gate_request t,
                  const cops::command_outcome& o) {
  auto& st = self->state;
  auto it = st.gates.find(t.gate_id);
  if (it == st.gates.end())
    return;
  const bool unknown_gate =
    o.status == command_status::err && o.answer.error &&
    o.answer.error->code == static_cast<std::uint16_t>(cops::pc_error::unknown_gate_id);
  if (t.kind == gate_command_type::gate_delete) {
    // Acked, or the CMTS no longer has it: either way it is gone. Anything else (timeout, lost
    // connection) keeps it for the next connection's audit.
    if (o.status == command_status::ack || unknown_gate) {
      logger()->info("cmts={} call={} event=gate_deleted gate_id={:08x} at_audit={}",
                     st.settings.cmts, it->second.call_id, t.gate_id, t.audit);
      if (t.audit)
        ++st.audit_deletes;
      st.gates.erase(it);
    }
    count(self, "cms_dqos_gate_deletes_total", "Gate-Delete requests by outcome",
          cops::to_string(o.status));
  } else if (t.kind == gate_command_type::gate_info) {
    if (unknown_gate && !it->second.deleting) {
      ++st.audit_lost;
      logger()->warn("cmts={} call={} event=gate_lost gate_id={:08x}", st.settings.cmts,
                     it->second.call_id, t.gate_id);
      tell_call_closed(self, t.gate_id, it->second, "lost", 0);
      st.gates.erase(it);
    } else if (unknown_gate) {
      st.gates.erase(it);
    }
  }
  publish_gauges(self);
}

std::string status_json(self_ptr self) {
  auto& st = self->state;
  boost::json::array gates;
  for (const auto& [id, g] : st.gates)
    gates.push_back({{"gate_id", id},
                     {"call_id", g.call_id},
                     {"half", g.half == half_call::originating ? "orig" : "term"},
                     {"subscriber", cops::ipv4_to_string(g.subscriber)},
                     {"committed", g.committed},
                     {"deleting", g.deleting}});
  boost::json::object o{{"cmts", st.settings.cmts},
                        {"address", st.settings.session.cmts_address},
                        {"port", st.settings.session.cmts_port},
                        {"active", st.active},
                        {"ready", st.ready},
                        {"gates", std::move(gates)},
                        {"audits", st.audits},
                        {"audit_deletes", st.audit_deletes},
                        {"audit_lost", st.audit_lost},
                        {"gate_closes", st.closes}};
  if (st.session) {
    auto c = st.session->counters();
    o["session"] = {
      {"commands", c.commands}, {"acks", c.acks},           {"errs", c.errs},
      {"timeouts", c.timeouts}, {"connects", c.connects},   {"reconnects", c.reconnects},
      {"losses", c.losses},     {"malformed", c.malformed}, {"keepalives", c.keepalives}};
  }
  return boost::json::serialize(o);
}

} // namespace

gate_controller_state::~gate_controller_state() {
  if (session)
    session->stop();
}

caf::behavior gate_controller(self_ptr self, controller_settings settings,
                              boost::asio::io_context* io, metrics::registry* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.io = io;
  st.metrics = metrics;
  publish_gauges(self);
  self->set_down_handler([self](caf::down_msg& msg) {
    // A call actor is gone: the gates it still holds are deleted (its release would have asked).
    auto& st = self->state;
    for (auto& [id, g] : st.gates) {
      if (!g.call || g.call.address() != msg.source || g.deleting)
        continue;
      g.deleting = true;
      g.call = nullptr;
      logger()->warn("cmts={} call={} event=gate_of_vanished_call gate_id={:08x}", st.settings.cmts,
                     g.call_id, id);
      if (st.ready)
        send_for_gate(self, gate_command_type::gate_delete, id);
    }
  });
  return {
    [self](atom::role_changed, ha::role r, std::uint64_t epoch) {
      auto& st = self->state;
      const bool active = r == ha::role::active;
      st.epoch = epoch;
      if (active && !st.active) {
        st.active = true;
        start_session(self);
      } else if (!active && st.active) {
        st.active = false;
        stop_session(self);
        // The peer is (or will be) active and owns these gates through the calls it adopts.
        logger()->info("cmts={} event=gates_handed_over gates={}", st.settings.cmts,
                       st.gates.size());
        st.gates.clear();
      }
      publish_gauges(self);
    },
    [self](gate_set_request& r) -> caf::result<gate_outcome> {
      auto& st = self->state;
      if (!st.active || !st.session || !st.ready) {
        gate_outcome out;
        out.status = !st.active ? "not_active" : "not_ready";
        count(self, "cms_dqos_gate_sets_total", "Gate-Set requests by outcome", out.status);
        return out;
      }
      auto cmd = make_gate_set(st.settings.gates, r);
      auto token = st.next_token++;
      auto rp = self->make_response_promise<gate_outcome>();
      st.pending_sets.emplace(token, gate_controller_state::pending_set{rp, std::move(r)});
      send_command(self, std::move(cmd), token);
      return rp;
    },
    [self](gate_delete_request& r) {
      auto& st = self->state;
      auto it = st.gates.find(r.gate_id);
      if (it == st.gates.end()) {
        // Not ours (set before a takeover and never adopted, or already closed): delete it anyway,
        // the call that names it is over.
        known_gate g;
        g.call_id = r.call_id;
        it = st.gates.emplace(r.gate_id, std::move(g)).first;
      }
      it->second.deleting = true;
      it->second.call = nullptr;
      if (st.ready)
        send_for_gate(self, gate_command_type::gate_delete, r.gate_id);
      publish_gauges(self);
    },
    [self](gate_adopt& a) {
      auto& st = self->state;
      auto& g = st.gates[a.gate_id];
      g.call_id = a.call_id;
      g.half = a.half;
      g.subscriber = a.subscriber;
      g.call = a.call;
      g.deleting = false;
      if (g.call)
        self->monitor(g.call);
      logger()->info("cmts={} call={} event=gate_adopted gate_id={:08x}", st.settings.cmts,
                     a.call_id, a.gate_id);
      if (st.ready) // already connected: audit this one now
        send_for_gate(self, gate_command_type::gate_info, a.gate_id);
      publish_gauges(self);
    },
    [self](session_ready& e) {
      auto& st = self->state;
      if (e.generation != st.generation)
        return;
      st.ready = true;
      logger()->info("cmts={} event=cops_ready", st.settings.cmts);
      audit(self);
      publish_gauges(self);
    },
    [self](session_lost& e) {
      auto& st = self->state;
      if (e.generation != st.generation)
        return;
      st.ready = false;
      logger()->warn("cmts={} event=cops_lost reason=\"{}\" gates={}", st.settings.cmts, e.reason,
                     st.gates.size());
      publish_gauges(self);
    },
    [self](session_gate_event& e) {
      auto& st = self->state;
      if (e.generation != st.generation || !e.event.gate_id)
        return;
      auto id = *e.event.gate_id;
      auto it = st.gates.find(id);
      if (it == st.gates.end())
        return;
      if (e.event.command == gate_command_type::gate_open) {
        it->second.committed = true;
        return;
      }
      if (e.event.command == gate_command_type::gate_close) {
        ++st.closes;
        auto sub = e.event.reason ? e.event.reason->subcode : std::uint16_t{0};
        logger()->warn("cmts={} call={} event=gate_closed_by_cmts gate_id={:08x} subcode={}",
                       st.settings.cmts, it->second.call_id, id, sub);
        count(self, "cms_dqos_gate_closes_total", "Unsolicited Gate-Close from the CMTS");
        if (!it->second.deleting)
          tell_call_closed(self, id, it->second, "gate_close", sub);
        st.gates.erase(it);
        publish_gauges(self);
      }
    },
    [self](command_done& d) {
      auto& st = self->state;
      if (auto it = st.pending_sets.find(d.token); it != st.pending_sets.end()) {
        auto p = std::move(it->second);
        st.pending_sets.erase(it);
        on_set_done(self, std::move(p), d.outcome);
        return;
      }
      auto& tokens = st.gate_requests;
      if (auto it = tokens.find(d.token); it != tokens.end()) {
        auto t = it->second;
        tokens.erase(it);
        on_gate_done(self, t, d.outcome);
      }
    },
    [self](atom::status) -> std::string { return status_json(self); },
  };
}

} // namespace cms::qos
