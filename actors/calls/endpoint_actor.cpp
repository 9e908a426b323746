#include "actors/calls/endpoint_actor.hpp"

#include "actors/calls/call_protocol.hpp"
#include "actors/ha/takeover_protocol.hpp"
#include "actors/calls/mgcp_edge.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/mgcp/events.hpp"
#include "runtime/mgcp/text.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <random>
#include <utility>

namespace cms::actors {

namespace {

using self_ptr = caf::stateful_actor<endpoint_actor_state>*;
using audit_atom = caf::atom_constant<caf::atom("ep_audit")>;
using graceful_atom = caf::atom_constant<caf::atom("ep_grace")>;
using unresumed_atom = caf::atom_constant<caf::atom("ep_unres")>;

constexpr const char* idle_events = "L/hd(N)";
constexpr const char* hangup_events = "L/hu(N)";

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("endpoint");
  return l;
}

// ---- state and publication ---------------------------------------------------------------------

void publish(self_ptr self) {
  auto& st = self->state;
  st.data.changed_ms = utc_ms();
  st.ctx->save(st.data);
  if (auto catalog = st.ctx->catalog())
    self->send(catalog, st.data);
}

/// The line is on hook, has no call, and our RQNT arming it for off-hook (L/hd) has gone out.
/// Its answer may not be back yet: the MTA acts on the request at once, and its next NTFY (to
/// us directly) can overtake that answer (through the edge). Until the answer, the state still
/// says what the line was before (in_call, off_hook); for a new call the line is already idle.
bool armed_idle(const endpoint_actor_state& st) {
  return st.armed.events == idle_events && !st.data.hook_off && st.data.call_id.empty() &&
         !st.data.graceful_pending && !st.suspended && is_registered(st.data.state);
}

void set_state(self_ptr self, line_state s) {
  auto& st = self->state;
  bool was = is_registered(st.data.state);
  bool is = is_registered(s);
  if (was != is)
    st.ctx->metrics.endpoints_registered.add(is ? 1 : -1);
  if (st.data.state != s)
    logger()->debug("endpoint={} event=state from={} to={}", st.data.name, to_string(st.data.state),
                    to_string(s));
  st.data.state = s;
  publish(self);
}

// ---- MGCP helpers ------------------------------------------------------------------------------

mgcp::command make_command(self_ptr self, mgcp::verb v) {
  mgcp::command cmd;
  cmd.kind = v;
  cmd.endpoint = self->state.data.name;
  cmd.version = "MGCP 1.0 NCS 1.0";
  return cmd;
}

/// The actor clock in ns (the test scheduler's clock in deterministic tests).
std::int64_t clock_ns(self_ptr self) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           self->clock().now().time_since_epoch())
    .count();
}

/// Sends a command to the line's MTA through the edge; `k` always runs exactly once.
template <class F>
void send_mgcp(self_ptr self, mgcp::command cmd, F k) {
  auto& st = self->state;
  auto edge = st.ctx->edge();
  if (!edge || st.data.peer.empty()) {
    mgcp_reply r;
    r.fail = st.data.peer.empty() ? mgcp_reply::failure::bad_peer : mgcp_reply::failure::stopped;
    k(r);
    return;
  }
  auto peer = st.data.peer;
  self
    ->request<caf::message_priority::high>(edge, st.ctx->settings.mgcp_request_timeout,
                                           mgcp_request{peer, std::move(cmd)})
    .then(
      [self, k, peer](mgcp_reply& r) mutable {
        if (r.ok())
          self->state.ctx->liveness.heard(peer, clock_ns(self));
        k(r);
      },
      [k](caf::error&) mutable {
        mgcp_reply r;
        r.fail = mgcp_reply::failure::timeout;
        k(r);
      });
}

void respond(self_ptr self, const inbound_command& in, int code, std::string comment) {
  if (!in.respond)
    return;
  if (auto edge = self->state.ctx->edge()) {
    mgcp::response rsp;
    rsp.code = code;
    rsp.transaction_id = in.cmd.transaction_id;
    rsp.comment = std::move(comment);
    self->send<caf::message_priority::high>(edge, mgcp_respond{in.from, std::move(rsp)});
  }
}

