#include "actors/calls/call_gates.hpp"

#include "actors/billing/event_messages.hpp"
#include "actors/qos/gate_directory.hpp"
#include "actors/qos/gate_protocol.hpp"
#include "actors/type_ids.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/base/q850.hpp"
#include "runtime/cops/dqos.hpp"
#include "runtime/mgcp/sdp.hpp"

namespace cms::actors {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  static auto l = log::get("call");
  return l;
}

/// Gate-Set answers come within the session's command timeout (2 s by default); this only bounds
/// a controller that died meanwhile.
constexpr std::chrono::seconds gate_request_timeout{10};

/// The MTA's address as the line knows it: where its RSIP came from, else the provisioned one.
std::optional<std::uint32_t> mta_address(const call_context& ctx, const std::string& endpoint) {
  auto snap = ctx.snapshot(endpoint);
  if (!snap)
    return std::nullopt;
  const auto& text = !snap->peer.address.empty() ? snap->peer.address : snap->provisioned_address;
  return cops::ipv4_from_string(text);
}

/// The far end's RTP address and port from its SDP; zeros when unknown.
std::pair<std::uint32_t, std::uint16_t> media_of(const std::string& sdp) {
  if (sdp.empty())
    return {0, 0};
  auto d = mgcp::parse_sdp(sdp);
  if (!d)
    return {0, 0};
  auto* c = d->audio_connection();
  auto* m = d->first_audio();
  auto ip = c ? cops::ipv4_from_string(c->address) : std::nullopt;
  return {ip.value_or(0), m ? m->port : std::uint16_t{0}};
}

} // namespace

namespace {

/// Sends the Gate-Set of one leg, the half-call's BCID numbered from `start_sequence`.
void send_gate_set(call_self self, bool is_orig, const std::string& remote_sdp,
                   std::uint64_t start_sequence, std::function<void(std::uint32_t)> granted,
                   std::function<void(int)> refused) {
  auto& st = self->state;
  auto& d = st.data;
  if (d.phase != call_phase::setting_up)
    return; // released while the outbox answered
  auto* gates = st.ctx->gates.get();
  const auto& endpoint = is_orig ? d.originating : d.terminating;
  auto mta = mta_address(*st.ctx, endpoint);
  auto route = mta ? gates->route(*mta) : std::nullopt;
  auto controller = route ? gates->controller(route->cmts) : caf::actor{};
  if (!controller) {
    logger()->warn("call={} event=gate_refused leg={} reason=\"no controller\"", d.call_id,
                   is_orig ? "orig" : "term");
    return refused(q850::temporary_failure);
  }
  qos::gate_set_request req;
  req.call_id = d.call_id;
  req.half = is_orig ? qos::half_call::originating : qos::half_call::terminating;
  req.subscriber = *mta;
  std::tie(req.remote_ip, req.remote_port) = media_of(remote_sdp);
  req.emergency = d.emergency;
  // The half-call's BCID exactly as the call's event messages carry it (event_messages.hpp), so
  // the CMTS's QoS EMs and ours correlate at the RKS.
  billing::em_identity who{gates->element_id(), gates->time_zone(), {}};
  try {
    req.bcid = billing::half_call_bcid(who, start_sequence, d.started_ms, !is_orig).encode();
  } catch (const std::exception& e) {
    logger()->error("call={} event=bcid_unencodable error=\"{}\"", d.call_id, e.what());
  }
  req.call = caf::actor_cast<caf::actor>(self);
  auto cmts = route->cmts;
  auto subscriber = *mta;
  self->request(controller, gate_request_timeout, std::move(req))
    .then(
      [self, is_orig, cmts, subscriber, granted, refused](qos::gate_outcome& o) {
        auto& st = self->state;
        auto& d = st.data;
        if (o.ok) {
          (is_orig ? d.orig_gate_id : d.term_gate_id) = o.gate_id;
          (is_orig ? d.orig_cmts : d.term_cmts) = cmts;
          (is_orig ? d.orig_gate_subscriber : d.term_gate_subscriber) = subscriber;
          if (d.phase != call_phase::setting_up) {
            // Released while the Gate-Set was on its way: the release did not know this gate.
            release_gates(self);
            return;
          }
          return granted(o.gate_id);
        }
        logger()->warn("call={} event=gate_refused leg={} cmts={} status={} error={}", d.call_id,
                       is_orig ? "orig" : "term", cmts, o.status, o.error_code);
        if (d.phase == call_phase::setting_up)
          refused(o.status == "err" ? q850::resources_unavailable : q850::temporary_failure);
      },
      [self, is_orig, cmts, refused](caf::error& err) {
        logger()->warn("call={} event=gate_refused leg={} cmts={} error=\"{}\"",
                       self->state.data.call_id, is_orig ? "orig" : "term", cmts,
                       self->system().render(err));
        if (self->state.data.phase == call_phase::setting_up)
          refused(q850::temporary_failure);
      });
}

} // namespace

