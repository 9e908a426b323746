#include "actors/trunks/trunk_leg.hpp"

#include "actors/calls/call_protocol.hpp"
#include "actors/calls/mgcp_edge.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/mgcp/trunk_package.hpp"

#include <spdlog/fmt/fmt.h>

namespace cms::trunks {

namespace {

using self_ptr = caf::stateful_actor<trunk_leg_state>*;
using line_reply = actors::line_reply;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("trunk_leg");
  return l;
}

bool ok_code(const actors::mgcp_reply& m) {
  return m.ok() && m.rsp.code >= 200 && m.rsp.code < 300;
}

line_reply failed(int cause, const actors::mgcp_reply* m = nullptr) {
  line_reply r;
  r.ok = false;
  r.cause = cause;
  r.mgcp_code = m && m->ok() ? m->rsp.code : 0;
  r.unreachable = !m || !m->ok();
  return r;
}

/// Sends a command on the held channel; `k(mgcp_reply)` runs exactly once.
template <class F>
void send_mgcp(self_ptr self, mgcp::command cmd, F k) {
  auto& st = self->state;
  auto edge = st.ctx->calls->edge();
  if (!edge || st.held.channel == 0) {
    actors::mgcp_reply r;
    r.fail = actors::mgcp_reply::failure::stopped;
    k(r);
    return;
  }
  self
    ->request<caf::message_priority::high>(edge, st.ctx->settings.mgcp_request_timeout,
                                           actors::mgcp_request{st.held.peer, std::move(cmd)})
    .then([k](actors::mgcp_reply& r) mutable { k(r); },
          [k](caf::error&) mutable {
            actors::mgcp_reply r;
            r.fail = actors::mgcp_reply::failure::timeout;
            k(r);
          });
}

mgcp::command make(self_ptr self, mgcp::verb v) {
  mgcp::command cmd;
  cmd.kind = v;
  cmd.endpoint = self->state.held.endpoint;
  cmd.version = "MGCP 1.0";
  return cmd;
}

std::string next_request_id(self_ptr self) {
  auto& st = self->state;
  return st.call_id.substr(0, 12) + fmt::format("{:04x}", ++st.request_counter & 0xffff);
}

std::string signal(mgcp::trunk::signal_kind k, int cause = 0) {
  mgcp::trunk::pstn_event e;
  e.kind = k;
  e.cause = cause;
  return mgcp::trunk::build(e);
}

void notify_call(self_ptr self, actors::line_event_kind kind, std::string digits = {},
                 int cause = 0) {
  auto& st = self->state;
  if (!st.call)
    return;
  actors::line_event ev;
  ev.call_id = st.call_id;
  ev.endpoint = st.held.endpoint;
  ev.kind = kind;
  ev.digits = std::move(digits);
  ev.cause = cause;
  // A request, as the endpoint actors do: the call answers every line_event with a bool.
  self->request(st.call, st.ctx->calls->settings.line_request_timeout, std::move(ev))
    .then([](bool) {}, [](caf::error&) {});
}

/// Gives the channel back to its trunk actor.
void give_back(self_ptr self) {
  auto& st = self->state;
  if (st.held.channel == 0)
    return;
  if (auto trunk = st.ctx->trunk(st.held.facility))
    self->send(trunk, channel_update{st.held.channel, st.call_id, channel_state::idle});
  st.held = leg_channel{};
  st.connection_id.clear();
}

void done(self_ptr self) {
  give_back(self);
  self->quit();
}

/// Clears the PSTN side with `cause` (unless the far end released already), then ends the leg.
void finish(self_ptr self, int cause) {
  auto& st = self->state;
  if (st.held.channel == 0 || st.lost || st.pstn_released) {
    if (!st.connection_id.empty() && !st.lost) {
      auto dl = make(self, mgcp::verb::dlcx);
      dl.set_param("C", st.call_id);
      dl.set_param("I", st.connection_id);
      send_mgcp(self, std::move(dl), [self](const actors::mgcp_reply&) { done(self); });
      return;
    }
    return done(self);
  }
  mgcp::command cmd;
  if (!st.connection_id.empty()) {
    cmd = make(self, mgcp::verb::dlcx);
    cmd.set_param("C", st.call_id);
    cmd.set_param("I", st.connection_id);
  } else {
    cmd = make(self, mgcp::verb::rqnt);
    cmd.set_param("X", next_request_id(self));
    cmd.set_param("N", st.ctx->calls->settings.notified_entity);
    cmd.set_param("R", "");
  }
  cmd.set_param("S", signal(mgcp::trunk::signal_kind::rel, cause));
  send_mgcp(self, std::move(cmd), [self](const actors::mgcp_reply&) { done(self); });
}

/// Hunts the next candidate facility; `k(true)` with st.held set, `k(false)` when none is left.
void hunt_next(self_ptr self, std::function<void(bool)> k) {
  auto& st = self->state;
  while (!st.candidates.empty() && st.attempts < st.ctx->settings.max_setup_attempts) {
    auto c = st.candidates.front();
    st.candidates.erase(st.candidates.begin());
    auto trunk = st.ctx->trunk(c.facility);
    if (!trunk)
      continue;
    self->request(trunk, std::chrono::seconds{5}, hunt_channel{st.call_id, caf::actor{self}})
      .then(
        [self, k, c](hunt_result& r) {
          auto& st = self->state;
          if (!r.ok)
            return hunt_next(self, k);
          ++st.attempts;
          st.held = leg_channel{c.facility, r.channel, r.endpoint, r.peer};
          st.route = "offnet:" + c.prefix + ":" + c.trunk_group + "/" + c.facility;
          st.lost = false;
          k(true);
        },
        [self, k](caf::error&) { hunt_next(self, k); });
    return;
  }
  k(false);
}

void crcx(self_ptr self, actors::create_connection req, caf::response_promise rp);

/// The seizure on the held channel failed before the PSTN answered: retry on the next candidate.
void setup_failed(self_ptr self, actors::create_connection req, caf::response_promise rp,
                  const actors::mgcp_reply* m) {
  auto& st = self->state;
  if (st.incoming || st.answered) {
    auto r = failed(actors::cause::temporary_failure, m);
    rp.deliver(r);
    return;
  }
  logger()->warn("call={} event=seizure_failed endpoint={} code={} lost={}", st.call_id,
                 st.held.endpoint, m && m->ok() ? m->rsp.code : 0, st.lost);
  st.ctx->registry
    .get_counter("cms_trunk_setup_retries_total",
                 "Outgoing seizures retried on another facility (gateway failed or refused)",
                 {{"facility", st.held.facility}})
    .inc();
  if (!st.lost && st.held.channel != 0) {
    // The gateway may have created the connection after all: delete it (best effort).
    auto dl = make(self, mgcp::verb::dlcx);
    dl.set_param("C", st.call_id);
    send_mgcp(self, std::move(dl), [](const actors::mgcp_reply&) {});
  }
  give_back(self);
  hunt_next(self, [self, req, rp](bool ok) mutable {
    if (!ok) {
      rp.deliver(failed(cause::no_circuit));
      return;
    }
    crcx(self, req, rp);
  });
}

void crcx(self_ptr self, actors::create_connection req, caf::response_promise rp) {
  auto& st = self->state;
  auto gen = ++st.crcx_generation;
  st.crcx_pending = true;
  auto cmd = make(self, mgcp::verb::crcx);
  cmd.set_param("C", req.call_id);
  cmd.set_param("L", st.ctx->calls->settings.local_connection_options);
  cmd.set_param("M", std::string{mgcp::to_string(req.mode)});
  cmd.set_param("N", st.ctx->calls->settings.notified_entity);
  cmd.set_param("X", next_request_id(self));
  cmd.set_param("R", std::string{mgcp::trunk::call_events});
  if (!st.incoming) {
    mgcp::trunk::pstn_event sup;
    sup.called = st.called;
    sup.calling = mgcp::trunk::valid_number(st.calling) ? st.calling : std::string{};
    cmd.set_param("S", mgcp::trunk::build(sup));
  }
  if (!req.remote_sdp.empty())
    cmd.sdp = req.remote_sdp;
  // Kept so that a channel lost while the CRCX is out can retry at once (channel_lost).
  auto retry = [self, req, rp, gen]() mutable {
    auto& st = self->state;
    if (gen != st.crcx_generation || !st.crcx_pending)
      return;
    ++st.crcx_generation;
    st.crcx_pending = false;
    setup_failed(self, req, rp, nullptr);
  };
  self->state.pending_retry = retry;
  send_mgcp(self, std::move(cmd), [self, req, rp, gen](const actors::mgcp_reply& m) mutable {
    auto& st = self->state;
    if (gen != st.crcx_generation)
      return; // given up on already (channel lost): a retry is under way
    st.crcx_pending = false;
    st.pending_retry = nullptr;
    auto id = m.ok() ? m.rsp.param("I") : nullptr;
    if (ok_code(m) && id && !id->empty()) {
      st.connection_id = *id;
      if (auto trunk = st.ctx->trunk(st.held.facility))
        self->send(trunk, channel_update{st.held.channel, st.call_id, channel_state::in_call});
      line_reply r;
      r.connection_id = *id;
      r.sdp = m.rsp.sdp ? *m.rsp.sdp : std::string{};
      rp.deliver(r);
      return;
    }
    setup_failed(self, req, rp, &m);
  });
}

/// RQNT on the channel with signal `s` (and the release event armed).
void request_signal(self_ptr self, std::string s, caf::response_promise rp) {
  auto& st = self->state;
  auto cmd = make(self, mgcp::verb::rqnt);
  cmd.set_param("N", st.ctx->calls->settings.notified_entity);
  cmd.set_param("X", next_request_id(self));
  cmd.set_param("R", "X-TR/rel(N)");
  cmd.set_param("S", std::move(s));
  send_mgcp(self, std::move(cmd), [rp](const actors::mgcp_reply& m) mutable {
    rp.deliver(ok_code(m) ? line_reply{} : failed(actors::cause::temporary_failure, &m));
  });
}

/// The line-like behaviour both directions share.
caf::message_handler leg_handlers(self_ptr self) {
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (!st.call || msg.source != st.call.address())
      return;
    logger()->warn("call={} event=call_actor_down endpoint={}", st.call_id, st.held.endpoint);
    st.call = nullptr;
    finish(self, actors::cause::temporary_failure);
  });
  return {
    [self](actors::create_connection& req) -> caf::result<line_reply> {
      auto& st = self->state;
      if (req.call_id != st.call_id || st.held.channel == 0)
        return failed(actors::cause::temporary_failure);
      auto rp = self->make_response_promise<line_reply>();
      crcx(self, std::move(req), rp);
      return rp;
    },
    [self](actors::modify_connection& req) -> caf::result<line_reply> {
      auto& st = self->state;
      if (req.call_id != st.call_id || st.connection_id.empty() || st.lost)
        return failed(actors::cause::temporary_failure);
      auto cmd = make(self, mgcp::verb::mdcx);
      cmd.set_param("C", req.call_id);
      cmd.set_param("I", st.connection_id);
      cmd.set_param("M", std::string{mgcp::to_string(req.mode)});
      if (!req.remote_sdp.empty())
        cmd.sdp = req.remote_sdp;
      auto rp = self->make_response_promise<line_reply>();
      send_mgcp(self, std::move(cmd), [rp](const actors::mgcp_reply& m) mutable {
        line_reply r;
        if (!ok_code(m))
          r = failed(actors::cause::temporary_failure, &m);
        else if (m.rsp.sdp)
          r.sdp = *m.rsp.sdp;
        rp.deliver(r);
      });
      return rp;
    },
    [self](actors::delete_connection& req) -> caf::result<line_reply> {
      auto& st = self->state;
      if (req.call_id != st.call_id)
        return failed(actors::cause::temporary_failure);
      if (st.connection_id.empty())
        return line_reply{};
      if (st.lost) {
        st.connection_id.clear();
        return failed(actors::cause::temporary_failure);
      }
      auto cmd = make(self, mgcp::verb::dlcx);
      cmd.set_param("C", req.call_id);
      cmd.set_param("I", st.connection_id);
      st.connection_id.clear();
      auto rp = self->make_response_promise<line_reply>();
      send_mgcp(self, std::move(cmd), [rp](const actors::mgcp_reply& m) mutable {
        line_reply r;
        if (!ok_code(m))
          r = failed(actors::cause::temporary_failure, &m);
        else if (auto p = m.rsp.param("P"))
          r.stats = *p;
        rp.deliver(r);
      });
      return rp;
    },
    [self](actors::apply_treatment& t) -> caf::result<line_reply> {
      auto& st = self->state;
      if (t.call_id != st.call_id || st.held.channel == 0)
        return failed(actors::cause::temporary_failure);
      if (!st.incoming)
        return line_reply{}; // the PSTN call was placed with the CRCX (X-TR/sup)
      switch (t.what) {
      case actors::treatment::dial_tone:
        // The call may ask before the manager's originate reply reached us.
        if (!st.call) {
          st.call = caf::actor_cast<caf::actor>(self->current_sender());
          if (st.call)
            self->monitor(st.call);
        }
        // A PSTN seizure arrives with its number: report it as dialled at once.
        notify_call(self, actors::line_event_kind::digits, st.called);
        return line_reply{};
      case actors::treatment::ringback: {
        auto rp = self->make_response_promise<line_reply>();
        request_signal(self, signal(mgcp::trunk::signal_kind::alt), rp);
        return rp;
      }
      case actors::treatment::connected: {
        st.answered = true;
        auto rp = self->make_response_promise<line_reply>();
        request_signal(self, signal(mgcp::trunk::signal_kind::ans), rp);
        return rp;
      }
      case actors::treatment::ringing:
        return line_reply{};
      }
      return line_reply{};
    },
    [self](actors::release_line& r) {
      if (r.call_id == self->state.call_id)
        finish(self, r.cause);
    },
    [self](pstn_signal& s) {
      auto& st = self->state;
      logger()->debug("call={} event=pstn_{} cause={} endpoint={}", st.call_id, s.event, s.cause,
                      st.held.endpoint);
      if (s.event == "ans") {
        if (!st.incoming && !st.answered) {
          st.answered = true;
          notify_call(self, actors::line_event_kind::off_hook);
        }
      } else if (s.event == "rel") {
        st.pstn_released = true;
        notify_call(self, actors::line_event_kind::on_hook, {},
                    s.cause == 0 ? actors::cause::normal_clearing : s.cause);
      }
    },
    [self](channel_lost& m) {
      auto& st = self->state;
      if (m.channel != st.held.channel)
        return;
      st.lost = true;
      if (st.crcx_pending && st.pending_retry) {
        auto retry = st.pending_retry;
        st.pending_retry = nullptr;
        retry();
        return;
      }
      logger()->warn("call={} event=channel_lost endpoint={}", st.call_id, st.held.endpoint);
      notify_call(self, actors::line_event_kind::failed);
    },
  };
}

} // namespace