/// splitmix64 (Steele, Lea, Flood 2014): 8 bytes of state, full 64-bit period, good mixing.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A distinct seed per line: one random_device read per process, then a counter mixed in.
std::uint64_t line_seed() {
  static const std::uint64_t process_seed =
    (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t s =
    process_seed + counter.fetch_add(1, std::memory_order_relaxed) * 0x632be59bd9b4e019ULL;
  return next_random(s);
}

std::string next_request_id(self_ptr self) {
  auto& st = self->state;
  ++st.data.request_counter;
  return fmt::format("{:08x}{:x}", st.id_base, st.data.request_counter);
}

/// RQNT with a fresh X:. `k(reply)` runs when the MTA answered (or did not).
template <class F>
void arm(self_ptr self, armed_request what, F k) {
  auto& st = self->state;
  auto cmd = make_command(self, mgcp::verb::rqnt);
  auto x = next_request_id(self);
  cmd.set_param("N", st.ctx->settings.notified_entity);
  cmd.set_param("X", x);
  cmd.set_param("R", what.events);
  if (!what.signals.empty())
    cmd.set_param("S", what.signals);
  cmd.set_param("Q", st.ctx->settings.quarantine_handling);
  if (what.digit_map)
    cmd.set_param("D", what.map_text.empty() ? st.ctx->settings.digit_map : what.map_text);
  // The new X is current from now on: quarantined events come back with it.
  st.data.request_id = x;
  st.data.requested_events = what.events;
  st.data.signals = what.signals;
  st.armed = what;
  auto n = ++st.requests_sent;
  send_mgcp(self, std::move(cmd), [self, n, k = std::move(k)](const mgcp_reply& r) mutable {
    auto& st = self->state;
    if (r.ok())
      st.newest_request_answered = std::max(st.newest_request_answered, n);
    k(r);
  });
}

void stop_audit(self_ptr self) { ++self->state.audit_generation; }

/// Next in-call audit `delay` from now (the full interval unless told otherwise).
void schedule_audit(self_ptr self,
                    std::chrono::nanoseconds delay = std::chrono::nanoseconds::zero()) {
  auto interval = self->state.ctx->settings.in_call_audit_interval;
  if (interval.count() <= 0)
    return;
  auto gen = ++self->state.audit_generation;
  if (delay <= std::chrono::nanoseconds::zero() || delay > interval)
    delay = interval;
  self->delayed_send(self, delay, audit_atom::value, gen);
}

void mark_unreachable(self_ptr self) {
  logger()->warn("endpoint={} event=unreachable peer={}:{}", self->state.data.name,
                 self->state.data.peer.address, self->state.data.peer.port);
  stop_audit(self);
  set_state(self, line_state::disconnected);
}

/// Tells the call about something that happened on the line. The call answers whether it acted
/// (it will then send the next RQNT through a treatment or release); if not, the line is re-armed
/// so it never stays deaf in NCS lockstep mode.
void tell_call(self_ptr self, line_event_kind kind, std::string digits = {});
void originate(self_ptr self);

/// A 401/402 to a request armed for a call means the hook moved while its event was lost (sent to
/// a node that died, or while the MTA was disconnected): the call hears it now.
bool hook_mismatch_to_call(self_ptr self, const mgcp_reply& r) {
  auto& st = self->state;
  if (!r.ok() || st.data.call_id.empty())
    return false;
  if (r.rsp.code != 401 && r.rsp.code != 402) {
    st.hook_mismatches = 0;
    return false;
  }
  if (++st.hook_mismatches > 3) {
    logger()->warn("endpoint={} event=hook_mismatch_gave_up code={} call={}", st.data.name,
                   r.rsp.code, st.data.call_id);
    return false;
  }
  if (r.rsp.code == 402) {
    st.data.hook_off = false;
    logger()->info("endpoint={} event=hook_mismatch hook=on call={}", st.data.name,
                   st.data.call_id);
    tell_call(self, line_event_kind::on_hook);
    return true;
  }
  if (r.rsp.code == 401) {
    st.data.hook_off = true;
    logger()->info("endpoint={} event=hook_mismatch hook=off call={}", st.data.name,
                   st.data.call_id);
    tell_call(self, line_event_kind::off_hook);
    return true;
  }
  return false;
}

void rearm_current(self_ptr self) {
  auto& st = self->state;
  if (st.armed.events.empty())
    return;
  arm(self, st.armed, [self](const mgcp_reply& r) {
    if (!r.ok())
      mark_unreachable(self);
    else
      hook_mismatch_to_call(self, r);
  });
}

/// The line has no call: wait for an off-hook (idle) or, still off hook, for the hang-up while
/// `tone` plays. 401/402 answers correct our idea of the hook state and retry.
void arm_rest(self_ptr self, std::string tone, int attempts = 0) {
  auto& st = self->state;
  if (st.suspended || st.data.graceful_pending) {
    st.data.graceful_pending = false;
    set_state(self, line_state::out_of_service);
    return;
  }
  if (attempts > 3) {
    logger()->warn("endpoint={} event=arm_gave_up", st.data.name);
    return;
  }
  bool off = st.data.hook_off;
  // Off hook without a call, a line always hears a tone: the call's choice, else reorder. Silence
  // left a subscriber holding a dead handset for good: the callee whose caller left, or whose
  // call the dead node took with it (the soaks' lines "not idle" at the end).
  if (off && tone.empty())
    tone = "L/ro";
  armed_request what{off ? tone : std::string{}, off ? hangup_events : idle_events, false, {}};
  const auto n = st.requests_sent + 1; // the number arm gives this request
  const auto generation = ++st.rest_generation;
  arm(self, what, [self, tone, attempts, off, n, generation](const mgcp_reply& r) {
    auto& st = self->state;
    if (!st.data.call_id.empty())
      return; // a call took the line meanwhile; it owns the next request
    if (st.rest_generation != generation) {
      // The line was armed at rest again (the hook moved meanwhile): that answer sets the
      // state, not this one. If a newer request was answered first, this older one may be what
      // the MTA applied last (its first copy was lost): arm the line again for the hook as we
      // know it. Before, this answer set the old state, and a line hung up meanwhile stayed
      // "off hook" with the MTA listening for a hang-up that had already happened.
      if (r.ok() && st.newest_request_answered > n) {
        logger()->info("endpoint={} event=request_answered_out_of_order", st.data.name);
        arm_rest(self, {}, attempts + 1);
      }
      return;
    }
    if (!r.ok()) {
      mark_unreachable(self);
      return;
    }
    const bool originate_if_off_hook = std::exchange(st.offhook_while_unheard_originates, false);
    if (r.rsp.code == 401) { // already off hook
      st.data.hook_off = true;
      if (originate_if_off_hook) {
        logger()->info("endpoint={} event=off_hook_while_unheard", st.data.name);
        st.ctx->metrics.registry
          .get_counter(
            "cms_endpoint_offhook_while_unheard_total",
            "Off-hooks found by the claim or re-registration audit: the call starts then")
          .inc();
        originate(self);
        return;
      }
      arm_rest(self, tone, attempts + 1);
      return;
    }
    if (r.rsp.code == 402) { // already on hook
      st.data.hook_off = false;
      arm_rest(self, tone, attempts + 1);
      return;
    }
    if (r.rsp.code >= 300) {
      logger()->warn("endpoint={} event=rqnt_refused code={}", st.data.name, r.rsp.code);
      set_state(self, line_state::unregistered);
      return;
    }
    set_state(self, off ? line_state::off_hook : line_state::idle);
  });
}

// ---- registration ------------------------------------------------------------------------------

void register_line(self_ptr self) {
  auto& st = self->state;
  if (st.data.call_id.empty())
    set_state(self, line_state::unregistered);
  st.registering = true;
  send_mgcp(self, make_command(self, mgcp::verb::auep), [self](const mgcp_reply& r) {
    auto& st = self->state;
    st.registering = false;
    if (!r.ok() || r.rsp.code >= 300)
      st.offhook_while_unheard_originates = false;
    if (!r.ok()) {
      mark_unreachable(self);
      return;
    }
    if (r.rsp.code >= 300) {
      logger()->warn("endpoint={} event=audit_refused code={}", st.data.name, r.rsp.code);
      if (st.data.call_id.empty())
        set_state(self, line_state::unregistered);
      return;
    }
    st.data.registered_ms = utc_ms();
    logger()->debug("endpoint={} event=registered peer={}:{}", st.data.name, st.data.peer.address,
                    st.data.peer.port);
    // A line found off hook here (its call was lost with the node that died, or the handset
    // was left off) gets reorder from arm_rest until it hangs up.
    if (st.data.call_id.empty())
      arm_rest(self, {});
    else
      rearm_current(self);
  });
}

// ---- the call ----------------------------------------------------------------------------------

/// Bounded: a line cannot say more than this while its call is being attached; beyond it an MTA
/// is confused or lying and the oldest events go.
constexpr std::size_t max_events_for_call = 8;

void tell_call(self_ptr self, line_event_kind kind, std::string digits) {
  auto& st = self->state;
  if (!st.call) {
    if (!st.data.call_id.empty()) {
      // The call exists but its handle has not reached us yet: it hears this when it attaches.
      if (st.events_for_call.size() == max_events_for_call)
        st.events_for_call.erase(st.events_for_call.begin());
      st.events_for_call.emplace_back(kind, std::move(digits));
      return;
    }
    rearm_current(self);
    return;
  }
  line_event ev{st.data.call_id, st.data.name, kind, std::move(digits)};
  auto call_id = st.data.call_id;
  self->request(st.call, st.ctx->settings.line_request_timeout, std::move(ev))
    .then(
      [self, call_id, kind](bool acted) {
        auto& st = self->state;
        if (!acted && st.data.call_id == call_id && kind != line_event_kind::failed &&
            kind != line_event_kind::out_of_service)
          rearm_current(self);
      },
      [](caf::error&) { /* the call is gone: its down message cleans up */ });
}

/// The call has attached: it hears, in order, what the line said before.
void tell_held_events(self_ptr self) {
  auto held = std::exchange(self->state.events_for_call, {});
  for (auto& [kind, digits] : held)
    tell_call(self, kind, std::move(digits));
}

/// The line leaves its call (release or crash): close what the call left open and re-arm.
void leave_call(self_ptr self, std::string tone) {
  auto& st = self->state;
  if (st.call)
    self->demonitor(st.call);
  st.call = nullptr;
  auto call_id = std::move(st.data.call_id);
  st.data.call_id.clear();
  st.events_for_call.clear();
  stop_audit(self);
  if (!st.data.connection_id.empty()) {
    auto cmd = make_command(self, mgcp::verb::dlcx);
    cmd.set_param("C", call_id);
    cmd.set_param("I", st.data.connection_id);
    st.data.connection_id.clear();
    if (st.data.state != line_state::disconnected)
      send_mgcp(self, std::move(cmd), [](const mgcp_reply&) {});
  }
  if (st.data.state == line_state::disconnected || st.data.state == line_state::out_of_service ||
      st.data.state == line_state::unregistered) {
    publish(self);
    return;
  }
  arm_rest(self, std::move(tone));
}

void originate(self_ptr self) {
  auto& st = self->state;
  auto verdict = st.ctx->admission.admit();
  // Refused by the overload gate or a drain: a caller may still be dialling 911. Such an attempt
  // gets dial tone for the emergency window (its digit map matches the emergency codes only).
  // A standby or stepped-down node never starts calls, not even these.
  const char* gate = verdict == call_admission::verdict::shed_rate              ? "overload"
                     : verdict == call_admission::verdict::shed_drain           ? "drain"
                     : verdict == call_admission::verdict::shed_billing_backlog ? "billing_backlog"
                                                                                : nullptr;
  const bool emergency_only = gate && !st.ctx->emergency_digit_map.empty();
  if (verdict != call_admission::verdict::admitted && !emergency_only) {
    // Overload control (or drain): reorder at once, before any call resource is taken; the
    // line comes back to idle on hang-up like after any failed attempt.
    set_state(self, line_state::off_hook);
    logger()->debug("endpoint={} event=call_attempt_shed", st.data.name);
    arm_rest(self, "L/ro");
    return;
  }
  if (emergency_only) {
    st.ctx->metrics.emergency_window(gate).inc();
    logger()->debug("endpoint={} event=emergency_window reason={}", st.data.name, gate);
  }
  auto call_id = fmt::format("{:016x}", next_random(st.rng));
  st.data.call_id = call_id;
  set_state(self, line_state::off_hook);
  auto manager = st.ctx->manager();
  auto fail = [self, call_id] {
    auto& st = self->state;
    if (st.data.call_id != call_id)
      return;
    logger()->error("endpoint={} event=originate_failed", st.data.name);
    st.data.call_id.clear();
    st.events_for_call.clear();
    arm_rest(self, "L/ro");
  };
  if (!manager) {
    fail();
    return;
  }
  originate_call req{call_id,
                     st.data.name,
                     st.data.directory_number,
                     caf::actor_cast<caf::actor>(self),
                     emergency_only,
                     emergency_only ? gate : ""};
  // The emergency window's attempt goes ahead of the ordinary ones queued at the manager.
  auto pending = emergency_only
                   ? self->request<caf::message_priority::high>(
                       manager, st.ctx->settings.line_request_timeout, std::move(req))
                   : self->request(manager, st.ctx->settings.line_request_timeout, std::move(req));
  pending.then(
    [self, call_id](caf::actor& call) {
      auto& st = self->state;
      if (st.data.call_id != call_id) {
        // The call already released us (e.g. a hang-up raced the originate reply).
        return;
      }
      st.call = call;
      self->monitor(call);
      tell_held_events(self);
    },
    [fail](caf::error&) { fail(); });
}

// ---- inbound commands --------------------------------------------------------------------------

bool from_line_mta(self_ptr self, const inbound_command& in) {
  auto& d = self->state.data;
  if (!d.provisioned_address.empty() && in.from.address != d.provisioned_address)
    return false;
  if (in.cmd.kind == mgcp::verb::rsip) {
    if (d.peer.empty() || in.from == d.peer)
      return true;
    // A line in a call never moves to another address; an idle one may (MTA restarted on a
    // new port, DHCP renumbering) and is audited before it is used.
    return d.call_id.empty();
  }
  return !d.peer.empty() && in.from == d.peer;
}

/// The MTA is back after we or it lost contact: re-audit and re-arm; a call in progress survives,
/// and an off-hook found by the audit of an idle line is the attempt that went unheard.
void rejoin(self_ptr self) {
  auto& st = self->state;
  if (st.data.state == line_state::disconnected && st.call)
    set_state(self, line_state::in_call);
  st.offhook_while_unheard_originates = st.data.call_id.empty() && !st.data.hook_off;
  register_line(self);
}

void handle_rsip(self_ptr self, const inbound_command& in) {
  auto& st = self->state;
  auto method = mgcp::restart_method::restart;
  if (auto rm = in.cmd.param("RM")) {
    auto parsed = mgcp::parse_restart_method(*rm);
    if (!parsed) {
      respond(self, in, 539, "Unsupported restart method");
      return;
    }
    method = *parsed;
  }
  std::uint32_t delay = 0;
  if (auto rd = in.cmd.param("RD"))
    delay = mgcp::parse_restart_delay(*rd).value_or(0);
  respond(self, in, 200, "OK");
  st.data.peer = in.from;
  st.data.restart_method = std::string{mgcp::to_string(method)};
  st.data.restart_delay = delay;
  logger()->info("endpoint={} event=rsip method={} delay={} peer={}:{}", st.data.name,
                 st.data.restart_method, delay, in.from.address, in.from.port);
  if (st.suspended) {
    set_state(self, line_state::out_of_service);
    return;
  }
  switch (method) {
  case mgcp::restart_method::restart:
    if (st.call) {
      // The MTA rebooted: its connection is gone, the call cannot go on.
      st.data.connection_id.clear();
      tell_call(self, line_event_kind::failed);
    }
    st.data.graceful_pending = false;
    register_line(self);
    break;
  case mgcp::restart_method::disconnected:
    // The MTA lost contact and found us again; a call in progress survives.
    rejoin(self);
    break;
  case mgcp::restart_method::forced:
    st.data.graceful_pending = false;
    st.data.connection_id.clear();
    if (st.call)
      tell_call(self, line_event_kind::out_of_service);
    set_state(self, line_state::out_of_service);
    break;
  case mgcp::restart_method::graceful:
    st.data.graceful_pending = true;
    if (delay == 0 && st.data.call_id.empty()) {
      st.data.graceful_pending = false;
      set_state(self, line_state::out_of_service);
    } else {
      auto gen = ++st.graceful_generation;
      if (delay > 0)
        self->delayed_send(self, std::chrono::seconds{delay}, graceful_atom::value, gen);
      publish(self);
    }
    break;
  case mgcp::restart_method::cancel_graceful:
    st.data.graceful_pending = false;
    ++st.graceful_generation;
    if (st.data.state == line_state::out_of_service)
      register_line(self);
    else
      publish(self);
    break;
  }
}

/// An NTFY from the line's own MTA while we hold the line unregistered or disconnected: the MTA is
/// alive and believes it is registered here (a command of ours timed out while it was busy, or the
/// image of a takeover said so). In NCS lockstep it now waits for a request that would never come,
/// so the line would stay dead for good (a line of the 1-hour soak did). Audit and re-arm it as on
/// RSIP disconnected; an off-hook found then is the attempt this NTFY reported.
bool rejoin_on_notify(self_ptr self, const inbound_command& in) {
  auto& st = self->state;
  if (st.data.state != line_state::unregistered && st.data.state != line_state::disconnected)
    return false;
  respond(self, in, 200, "OK");
  if (st.registering)
    return true; // the audit on its way arms the line
  logger()->info("endpoint={} event=rejoined_on_notify state={}", st.data.name,
                 to_string(st.data.state));
  st.ctx->metrics.registry
    .get_counter("cms_endpoint_rejoined_on_notify_total",
                 "Lines held unregistered or disconnected that re-registered on their MTA's NTFY")
    .inc();
  rejoin(self);
  return true;
}

void handle_ntfy(self_ptr self, const inbound_command& in) {
  auto& st = self->state;
  if (rejoin_on_notify(self, in))
    return;
  auto x = in.cmd.param("X");
  if (x && !st.adopted_request_id.empty() && mgcp::text::iequals(*x, st.adopted_request_id)) {
    // Taken over: this NTFY answers the old active's request (it never got through there).
    st.adopted_request_id.clear();
  } else if (!x || !mgcp::text::iequals(*x, st.data.request_id)) {
    respond(self, in, 200, "OK");
    ++st.data.stale_notifies;
    st.ctx->metrics.stale_notifies.inc();
    logger()->debug("endpoint={} event=stale_ntfy x={} armed={}", st.data.name, x ? *x : "",
                    st.data.request_id);
    return;
  }
  std::optional<std::vector<mgcp::observed_event>> events;
  if (auto o = in.cmd.param("O"))
    events = mgcp::parse_observed_events(*o);
  if (!events) {
    respond(self, in, 538, "Bad observed events");
    rearm_current(self);
    return;
  }
  respond(self, in, 200, "OK");
  if (!is_registered(st.data.state)) {
    logger()->debug("endpoint={} event=ntfy_ignored state={}", st.data.name,
                    to_string(st.data.state));
    return;
  }
  // Digits (D/...) of one NTFY form one dial string; 'T' (timer) is kept so the call can tell a
  // complete number from a partial dial.
  std::string digits;
  bool acted = false;
  for (auto& ev : *events) {
    auto package = mgcp::text::upper(ev.name.package);
    auto name = mgcp::text::lower(ev.name.event);
    if (package == "D") {
      for (char c : ev.name.event)
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#' || c == 'T' ||
            c == 't')
          digits += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      continue;
    }
    if (!package.empty() && package != "L")
      continue;
    if (name == "hd") {
      bool was_armed_idle = armed_idle(st);
      st.data.hook_off = true;
      if (st.call) {
        tell_call(self, line_event_kind::off_hook);
        acted = true;
      } else if (st.data.call_id.empty() && (st.data.state == line_state::idle || was_armed_idle)) {
        // (The NTFY's X is the idle request's: an off-hook under it starts a call even when
        // that request's answer is still on its way; see armed_idle.)
        originate(self);
        acted = true;
      }
    } else if (name == "hu") {
      st.data.hook_off = false;
      if (st.call || !st.data.call_id.empty()) {
        tell_call(self, line_event_kind::on_hook); // held when the call is still attaching
        acted = true;
      } else {
        arm_rest(self, {});
        acted = true;
      }
    }
  }
  if (!digits.empty() && (st.call || !st.data.call_id.empty())) {
    tell_call(self, line_event_kind::digits, digits); // held when the call is still attaching
    acted = true;
  }
  // Nobody will send the next RQNT: re-arm ourselves. (With a call being created, its first
  // treatment arms the line.)
  if (!acted && (st.call || st.data.call_id.empty()))
    rearm_current(self);
}

