#include "actors/calls/call_actor.hpp"

#include "actors/calls/call_gates.hpp"
#include "actors/calls/services/emergency.hpp"

#include "actors/ha/takeover_protocol.hpp"
#include "actors/qos/gate_protocol.hpp"
#include "actors/calls/state_catalog.hpp"
#include "actors/trunks/trunk_protocol.hpp"
#include "actors/type_ids.hpp"
#include "persistence/billing_record.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/base/q850.hpp"

namespace cms::actors {

namespace {

using self_ptr = caf::stateful_actor<call_actor_state>*;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("call");
  return l;
}

/// An attempt of the emergency window that dialled no emergency code was refused by the gate: it
/// is counted as shed there, never billed (it never became a call).
bool billed(const call_state& d) { return !d.emergency_only || d.emergency; }

/// Emergency calls (and the window's attempts) go ahead of ordinary traffic at every actor.
bool urgent(const call_state& d) { return d.emergency || d.emergency_only; }

void update(self_ptr self) {
  if (auto manager = self->state.ctx->manager())
    self->send(manager, call_update{self->state.data});
}

/// `at_ms` 0: now. A call resumed at takeover re-bills its earlier events with their own times
/// (the outbox keeps the first record of a record id, so a re-billed event is counted once).
billing::billing_record make_record(self_ptr self, const char* event, std::int64_t at_ms) {
  auto& d = self->state.data;
  billing::billing_record r;
  r.record_id = d.call_id + ":" + event;
  r.event = event;
  r.call_id = d.call_id;
  r.calling_number = d.calling_number;
  r.called_number = d.called_number;
  r.originating = d.originating;
  r.terminating = d.terminating;
  r.route = d.route;
  r.timestamp_ms = at_ms != 0 ? at_ms : utc_ms();
  r.release_cause = d.cause;
  if (!d.orig_stats.empty() || !d.term_stats.empty())
    r.connection_stats = "orig: " + d.orig_stats + "; term: " + d.term_stats;
  return r;
}

void bill(self_ptr self, const char* event, std::int64_t at_ms = 0) {
  auto& d = self->state.data;
  auto r = make_record(self, event, at_ms);
  if (auto outbox = self->state.ctx->outbox())
    self->send(outbox, std::move(r));
  else
    logger()->error("call={} event=billing_lost record={} reason=\"no outbox\"", d.call_id, event);
}

void cancel_timers(self_ptr self) { ++self->state.timer_generation; }

void start_timer(self_ptr self, call_timer_kind kind, std::chrono::milliseconds after) {
  auto gen = ++self->state.timer_generation;
  self->delayed_send(self, after, call_timeout{kind, gen});
}

/// Asks a leg's endpoint; `k(line_reply)` runs exactly once (an actor error becomes a failed
/// reply, so every continuation has one path for "it did not work").
template <class Msg, class F>
void ask_line(self_ptr self, const caf::actor& line, Msg msg, F k) {
  if (!line) {
    line_reply r;
    r.ok = false;
    r.cause = cause::temporary_failure;
    k(r);
    return;
  }
  auto timeout = self->state.ctx->settings.line_request_timeout;
  auto pending = urgent(self->state.data)
                   ? self->request<caf::message_priority::high>(line, timeout, std::move(msg))
                   : self->request(line, timeout, std::move(msg));
  pending.then([k](line_reply& r) mutable { k(r); },
               [k](caf::error&) mutable {
                 line_reply r;
                 r.ok = false;
                 r.unreachable = true;
                 r.cause = cause::temporary_failure;
                 k(r);
               });
}

/// Bills `event` and runs `k` once the outbox says the record is durable: on both nodes of the
/// pair, or on this one alone while the standby is absent (billing_outbox.hpp). The wait is
/// bounded there and here; `k` always runs.
template <class F>
void bill_then(self_ptr self, const char* event, F k) {
  auto outbox = self->state.ctx->outbox();
  if (!outbox) {
    logger()->error("call={} event=billing_lost record={} reason=\"no outbox\"",
                    self->state.data.call_id, event);
    k();
    return;
  }
  self->request(outbox, std::chrono::seconds{5}, atom::commit_v, make_record(self, event, 0))
    .then([k](std::uint64_t) mutable { k(); },
          [self, k](caf::error& err) mutable {
            logger()->warn("call={} event=billing_ack_missing error=\"{}\"",
                           self->state.data.call_id, self->system().render(err));
            k();
          });
}

void finish(self_ptr self) {
  auto& st = self->state;
  auto& d = st.data;
  d.phase = call_phase::ended;
  d.ended_ms = utc_ms();
  if (d.answered_ms == 0 && billed(d))
    st.ctx->metrics.failures(d.cause).inc();
  if (st.orig)
    self->send(st.orig, release_line{d.call_id, d.cause, st.orig_tone});
  if (st.term)
    self->send(st.term, release_line{d.call_id, d.cause, {}});
  logger()->info("call={} event=ended cause={} calling={} called={} answered={} emergency={}",
                 d.call_id, d.cause, d.calling_number, d.called_number, d.answered_ms != 0,
                 d.emergency);
  if (!billed(d)) {
    update(self);
    self->quit();
    return;
  }
  // The final update (the call leaves the replicated image) only once signaling_stop is held by
  // both nodes: a takeover before that still finds the call and bills its end itself.
  bill_then(self, "signaling_stop", [self] {
    update(self);
    self->quit();
  });
}

/// Ends the call: delete both connections (collecting P:), then bill and release both lines.
/// `tone` is what the caller hears if still off hook (L/bz busy, L/ro reorder, or nothing).
void release(self_ptr self, int why, std::string tone) {
  auto& st = self->state;
  auto& d = st.data;
  if (d.phase == call_phase::releasing || d.phase == call_phase::ended)
    return;
  cancel_timers(self);
  d.phase = call_phase::releasing;
  d.cause = why;
  st.orig_tone = std::move(tone);
  release_gates(self);
  update(self);
  auto del = [self](caf::actor line, bool is_orig) {
    auto& st = self->state;
    ++st.pending_deletes;
    ask_line(self, line, delete_connection{st.data.call_id}, [self, is_orig](const line_reply& r) {
      auto& st = self->state;
      (is_orig ? st.data.orig_stats : st.data.term_stats) = r.stats;
      if (--st.pending_deletes == 0)
        finish(self);
    });
  };
  // Ask even when we never saw a connection id: a CRCX may still be on its way, and the endpoint
  // knows best what it holds.
  if (st.orig)
    del(st.orig, true);
  if (st.term)
    del(st.term, false);
  if (st.pending_deletes == 0)
    finish(self);
}

/// A request to a leg failed during setup or answer.
void leg_failed(self_ptr self, const line_reply& r, bool is_orig) {
  if (r.mgcp_code == 402) { // the line is on hook: the user hung up meanwhile
    release(self, cause::normal_clearing, {});
    return;
  }
  logger()->warn("call={} event=leg_failed leg={} code={} unreachable={}", self->state.data.call_id,
                 is_orig ? "orig" : "term", r.mgcp_code, r.unreachable);
  release(self, cause::temporary_failure, is_orig ? std::string{} : std::string{"L/ro"});
}

bool still(self_ptr self, call_phase p) { return self->state.data.phase == p; }

void answer(self_ptr self) {
  auto& st = self->state;
  cancel_timers(self);
  st.data.phase = call_phase::connected;
  st.data.answered_ms = utc_ms();
  st.ctx->metrics.call_completions.inc();
  bill(self, "call_answer");
  update(self);
  auto id = st.data.call_id;
  ask_line(self, st.orig, modify_connection{id, mgcp::connection_mode::sendrecv, {}},
           [self, id](const line_reply& r) {
             if (!still(self, call_phase::connected))
               return;
             if (!r.ok)
               return leg_failed(self, r, true);
             ask_line(self, self->state.term, apply_treatment{id, treatment::connected},
                      [self, id](const line_reply& r) {
                        if (!still(self, call_phase::connected))
                          return;
                        if (!r.ok)
                          return leg_failed(self, r, false);
                        ask_line(self, self->state.orig, apply_treatment{id, treatment::connected},
                                 [self](const line_reply& r) {
                                   if (still(self, call_phase::connected) && !r.ok)
                                     leg_failed(self, r, true);
                                 });
                      });
           });
}

void alert(self_ptr self) {
  auto& st = self->state;
  auto id = st.data.call_id;
  ask_line(self, st.term, apply_treatment{id, treatment::ringing}, [self, id](const line_reply& r) {
    if (!still(self, call_phase::setting_up))
      return;
    if (!r.ok) {
      if (r.cause == cause::user_busy) // 401: the called line went off hook first
        return release(self, cause::user_busy, "L/bz");
      return leg_failed(self, r, false);
    }
    self->state.term_alerted = true;
    if (self->state.answered_early)
      return answer(self);
    ask_line(self, self->state.orig, apply_treatment{id, treatment::ringback},
             [self](const line_reply& r) {
               auto& st = self->state;
               if (!still(self, call_phase::setting_up))
                 return;
               if (!r.ok)
                 return leg_failed(self, r, true);
               st.data.phase = call_phase::alerting;
               st.data.alerting_ms = utc_ms();
               auto latency =
                 std::chrono::duration<double, std::milli>(self->clock().now() - st.dialled_at);
               st.ctx->metrics.setup_latency_ms.observe(latency.count());
               start_timer(self, call_timer_kind::no_answer, st.ctx->settings.no_answer_timeout);
               update(self);
             });
  });
}

void set_up(self_ptr self) {
  auto& st = self->state;
  st.data.phase = call_phase::setting_up;
  update(self);
  auto id = st.data.call_id;
  // DQoS: each leg's gate is set before its CRCX, which carries the Gate ID (call_gates.hpp).
  auto gate_refused = [self](int why) { release(self, why, "L/ro"); };
  reserve_gate(
    self, true, {},
    [self, id, gate_refused](std::uint32_t orig_gate) {
      ask_line(self, self->state.orig,
               create_connection{id, mgcp::connection_mode::recvonly, {}, orig_gate},
               [self, id, gate_refused](const line_reply& r) {
                 auto& st = self->state;
                 if (!still(self, call_phase::setting_up))
                   return;
                 if (!r.ok)
                   return leg_failed(self, r, true);
                 st.data.orig_connection = r.connection_id;
                 st.data.orig_sdp = r.sdp;
                 reserve_gate(
                   self, false, r.sdp,
                   [self, id, sdp = r.sdp](std::uint32_t term_gate) {
                     ask_line(
                       self, self->state.term,
                       create_connection{id, mgcp::connection_mode::sendrecv, sdp, term_gate},
                       [self, id](const line_reply& r) {
                         auto& st = self->state;
                         if (!still(self, call_phase::setting_up))
                           return;
                         if (!r.ok)
                           return leg_failed(self, r, false);
                         st.data.term_connection = r.connection_id;
                         st.data.term_sdp = r.sdp;
                         update(self);
                         ask_line(self, st.orig,
                                  modify_connection{id, mgcp::connection_mode::recvonly, r.sdp},
                                  [self](const line_reply& r) {
                                    if (!still(self, call_phase::setting_up))
                                      return;
                                    if (!r.ok)
                                      return leg_failed(self, r, true);
                                    alert(self);
                                  });
                       });
                   },
                   gate_refused);
               });
    },
    gate_refused);
}

/// Off-net: the trunk router hunts a channel and answers with a trunk leg, which then
/// plays the terminating line (endpoint protocol) for the rest of the call.
void seize_offnet(self_ptr self, caf::actor router, const std::string& number) {
  auto& st = self->state;
  if (!router)
    return release(self, cause::no_route, "L/ro");
  self
    ->request(router, st.ctx->settings.line_request_timeout,
              trunks::seize_trunk{st.data.call_id, number, st.data.calling_number,
                                  caf::actor_cast<caf::actor>(self)})
    .then(
      [self](trunks::trunk_seizure& r) {
        auto& st = self->state;
        if (!still(self, call_phase::routing)) {
          if (r.ok && r.leg) // abandoned meanwhile: give the channel back
            self->send(r.leg, release_line{st.data.call_id, st.data.cause, {}});
          return;
        }
        if (!r.ok || !r.leg)
          return release(self, r.cause != 0 ? r.cause : cause::temporary_failure, "L/ro");
        st.term = r.leg;
        st.data.terminating = r.endpoint;
        if (!r.route.empty())
          st.data.route = r.route;
        self->monitor(r.leg);
        set_up(self);
      },
      [self](caf::error&) {
        if (still(self, call_phase::routing))
          release(self, cause::temporary_failure, "L/ro");
      });
}

void route(self_ptr self, const std::string& number) {
  auto& st = self->state;
  auto& d = st.data;
  d.called_number = number;
  d.phase = call_phase::routing;
  update(self);
  auto decision = st.ctx->plan.resolve(number);
  switch (decision.what) {
  case route_decision::kind::unallocated:
    d.route = "unallocated";
    return release(self, cause::unallocated_number, "L/ro");
  case route_decision::kind::no_route:
    d.route = "no-route";
    return release(self, cause::no_route, "L/ro");
  case route_decision::kind::off_net:
    d.route = decision.route;
    return seize_offnet(self, decision.via, number);
  case route_decision::kind::on_net:
    break;
  }
  d.route = "on-net";
  d.terminating = decision.endpoint;
  if (decision.endpoint == d.originating)
    return release(self, cause::user_busy, "L/bz");
  auto line = st.ctx->directory.find(decision.endpoint);
  if (!line)
    return release(self, cause::temporary_failure, "L/ro");
  self
    ->request(line, st.ctx->settings.line_request_timeout,
              seize_line{d.call_id, caf::actor_cast<caf::actor>(self)})
    .then(
      [self, line](line_reply& r) {
        auto& st = self->state;
        if (!still(self, call_phase::routing)) {
          // Abandoned meanwhile: give the line back if we got it.
          if (r.ok)
            self->send(line, release_line{st.data.call_id, st.data.cause, {}});
          return;
        }
        if (!r.ok)
          return release(self, r.cause, r.cause == cause::user_busy ? "L/bz" : "L/ro");
        st.term = line;
        self->monitor(line);
        set_up(self);
      },
      [self](caf::error&) {
        if (still(self, call_phase::routing))
          release(self, cause::temporary_failure, "L/ro");
      });
}

void on_digits(self_ptr self, std::string digits) {
  auto& st = self->state;
  cancel_timers(self);
  st.data.dialled_ms = utc_ms();
  st.dialled_at = self->clock().now();
  auto m = st.ctx->digit_map.match(digits);
  if (!digits.empty() && digits.back() == 'T')
    digits.pop_back();
  auto& d = st.data;
  d.emergency = services::is_emergency_number(st.ctx->settings.emergency_codes, digits);
  if (d.emergency_only && !d.emergency) {
    // The gate refused this attempt; only an emergency code was allowed in its window.
    d.called_number = digits;
    d.route = "shed";
    return release(self, cause::congestion, "L/ro");
  }
  if (!d.emergency && (m.match != mgcp::digit_match::full || digits.empty())) {
    d.called_number = digits;
    d.route = "incomplete";
    return release(self, cause::invalid_number, "L/ro");
  }
  if (d.emergency) {
    st.ctx->metrics.emergency_calls.inc();
    logger()->warn("call={} event=emergency_call calling={} called={} past_gate={}", d.call_id,
                   d.calling_number, digits, d.emergency_only);
    if (d.emergency_only) {
      // Now a call: counted and billed from its off-hook.
      st.ctx->metrics.emergency_past_gate(st.gate_reason.c_str()).inc();
      st.ctx->metrics.call_attempts.inc();
      bill(self, "signaling_start", d.started_ms);
    }
  }
  route(self, digits);
}

/// Network hold of an answered emergency call: the caller's hook changes ring or reconnect the
/// line; the call stays until the far end releases it.
void hold_caller(self_ptr self) {
  auto& st = self->state;
  st.data.caller_on_hook = true;
  update(self);
  logger()->info("call={} event=network_hold caller={}", st.data.call_id, st.data.originating);
  auto id = st.data.call_id;
  ask_line(self, st.orig, apply_treatment{id, treatment::ringing}, [self](const line_reply& r) {
    auto& st = self->state;
    if (!still(self, call_phase::connected) || !st.data.caller_on_hook || r.ok)
      return;
    if (r.cause == cause::user_busy) { // 401: off hook again before the ringing went out
      st.data.caller_on_hook = false;
      update(self);
      ask_line(self, st.orig, apply_treatment{st.data.call_id, treatment::connected},
               [](const line_reply&) {});
      return;
    }
    // The caller's MTA is gone: the emergency call still holds until the far end releases.
    logger()->warn("call={} event=network_hold_ring_failed code={}", st.data.call_id, r.mgcp_code);
  });
}

void reconnect_caller(self_ptr self) {
  auto& st = self->state;
  st.data.caller_on_hook = false;
  update(self);
  logger()->info("call={} event=network_hold_reconnected caller={}", st.data.call_id,
                 st.data.originating);
  ask_line(self, st.orig, apply_treatment{st.data.call_id, treatment::connected},
           [self](const line_reply& r) {
             if (still(self, call_phase::connected) && !r.ok && r.mgcp_code == 402)
               hold_caller(self); // on hook again meanwhile
           });
}

bool on_line_event(self_ptr self, const line_event& ev) {
  auto& st = self->state;
  auto& d = st.data;
  if (ev.call_id != d.call_id)
    return false;
  if (d.phase == call_phase::releasing || d.phase == call_phase::ended)
    return true; // the release sends each line its next request
  bool from_orig = ev.endpoint == d.originating;
  if (from_orig && (ev.kind == line_event_kind::on_hook || ev.kind == line_event_kind::off_hook)) {
    auto action = services::on_caller_hook(d.emergency, d.phase == call_phase::connected,
                                           d.caller_on_hook, ev.kind == line_event_kind::off_hook);
    if (action == services::hold_action::hold) {
      hold_caller(self);
      return true;
    }
    if (action == services::hold_action::reconnect) {
      reconnect_caller(self);
      return true;
    }
  }
  switch (ev.kind) {
  case line_event_kind::failed:
  case line_event_kind::out_of_service:
    logger()->warn("call={} event=leg_lost leg={} why={}", d.call_id, from_orig ? "orig" : "term",
                   to_string(ev.kind));
    release(self, cause::temporary_failure, from_orig ? std::string{} : std::string{"L/ro"});
    return true;
  case line_event_kind::on_hook:
    if (!from_orig && ev.cause != 0 && d.phase != call_phase::connected) {
      // A trunk leg: the PSTN released before answer (busy, unallocated, congestion...).
      release(self, ev.cause, ev.cause == cause::user_busy ? "L/bz" : "L/ro");
      return true;
    }
    if (from_orig || d.phase == call_phase::connected) {
      // Caller hangs up (abandon before answer included) or either party after answer.
      release(self, cause::normal_clearing, {});
      return true;
    }
    return false;
  case line_event_kind::off_hook:
    if (from_orig)
      return false;
    if (d.phase == call_phase::alerting || (d.phase == call_phase::setting_up && st.term_alerted)) {
      // The called party may answer while the caller's ringback request is on its way.
      answer(self);
      return true;
    }
    if (d.phase == call_phase::setting_up) {
      // Even before the MTA confirmed our ringing request: answer once it has.
      st.answered_early = true;
      return true;
    }
    return false;
  case line_event_kind::digits:
    if (from_orig && d.phase == call_phase::dialling) {
      on_digits(self, ev.digits);
      return true;
    }
    return false;
  }
  return false;
}

/// Down handler and behaviour of a call in progress (new or resumed at takeover).
caf::behavior running(self_ptr self) {
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    bool orig = st.orig && msg.source == st.orig.address();
    bool term = st.term && msg.source == st.term.address();
    if (!orig && !term)
      return;
    logger()->warn("call={} event=line_actor_down leg={} reason=\"{}\"", st.data.call_id,
                   orig ? "orig" : "term", self->system().render(msg.reason));
    (orig ? st.orig : st.term) = nullptr;
    release(self, cause::temporary_failure, orig ? std::string{} : std::string{"L/ro"});
  });
  return {
    [self](line_event& ev) -> bool { return on_line_event(self, ev); },
    [self](end_call& e) { release(self, e.cause, "L/ro"); }, // the node stops: bill it now
    [self](atom::clock_stepped, std::int64_t adjustment_ms, std::int64_t at_ms) {
      auto& d = self->state.data;
      if (!billed(d) || d.phase == call_phase::ended)
        return;
      // One record per step (the step's time names it): a resent step is billed once.
      auto r = make_record(self, "time_change", at_ms);
      r.record_id = d.call_id + ":time_change:" + std::to_string(at_ms);
      r.time_adjustment_ms = adjustment_ms;
      logger()->warn("call={} event=time_change adjustment_ms={}", d.call_id, adjustment_ms);
      if (auto outbox = self->state.ctx->outbox())
        self->send(outbox, std::move(r));
    },
    [self](qos::gate_closed& g) {
      // The CMTS closed (or lost) a gate of this call: its media is no longer authorised.
      auto& d = self->state.data;
      if (g.call_id != d.call_id || d.phase == call_phase::releasing ||
          d.phase == call_phase::ended)
        return;
      logger()->warn("call={} event=gate_closed gate_id={:08x} why={} subcode={}", d.call_id,
                     g.gate_id, g.why, g.subcode);
      release(self, q850::resources_unavailable, "L/ro");
    },
    [self](call_timeout& t) {
      auto& st = self->state;
      if (t.generation != st.timer_generation)
        return;
      if (t.kind == call_timer_kind::dial && still(self, call_phase::dialling)) {
        bool shed = st.data.emergency_only;
        st.data.route = shed ? "shed" : "incomplete";
        release(self, shed ? cause::congestion : cause::invalid_number, "L/ro");
      } else if (t.kind == call_timer_kind::no_answer && still(self, call_phase::alerting)) {
        release(self, cause::no_answer, "L/ro");
      }
    },
  };
}

} // namespace

