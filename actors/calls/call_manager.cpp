#include "actors/calls/call_manager.hpp"

#include "actors/calls/call_actor.hpp"
#include "actors/ha/takeover_protocol.hpp"
#include "actors/calls/state_catalog.hpp"
#include "actors/type_ids.hpp"
#include "runtime/base/logging.hpp"

namespace cms::actors {

namespace {

using self_ptr = caf::stateful_actor<call_manager_state>*;

void forget(self_ptr self, const std::string& call_id) {
  auto& st = self->state;
  if (st.calls.erase(call_id) == 0)
    return;
  st.ctx->metrics.calls_active.add(-1);
  if (auto catalog = st.ctx->catalog())
    self->send(catalog, call_removed{call_id});
  if (st.stopping && st.calls.empty()) {
    for (auto& rp : st.waiting_for_calls_to_end)
      rp.deliver(st.ended_at_stop);
    st.waiting_for_calls_to_end.clear();
  }
}

using clock_look_atom = caf::atom_constant<caf::atom("cm_clock")>;

/// Looks at the wall clock against the monotonic one; a step goes to every call up.
void look_at_clock(self_ptr self) {
  auto& st = self->state;
  auto steady_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now().time_since_epoch())
                     .count();
  auto wall = utc_ms();
  if (auto step = st.wall_clock.look(wall, steady_ms)) {
    log::get("call_manager")
      ->warn("event=wall_clock_stepped adjustment_ms={} calls={}", *step, st.calls.size());
    st.ctx->metrics.registry
      .get_counter("cms_wall_clock_steps_total",
                   "Steps of the wall clock seen while running (each call up bills a Time_Change)")
      .inc();
    for (auto& [id, e] : st.calls)
      self->send(e.handle, atom::clock_stepped_v, *step, wall);
  }
  self->delayed_send(self, st.ctx->settings.clock_watch_interval, clock_look_atom::value);
}

} // namespace

caf::behavior call_manager(self_ptr self, std::shared_ptr<call_context> ctx) {
  self->state.ctx = std::move(ctx);
  self->state.wall_clock = clock_watch{self->state.ctx->settings.clock_step_threshold_ms};
  if (self->state.ctx->settings.clock_watch_interval.count() > 0)
    look_at_clock(self);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& [id, e] : st.calls) {
      if (e.handle.address() != msg.source)
        continue;
      // Died without its final update: a crash (or a kill). Bill the end it could not write.
      auto last = e.last;
      auto call_id = id;
      log::get("call_manager")
        ->error("call={} event=call_actor_died phase={} reason=\"{}\"", call_id,
                to_string(last.phase), self->system().render(msg.reason));
      if (last.call_id.empty())
        last.call_id = call_id;
      last.phase = call_phase::ended;
      last.cause = cause::temporary_failure;
      last.ended_ms = utc_ms();
      billing::billing_record r;
      r.record_id = call_id + ":signaling_stop";
      r.event = "signaling_stop";
      r.call_id = call_id;
      r.calling_number = last.calling_number;
      r.called_number = last.called_number;
      r.originating = last.originating;
      r.terminating = last.terminating;
      r.route = last.route;
      r.timestamp_ms = last.ended_ms;
      r.release_cause = last.cause;
      // An emergency window's attempt that dialled no emergency code was never billed.
      bool billed = !last.emergency_only || last.emergency;
      if (auto outbox = st.ctx->outbox(); outbox && billed)
        self->send(outbox, std::move(r));
      if (last.answered_ms == 0 && billed)
        st.ctx->metrics.failures(last.cause).inc();
      if (auto catalog = st.ctx->catalog())
        self->send(catalog, call_update{last});
      forget(self, call_id);
      return;
    }
  });
  return {
    [self](clock_look_atom) { look_at_clock(self); },
    [self](originate_call& req) -> caf::result<caf::actor> {
      auto& st = self->state;
      if (st.stopping) // the line plays reorder (endpoint_actor: originate_failed)
        return caf::make_error(caf::sec::runtime_error, "node stopping");
      auto id = req.call_id;
      auto call = self->spawn<caf::monitored>(call_actor, st.ctx, std::move(req));
      auto& e = st.calls[id];
      if (!e.handle)
        st.ctx->metrics.calls_active.add(1);
      e.handle = call;
      return call;
    },
    [self](call_update& u) {
      auto& st = self->state;
      auto id = u.state.call_id;
      auto it = st.calls.find(id);
      if (it == st.calls.end()) {
        if (u.state.phase == call_phase::ended)
          return;
        // Published by a call spawned by our previous incarnation: adopt it.
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (!sender)
          return;
        self->monitor(sender);
        st.ctx->metrics.calls_active.add(1);
        it = st.calls.emplace(id, call_manager_state::entry{sender, {}}).first;
      }
      it->second.last = u.state;
      if (auto catalog = st.ctx->catalog())
        self->send(catalog, u);
      if (u.state.phase == call_phase::ended) {
        self->demonitor(it->second.handle);
        forget(self, id);
      }
    },
    // -- takeover (actors/ha/takeover_protocol.hpp) -----------------------------
    [self](resume_call& r) {
      auto& st = self->state;
      auto id = r.state.call_id;
      if (id.empty())
        return;
      if (auto it = st.calls.find(id); it != st.calls.end()) {
        // A stale actor of an earlier period as active: the replicated state wins.
        self->demonitor(it->second.handle);
        self->send_exit(it->second.handle, caf::exit_reason::kill);
        st.calls.erase(it);
        st.ctx->metrics.calls_active.add(-1);
      }
      auto last = r.state;
      auto call = self->spawn<caf::monitored>(call_actor_resume, st.ctx, std::move(r.state));
      st.calls.emplace(id, call_manager_state::entry{call, std::move(last)});
      st.ctx->metrics.calls_active.add(1);
    },
    [self](quiesce_calls&) {
      // Standby now: the peer owns every call. Stop ours without billing or DLCX.
      auto& st = self->state;
      for (auto& [id, e] : st.calls) {
        self->demonitor(e.handle);
        self->send_exit(e.handle, caf::exit_reason::kill);
        st.ctx->metrics.calls_active.add(-1);
      }
      st.calls.clear();
    },
    [self](end_all_calls& req) -> caf::result<std::size_t> {
      auto& st = self->state;
      st.stopping = true;
      if (st.calls.empty())
        return st.ended_at_stop;
      st.ended_at_stop += st.calls.size();
      log::get("call_manager")
        ->warn("event=ending_calls_at_stop calls={} cause={}", st.calls.size(), req.cause);
      for (auto& [id, e] : st.calls)
        self->send(e.handle, end_call{req.cause});
      auto rp = self->make_response_promise<std::size_t>();
      st.waiting_for_calls_to_end.push_back(rp);
      return rp;
    },
    [self](atom::lookup, const std::string& call_id) -> caf::result<caf::actor> {
      auto it = self->state.calls.find(call_id);
      if (it == self->state.calls.end())
        return caf::make_error(caf::sec::invalid_argument, "no call " + call_id);
      return it->second.handle;
    },
  };
}

} // namespace cms::actors