void handle_inbound(self_ptr self, const inbound_command& in) {
  auto& st = self->state;
  if (in.cmd.kind != mgcp::verb::rsip && in.cmd.kind != mgcp::verb::ntfy) {
    respond(self, in, 504, "Command not accepted by a call agent");
    return;
  }
  if (!from_line_mta(self, in)) {
    ++st.data.spoofed;
    st.ctx->metrics.spoofed.inc();
    logger()->warn("endpoint={} event=spoofed verb={} from={}:{} expected={}:{}", st.data.name,
                   mgcp::to_string(in.cmd.kind), in.from.address, in.from.port,
                   st.data.peer.address, st.data.peer.port);
    respond(self, in, 500, "Endpoint unknown");
    publish(self);
    return;
  }
  if (in.cmd.kind == mgcp::verb::ntfy)
    st.ctx->liveness.heard(in.from, clock_ns(self));
  if (in.cmd.kind == mgcp::verb::rsip)
    handle_rsip(self, in);
  else
    handle_ntfy(self, in);
}

// ---- requests from the call --------------------------------------------------------------------

line_reply refused(int cause, int code = 0) {
  line_reply r;
  r.ok = false;
  r.cause = cause;
  r.mgcp_code = code;
  return r;
}

line_reply from_mgcp(const mgcp_reply& m) {
  line_reply r;
  if (!m.ok()) {
    r.ok = false;
    r.unreachable = true;
    r.mgcp_code = 0;
    r.cause = cause::temporary_failure;
    return r;
  }
  r.mgcp_code = m.rsp.code;
  r.ok = m.rsp.code >= 200 && m.rsp.code < 300;
  if (!r.ok)
    r.cause = cause::temporary_failure;
  if (m.rsp.sdp)
    r.sdp = *m.rsp.sdp;
  return r;
}