caf::behavior call_actor(self_ptr self, std::shared_ptr<call_context> ctx, originate_call origin) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.orig = origin.line;
  st.data.call_id = origin.call_id;
  st.data.calling_number = origin.directory_number;
  st.data.originating = origin.endpoint;
  st.data.started_ms = utc_ms();
  st.data.phase = call_phase::dialling;
  st.data.emergency_only = origin.emergency_only;
  if (st.orig)
    self->monitor(st.orig);
  if (origin.emergency_only) {
    // Refused by the gate: only the emergency window, counted and billed if 911 follows.
    if (!origin.gate_reason.empty())
      st.gate_reason = origin.gate_reason;
  } else {
    st.ctx->metrics.call_attempts.inc();
    bill(self, "signaling_start", st.data.started_ms);
  }
  update(self);
  start_timer(self, call_timer_kind::dial,
              origin.emergency_only ? st.ctx->settings.emergency_window
                                    : st.ctx->settings.dial_timeout);
  auto id = st.data.call_id;
  auto tone = origin.emergency_only ? treatment::emergency_dial_tone : treatment::dial_tone;
  ask_line(self, st.orig, apply_treatment{id, tone}, [self](const line_reply& r) {
    if (still(self, call_phase::dialling) && !r.ok)
      leg_failed(self, r, true);
  });
  return running(self);
}