caf::behavior outgoing_leg(self_ptr self, std::shared_ptr<trunk_context> ctx, seize_trunk req,
                           std::vector<hunt_candidate> candidates) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.call_id = req.call_id;
  st.called = req.called;
  st.calling = req.calling;
  st.call = req.call;
  st.candidates = std::move(candidates);
  if (st.call)
    self->monitor(st.call);
  return leg_handlers(self).or_else(caf::message_handler{
    [self](hunt_atom) -> caf::result<trunk_seizure> {
      auto rp = self->make_response_promise<trunk_seizure>();
      hunt_next(self, [self, rp](bool ok) mutable {
        auto& st = self->state;
        trunk_seizure s;
        if (!ok) {
          s.cause = cause::no_circuit;
          rp.deliver(s);
          self->quit();
          return;
        }
        s.ok = true;
        s.leg = caf::actor{self};
        s.endpoint = st.held.endpoint;
        s.route = st.route;
        rp.deliver(s);
      });
      return rp;
    },
  });
}

caf::behavior incoming_leg(self_ptr self, std::shared_ptr<trunk_context> ctx, leg_channel held,
                           std::string call_id, std::string called, std::string calling) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.incoming = true;
  st.held = std::move(held);
  st.call_id = std::move(call_id);
  st.called = std::move(called);
  st.calling = std::move(calling);
  auto manager = st.ctx->calls->manager();
  auto fail = [self] {
    logger()->error("call={} event=originate_failed endpoint={}", self->state.call_id,
                    self->state.held.endpoint);
    finish(self, actors::cause::temporary_failure);
  };
  if (!manager) {
    fail();
  } else {
    self
      ->request(manager, st.ctx->calls->settings.line_request_timeout,
                actors::originate_call{st.call_id, st.held.endpoint, st.calling, caf::actor{self}})
      .then(
        [self](caf::actor& call) {
          if (self->state.call == call)
            return;
          self->state.call = call;
          self->monitor(call);
        },
        [fail](caf::error&) { fail(); });
  }
  return leg_handlers(self);
}

} // namespace cms::trunks