void reserve_gate(call_self self, bool is_orig, const std::string& remote_sdp,
                  std::function<void(std::uint32_t)> granted, std::function<void(int)> refused) {
  auto& st = self->state;
  auto& d = st.data;
  auto* gates = st.ctx->gates.get();
  const auto& endpoint = is_orig ? d.originating : d.terminating;
  auto mta = gates ? mta_address(*st.ctx, endpoint) : std::nullopt;
  auto route = mta ? gates->route(*mta) : std::nullopt;
  if (!route || !route->dqos)
    return granted(0); // best effort: behind no CMTS, a dqos = false CMTS, or a trunk leg
  if (!gates->controller(route->cmts)) {
    logger()->warn("call={} event=gate_refused leg={} cmts={} reason=\"no controller\"", d.call_id,
                   is_orig ? "orig" : "term", route->cmts);
    return refused(q850::temporary_failure);
  }
  // The BCID numbers from the sequence of the call's signaling_start record: the outbox owns it
  // (and writes the record first if it is still in its batch window).
  auto outbox = st.ctx->outbox();
  if (!outbox) {
    logger()->error("call={} event=gate_bcid_unnumbered reason=\"no outbox\"", d.call_id);
    return send_gate_set(self, is_orig, remote_sdp, 0, std::move(granted), std::move(refused));
  }
  self
    ->request(outbox, gate_request_timeout, atom::record_sequence_v, d.call_id + ":signaling_start")
    .then(
      [self, is_orig, remote_sdp, granted, refused](std::uint64_t sequence) {
        if (sequence == 0)
          logger()->error(
            "call={} event=gate_bcid_unnumbered reason=\"signaling_start not stored\"",
            self->state.data.call_id);
        send_gate_set(self, is_orig, remote_sdp, sequence, granted, refused);
      },
      [self, is_orig, remote_sdp, granted, refused](caf::error& err) {
        logger()->error("call={} event=gate_bcid_unnumbered error=\"{}\"", self->state.data.call_id,
                        self->system().render(err));
        send_gate_set(self, is_orig, remote_sdp, 0, granted, refused);
      });
}

void release_gates(call_self self) {
  auto& st = self->state;
  auto& d = st.data;
  auto* gates = st.ctx->gates.get();
  if (!gates)
    return;
  auto del = [&](std::uint32_t id, const std::string& cmts) {
    if (id == 0)
      return;
    if (auto c = gates->controller(cmts))
      self->send(c, qos::gate_delete_request{d.call_id, id});
    else
      logger()->error("call={} event=gate_delete_lost gate_id={:08x} cmts={}", d.call_id, id, cmts);
  };
  del(d.orig_gate_id, d.orig_cmts);
  del(d.term_gate_id, d.term_cmts);
}

void adopt_gates(call_self self) {
  auto& st = self->state;
  auto& d = st.data;
  auto* gates = st.ctx->gates.get();
  if (!gates)
    return;
  auto me = caf::actor_cast<caf::actor>(self);
  auto adopt = [&](std::uint32_t id, const std::string& cmts, std::uint32_t subscriber,
                   qos::half_call half) {
    if (id == 0)
      return;
    if (auto c = gates->controller(cmts))
      self->send(c, qos::gate_adopt{d.call_id, half, id, subscriber, me});
  };
  adopt(d.orig_gate_id, d.orig_cmts, d.orig_gate_subscriber, qos::half_call::originating);
  adopt(d.term_gate_id, d.term_cmts, d.term_gate_subscriber, qos::half_call::terminating);
}

} // namespace cms::actors