caf::behavior call_actor_resume(self_ptr self, std::shared_ptr<call_context> ctx,
                                call_state state) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.data = std::move(state);
  auto& d = st.data;
  st.orig = st.ctx->directory.find(d.originating);
  if (!d.terminating.empty())
    st.term = st.ctx->directory.find(d.terminating);
  auto me = caf::actor_cast<caf::actor>(self);
  for (auto* leg : {&st.orig, &st.term}) {
    if (!*leg)
      continue;
    self->monitor(*leg);
    self->request(*leg, st.ctx->settings.line_request_timeout, attach_call{d.call_id, me})
      .then([](bool) {}, [](caf::error&) { /* the line's down message ends the call */ });
  }
  adopt_gates(self); // this node's gate controllers audit them (docs/qos.md)
  // Events billed by the old active but perhaps not yet replicated: the outbox keeps one record
  // per record id, so billing them again never counts twice.
  if (billed(d))
    bill(self, "signaling_start", d.started_ms);
  if (d.answered_ms != 0)
    bill(self, "call_answer", d.answered_ms);
  logger()->info("call={} event=resumed phase={} started_ms={}", d.call_id, to_string(d.phase),
                 d.started_ms);
  auto& resumed = st.ctx->metrics.registry.get_counter(
    "cms_ha_calls_resumed_total", "Calls taken over from the replicated image, by phase",
    {{"phase", to_string(d.phase)}});
  resumed.inc();
  switch (d.phase) {
  case call_phase::dialling:
    // The line was re-armed with dial tone and the digit map: the number comes again.
    update(self);
    start_timer(self, call_timer_kind::dial,
                d.emergency_only ? st.ctx->settings.emergency_window
                                 : st.ctx->settings.dial_timeout);
    break;
  case call_phase::alerting:
    st.term_alerted = true;
    update(self);
    start_timer(self, call_timer_kind::no_answer, st.ctx->settings.no_answer_timeout);
    break;
  case call_phase::connected:
    update(self);
    break;
  case call_phase::routing:
  case call_phase::setting_up:
    // The step in flight (seize, CRCX, MDCX) was not replicated: end the call cleanly.
    st.ctx->metrics.registry
      .get_counter("cms_ha_calls_ended_on_takeover_total",
                   "Calls ended at takeover because their last step was not replicated")
      .inc();
    logger()->warn("call={} event=ended_on_takeover phase={}", d.call_id, to_string(d.phase));
    release(self, cause::temporary_failure, "L/ro");
    break;
  case call_phase::releasing: {
    // Finish the release the old active started (DLCX, billing, lines).
    auto why = d.cause != 0 ? d.cause : cause::normal_clearing;
    d.phase = call_phase::connected;
    release(self, why, {});
    break;
  }
  case call_phase::ended:
    update(self);
    self->quit();
    break;
  }
  return running(self);
}

} // namespace cms::actors