armed_request armed_for(treatment t, const call_context& ctx) {
  switch (t) {
  case treatment::dial_tone:
    return {"L/dl", "L/hu(N),D/[0-9#*T](D)", true, {}};
  case treatment::emergency_dial_tone:
    return {"L/dl", "L/hu(N),D/[0-9#*T](D)", true, ctx.emergency_digit_map};
  case treatment::ringback:
    return {"L/rt", hangup_events, false, {}};
  case treatment::ringing:
    return {"L/rg", idle_events, false, {}};
  case treatment::connected:
    break;
  }
  return {{}, "L/hu(N),L/hf(N)", false, {}};
}

line_state state_for(treatment t) {
  switch (t) {
  case treatment::dial_tone:
  case treatment::emergency_dial_tone:
    return line_state::dialling;
  case treatment::ringback:
  case treatment::ringing:
    return line_state::ringing;
  case treatment::connected:
    break;
  }
  return line_state::in_call;
}

} // namespace

caf::behavior endpoint_actor(self_ptr self, std::shared_ptr<call_context> ctx,
                             persistence::subscriber line) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.rng = line_seed();
  st.id_base = static_cast<std::uint32_t>(next_random(st.rng));
  auto name = mgcp::text::lower(line.endpoint_name);
  if (auto saved = st.ctx->snapshot(name)) {
    // Restarted by the supervisor: resume the registration, not the call (its actor monitors
    // us and releases itself when we die).
    st.data = *saved;
    if (is_registered(st.data.state))
      st.ctx->metrics.endpoints_registered.add(-1);
    st.data.state = line_state::unregistered;
  }
  st.data.name = name;
  st.data.directory_number = line.directory_number;
  if (auto at = name.rfind('@'); at != std::string::npos)
    st.data.mta = name.substr(at + 1);
  st.data.provisioned_address = line.mta_address;
  st.suspended = line.status == "suspended";
  st.ctx->directory.put(name, caf::actor_cast<caf::actor>(self));
  if (st.suspended) {
    set_state(self, line_state::out_of_service);
  } else if (!st.data.peer.empty()) {
    // A restart after a registration: leftovers of the old incarnation go, then re-arm.
    if (!st.data.connection_id.empty()) {
      auto cmd = make_command(self, mgcp::verb::dlcx);
      if (!st.data.call_id.empty())
        cmd.set_param("C", st.data.call_id);
      cmd.set_param("I", st.data.connection_id);
      send_mgcp(self, std::move(cmd), [](const mgcp_reply&) {});
    }
    st.data.call_id.clear();
    st.data.connection_id.clear();
    register_line(self);
  } else {
    publish(self);
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (!st.call || msg.source != st.call.address())
      return;
    bool crashed = msg.reason && msg.reason != caf::exit_reason::normal;
    if (crashed) {
      st.ctx->metrics.calls_crashed.inc();
      logger()->error("endpoint={} call={} event=call_crashed reason=\"{}\"", st.data.name,
                      st.data.call_id, self->system().render(msg.reason));
    }
    st.call = nullptr;
    leave_call(self, {});
  });
  return {
    [self](inbound_command& in) { handle_inbound(self, in); },
    [self](seize_line& req) -> line_reply {
      auto& st = self->state;
      auto s = st.data.state;
      if (s == line_state::unregistered || s == line_state::disconnected ||
          s == line_state::out_of_service || st.data.graceful_pending)
        return refused(cause::subscriber_absent);
      if ((s != line_state::idle && !armed_idle(st)) || st.data.hook_off ||
          !st.data.call_id.empty())
        return refused(cause::user_busy);
      st.data.call_id = req.call_id;
      st.call = req.call;
      self->monitor(st.call);
      publish(self);
      return line_reply{};
    },
    [self](apply_treatment& req) -> caf::result<line_reply> {
      auto& st = self->state;
      if (req.call_id != st.data.call_id)
        return refused(cause::temporary_failure);
      auto rp = self->make_response_promise<line_reply>();
      auto what = req.what;
      auto call_id = req.call_id;
      arm(self, armed_for(what, *st.ctx), [self, rp, what, call_id](const mgcp_reply& m) mutable {
        auto& st = self->state;
        auto r = from_mgcp(m);
        if (m.ok() && m.rsp.code == 401) { // asked to ring a line that is off hook
          st.data.hook_off = true;
          r.cause = cause::user_busy;
        } else if (m.ok() && m.rsp.code == 402) { // asked for the hang-up of a line on hook
          st.data.hook_off = false;
          r.cause = cause::normal_clearing;
        }
        if (r.unreachable && st.data.call_id == call_id)
          mark_unreachable(self);
        else if (r.ok && st.data.call_id == call_id) {
          set_state(self, state_for(what));
          if (what == treatment::connected)
            schedule_audit(self);
        }
        rp.deliver(std::move(r));
      });
      return rp;
    },
    [self](create_connection& req) -> caf::result<line_reply> {
      auto& st = self->state;
      if (req.call_id != st.data.call_id)
        return refused(cause::temporary_failure);
      auto cmd = make_command(self, mgcp::verb::crcx);
      cmd.set_param("C", req.call_id);
      cmd.set_param("L", st.ctx->settings.local_connection_options +
                           (req.gate_id != 0 ? fmt::format(", dq-gi:{:x}", req.gate_id) : ""));
      cmd.set_param("M", std::string{mgcp::to_string(req.mode)});
      if (!req.remote_sdp.empty())
        cmd.sdp = req.remote_sdp;
      auto rp = self->make_response_promise<line_reply>();
      auto call_id = req.call_id;
      send_mgcp(self, std::move(cmd), [self, rp, call_id](const mgcp_reply& m) mutable {
        auto& st = self->state;
        auto r = from_mgcp(m);
        if (r.ok) {
          if (auto i = m.rsp.param("I"))
            r.connection_id = *i;
          if (r.connection_id.empty()) {
            r.ok = false;
            r.cause = cause::temporary_failure;
          } else if (st.data.call_id == call_id) {
            st.data.connection_id = r.connection_id;
            publish(self);
          } else {
            // The call released the line while the CRCX was on its way: delete the orphan.
            auto dl = make_command(self, mgcp::verb::dlcx);
            dl.set_param("C", call_id);
            dl.set_param("I", r.connection_id);
            send_mgcp(self, std::move(dl), [](const mgcp_reply&) {});
          }
        }
        if (r.unreachable && st.data.call_id == call_id)
          mark_unreachable(self);
        rp.deliver(std::move(r));
      });
      return rp;
    },
    [self](modify_connection& req) -> caf::result<line_reply> {
      auto& st = self->state;
      if (req.call_id != st.data.call_id || st.data.connection_id.empty())
        return refused(cause::temporary_failure);
      auto cmd = make_command(self, mgcp::verb::mdcx);
      cmd.set_param("C", req.call_id);
      cmd.set_param("I", st.data.connection_id);
      cmd.set_param("M", std::string{mgcp::to_string(req.mode)});
      if (!req.remote_sdp.empty())
        cmd.sdp = req.remote_sdp;
      auto rp = self->make_response_promise<line_reply>();
      auto call_id = req.call_id;
      send_mgcp(self, std::move(cmd), [self, rp, call_id](const mgcp_reply& m) mutable {
        auto r = from_mgcp(m);
        if (r.unreachable && self->state.data.call_id == call_id)
          mark_unreachable(self);
        rp.deliver(std::move(r));
      });
      return rp;
    },
    [self](delete_connection& req) -> caf::result<line_reply> {
      auto& st = self->state;
      if (req.call_id != st.data.call_id)
        return refused(cause::temporary_failure);
      if (st.data.connection_id.empty())
        return line_reply{};
      auto cmd = make_command(self, mgcp::verb::dlcx);
      cmd.set_param("C", req.call_id);
      cmd.set_param("I", st.data.connection_id);
      st.data.connection_id.clear();
      publish(self);
      if (st.data.state == line_state::disconnected) {
        // Known unreachable: do not wait another retransmission budget for nothing.
        auto r = refused(cause::temporary_failure);
        r.unreachable = true;
        return r;
      }
      auto rp = self->make_response_promise<line_reply>();
      auto call_id = req.call_id;
      send_mgcp(self, std::move(cmd), [self, rp, call_id](const mgcp_reply& m) mutable {
        auto r = from_mgcp(m);
        if (m.ok())
          if (auto p = m.rsp.param("P"))
            r.stats = *p;
        if (r.unreachable && self->state.data.call_id == call_id)
          mark_unreachable(self);
        rp.deliver(std::move(r));
      });
      return rp;
    },
    [self](release_line& req) {
      auto& st = self->state;
      if (req.call_id != st.data.call_id)
        return;
      leave_call(self, std::move(req.tone));
    },
    // -- takeover (actors/ha/takeover_protocol.hpp) -----------------------------
    [self](adopt_line& a) {
      // This node became active: take the replicated registration and claim the line (AUEP,
      // then RQNT with N: = us) without touching its connection: a call in progress goes on.
      auto& st = self->state;
      if (st.call)
        self->demonitor(st.call);
      st.call = nullptr;
      st.events_for_call.clear();
      stop_audit(self);
      ++st.graceful_generation;
      auto target = a.state.state;
      auto keep = st.data;
      set_state(self, line_state::unregistered);
      st.data = std::move(a.state);
      st.data.name = keep.name;
      st.data.directory_number = keep.directory_number;
      st.data.mta = keep.mta;
      st.data.provisioned_address = keep.provisioned_address;
      st.data.request_counter = std::max(st.data.request_counter, keep.request_counter);
      st.data.state = line_state::unregistered;
      // (The emergency window's map is not in the image: the configured map is sent instead,
      // and the call still accepts only an emergency code.)
      st.armed = armed_request{st.data.signals,
                               st.data.requested_events,
                               st.data.requested_events.find("D/") != std::string::npos,
                               {}};
      // A call in the image that never resumes here must not hold the line for good, whatever
      // state the line is adopted in (an unregistered line re-registers later: see
      // unresumed_atom).
      if (!st.data.call_id.empty())
        self->delayed_send(self, st.ctx->settings.adopted_call_grace, unresumed_atom::value,
                           st.data.call_id, st.graceful_generation);
      if (st.suspended) {
        set_state(self, line_state::out_of_service);
        return;
      }
      if (st.data.peer.empty() || !is_registered(target)) {
        set_state(self, target == line_state::out_of_service ? target : line_state::unregistered);
        return;
      }
      set_state(self, target);
      st.ctx->metrics.registry
        .get_counter("cms_ha_lines_claimed_total", "Lines claimed (AUEP + RQNT N: us) at takeover")
        .inc();
      // An NTFY the MTA sent to the old active carries the replicated X: still accept it once.
      st.adopted_request_id = st.data.request_id;
      if (st.data.call_id.empty()) {
        st.offhook_while_unheard_originates =
          a.image_current && target == line_state::idle && !st.data.hook_off;
        register_line(self);
        return;
      }
      // In a call: re-arm what the call had armed. 401/402 tell us the hook changed while the
      // event was lost with the old active (hung up / answered meanwhile): tell the call. If the
      // call never resumes here, the line must not stay busy (unresumed_atom, armed above).
      send_mgcp(self, make_command(self, mgcp::verb::auep), [self](const mgcp_reply& r) {
        if (!r.ok()) {
          mark_unreachable(self);
          return;
        }
        self->state.data.registered_ms = utc_ms();
        arm(self, self->state.armed, [self](const mgcp_reply& m) {
          if (!m.ok())
            mark_unreachable(self);
          else
            hook_mismatch_to_call(self, m);
        });
      });
    },
    [self](quiesce_line&) {
      // This node stopped being active: the line belongs to the peer now. Forget the call
      // without a DLCX and send nothing (the MGCP edge is fenced as well).
      auto& st = self->state;
      if (st.call)
        self->demonitor(st.call);
      st.call = nullptr;
      stop_audit(self);
      ++st.graceful_generation;
      if (is_registered(st.data.state))
        st.ctx->metrics.endpoints_registered.add(-1);
      st.data.state = line_state::unregistered;
      st.data.call_id.clear();
      st.data.connection_id.clear();
      st.data.peer = mgcp_peer{};
      st.ctx->save(st.data);
    },
    [self](unresumed_atom, const std::string& call_id, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.graceful_generation || st.call || st.data.call_id != call_id)
        return; // the call resumed, or the line moved on
      logger()->warn("endpoint={} call={} event=call_not_resumed action=release_line", st.data.name,
                     call_id);
      st.ctx->metrics.registry
        .get_counter("cms_endpoint_calls_not_resumed_total",
                     "Lines adopted in a call that never resumed here, released to rest")
        .inc();
      leave_call(self, {});
    },
    [self](attach_call& a) -> bool {
      // A call resumed at takeover takes its line back.
      auto& st = self->state;
      if (!st.data.call_id.empty() && st.data.call_id != a.call_id)
        return false;
      if (st.call)
        self->demonitor(st.call);
      st.data.call_id = a.call_id;
      st.call = a.call;
      if (st.call)
        self->monitor(st.call);
      if (st.data.state == line_state::in_call)
        schedule_audit(self);
      if (st.call)
        tell_held_events(self);
      return true;
    },
    [self](audit_atom, std::uint64_t gen) {
      auto& st = self->state;
      if (gen != st.audit_generation || st.data.call_id.empty())
        return;
      // The MTA answered or spoke to any of its lines within the interval: it is alive; look
      // again one interval after that. Only an MTA silent for a whole interval is audited.
      auto interval = std::chrono::nanoseconds{st.ctx->settings.in_call_audit_interval};
      auto heard = st.ctx->liveness.last_heard(st.data.peer);
      auto since = heard == std::numeric_limits<std::int64_t>::min() ? interval.count()
                                                                     : clock_ns(self) - heard;
      if (since >= 0 && since < interval.count()) {
        st.ctx->metrics.audits_spared.inc();
        schedule_audit(self, interval - std::chrono::nanoseconds{since});
        return;
      }
      send_mgcp(self, make_command(self, mgcp::verb::auep), [self, gen](const mgcp_reply& m) {
        auto& st = self->state;
        if (gen != st.audit_generation)
          return;
        if (!m.ok()) {
          mark_unreachable(self);
          tell_call(self, line_event_kind::failed);
          return;
        }
        schedule_audit(self);
      });
    },
    [self](graceful_atom, std::uint64_t gen) {
      auto& st = self->state;
      if (gen != st.graceful_generation || !st.data.graceful_pending)
        return;
      if (st.data.call_id.empty()) {
        st.data.graceful_pending = false;
        set_state(self, line_state::out_of_service);
      }
      // With a call, the line goes out of service when the call releases it (arm_rest).
    },
  };
}

} // namespace cms::actors
