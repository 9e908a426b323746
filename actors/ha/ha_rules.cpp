#include "actors/ha/ha_rules.hpp"

#include <algorithm>
#include <tuple>

namespace cms::ha {

const char* to_string(role r) noexcept {
  switch (r) {
  case role::starting:
    return "starting";
  case role::standby:
    return "standby";
  case role::active:
    return "active";
  case role::stepping_down:
    return "stepping-down";
  }
  return "unknown";
}

effects ha_rules::start(std::uint64_t persisted_epoch, clock_time now) {
  state_ = ha_state{};
  state_.epoch = persisted_epoch;
  state_.started = now;
  state_.last_transition_reason = "start";
  return {};
}

peer_info ha_rules::self_info(std::uint64_t applied_seq) const {
  return {settings_.node_id, state_.current, state_.epoch, settings_.priority, applied_seq};
}

bool ha_rules::accepts_new_calls(clock_time now) const {
  if (state_.current != role::active)
    return false;
  return settings_.witnesses == 0 || now < state_.lease_until;
}

/// Election order when nobody is active: the higher epoch (it has seen more), then priority,
/// then the smaller node id, so both nodes reach the same verdict from the same heartbeats.
bool ha_rules::peer_outranks_us() const {
  if (!state_.peer)
    return false;
  auto& p = *state_.peer;
  if (p.epoch != state_.epoch)
    return p.epoch > state_.epoch;
  if (p.priority != settings_.priority)
    return p.priority > settings_.priority;
  return p.node_id < settings_.node_id;
}

effects ha_rules::claim(clock_time now, const std::string& reason) {
  if (state_.claiming)
    return {};
  if (state_.epoch >= max_epoch) {
    // No epoch left to claim: wrapping would take an epoch already used.
    state_.last_transition_reason = "epoch space exhausted: cannot claim";
    return {};
  }
  auto next = state_.epoch + 1;
  if (settings_.witnesses == 0) {
    // No guard configured: promote on our own judgement (lab pairs; unsafe under partition).
    state_.epoch = next;
    state_.current = role::active;
    state_.lease_until = clock_time::max();
    state_.last_transition_reason = reason;
    return {{effect::persist_epoch, next, reason}, {effect::become_active, next, reason}};
  }
  state_.claiming = true;
  state_.claim_refused = false;
  state_.claim_sent = now;
  state_.last_transition_reason = reason;
  return {{effect::claim_epoch, next, reason}};
}

effects ha_rules::demote(role to, std::uint64_t epoch, const std::string& reason) {
  effects out;
  if (epoch > state_.epoch) {
    state_.epoch = epoch;
    out.push_back({effect::persist_epoch, epoch, reason});
  }
  state_.claiming = false;
  state_.lease_until = {};
  auto was = state_.current;
  state_.current = to;
  state_.last_transition_reason = reason;
  if (to == role::standby) {
    if (was != role::standby)
      out.push_back({effect::become_standby, state_.epoch, reason});
    out.push_back({effect::request_snapshot, state_.epoch, reason});
  } else if (to == role::stepping_down && was != role::stepping_down) {
    out.push_back({effect::step_down, state_.epoch, reason});
  }
  return out;
}

effects ha_rules::on_heartbeat(path p, const peer_info& peer, clock_time now) {
  // A heartbeat with an implausible epoch is ignored whole: its sender is not a sane peer.
  if (peer.epoch > state_.epoch && !epoch_plausible(peer.epoch))
    return {};
  bool was_alive = peer_alive();
  if (p == path::node_link) {
    state_.last_node_link = now;
    state_.node_link_up = true;
  } else {
    state_.last_udp = now;
    state_.udp_up = true;
  }
  bool changed_role =
    !state_.peer || state_.peer->peer_role != peer.peer_role || state_.peer->epoch != peer.epoch;
  state_.peer = peer;
  if (peer.epoch > state_.epoch)
    return on_higher_epoch(peer.epoch, "heartbeat from " + peer.node_id, now);
  switch (state_.current) {
  case role::active:
    if (peer.peer_role == role::active && peer.epoch == state_.epoch && peer_outranks_us())
      return demote(role::standby, peer.epoch, "two actives in one epoch: peer outranks us");
    return {};
  case role::starting:
    if (peer.peer_role == role::active)
      return demote(role::standby, peer.epoch, "peer " + peer.node_id + " is active");
    if (peer.peer_role == role::stepping_down)
      return claim(now, "election: peer " + peer.node_id + " is stepping down");
    if (!peer_outranks_us())
      return claim(now, "election: no active node, we outrank " + peer.node_id);
    return {};
  case role::stepping_down:
    // Only the peer's activity or its loss (on_tick) moves us on: never race a hand-over.
    if (peer.peer_role == role::active)
      return demote(role::standby, peer.epoch, "peer " + peer.node_id + " is active");
    return {};
  case role::standby:
    if (peer.peer_role == role::active) {
      // A standby that saw the peer vanish and come back resynchronises (it may have missed
      // part of the stream while the paths were down).
      if (!was_alive || changed_role)
        return {{effect::request_snapshot, state_.epoch, "peer active again"}};
      return {};
    }
    if (peer.peer_role == role::stepping_down)
      return claim(now, "peer " + peer.node_id + " stepped down");
    if (!peer_outranks_us())
      return claim(now, "election: no active node, we outrank " + peer.node_id);
    return {};
  }
  return {};
}

effects ha_rules::on_tick(clock_time now) {
  auto silent = settings_.heartbeat_interval * settings_.heartbeat_misses;
  bool was_alive = peer_alive();
  if (state_.node_link_up && now - state_.last_node_link > silent)
    state_.node_link_up = false;
  if (state_.udp_up && now - state_.last_udp > silent)
    state_.udp_up = false;
  bool alive = peer_alive();

  switch (state_.current) {
  case role::starting:
    if (!state_.peer && now - state_.started >= settings_.discovery_window)
      return claim(now, "no peer heard within the discovery window");
    if (state_.peer && !alive)
      return claim(now, "peer silent at start-up");
    return {};
  case role::standby:
    // With witnesses a claim is always guarded, so a standby that hears nobody claims even if it
    // never heard its peer (it became standby from a witness's or a message's higher epoch).
    if (!alive && (was_alive || state_.peer || settings_.witnesses > 0))
      return claim(now, was_alive ? "peer lost on both heartbeat paths" : "peer still lost");
    return {};
  case role::stepping_down:
    if (!alive)
      return claim(now, "stepped down and peer lost: try to reclaim");
    return {};
  case role::active:
    if (settings_.witnesses == 0)
      return {};
    if (now >= state_.lease_until)
      return demote(role::stepping_down, state_.epoch, "witness lease expired");
    return {{effect::renew_lease, state_.epoch, "lease renewal"}};
  }
  return {};
}

effects ha_rules::on_claim_result(std::uint64_t epoch, int granted, clock_time now) {
  if (!state_.claiming || epoch != state_.epoch + 1)
    return {}; // stale: we learned of another epoch meanwhile
  state_.claiming = false;
  if (granted < majority()) {
    state_.claim_refused = true;
    state_.last_transition_reason = "claim of epoch " + std::to_string(epoch) + " refused (" +
                                    std::to_string(granted) + " of " +
                                    std::to_string(settings_.witnesses) + " witnesses)";
    return {};
  }
  state_.epoch = epoch;
  state_.current = role::active;
  // Measured from when the claim was sent, as for renewals: each witness counts its lease from
  // when it granted, which is later. Counting from the answer would let this node accept calls
  // after the witnesses consider the lease over and grant the next epoch (docs/ha.md).
  (void)now;
  state_.lease_until = state_.claim_sent + settings_.lease;
  auto reason = state_.last_transition_reason;
  return {{effect::persist_epoch, epoch, reason}, {effect::become_active, epoch, reason}};
}

effects ha_rules::on_claim_tally(std::uint64_t epoch, int granted, std::uint64_t highest,
                                 std::uint64_t highest_refused, clock_time now) {
  auto fx = on_claim_result(epoch, granted, now);
  std::uint64_t learned = 0;
  if (highest > epoch)
    learned = highest;
  if (highest_refused >= epoch)
    learned = std::max(learned, highest_refused);
  if (learned > state_.epoch)
    for (auto& e : on_higher_epoch(learned, "witness", now))
      fx.push_back(e);
  return fx;
}

std::optional<duration> ha_rules::claim_retry_due() const {
  bool would_claim = state_.current == role::standby || state_.current == role::stepping_down;
  if (settings_.witnesses == 0 || !state_.claim_refused || state_.claiming || !would_claim ||
      peer_alive())
    return std::nullopt;
  return settings_.claim_retry;
}

effects ha_rules::on_claim_retry(clock_time now) {
  if (!claim_retry_due())
    return {};
  return claim(now, state_.current == role::standby ? "peer still lost (claim retry)"
                                                    : "stepped down and peer lost: claim retry");
}

effects ha_rules::on_renew_result(std::uint64_t epoch, int granted, clock_time sent_at) {
  if (state_.current != role::active || epoch != state_.epoch)
    return {};
  // Measured from when the renewal was sent: our lease ends before any witness's view of it.
  if (granted >= majority())
    state_.lease_until = std::max(state_.lease_until, sent_at + settings_.lease);
  return {};
}

effects ha_rules::on_switchover_request(clock_time now) {
  if (state_.current == role::active) {
    auto out = demote(role::stepping_down, state_.epoch, "graceful switchover: handing over");
    out.push_back({effect::release_lease, state_.epoch, "graceful switchover"});
    return out;
  }
  if (state_.current == role::standby)
    return claim(now, "graceful switchover requested by the active");
  return {};
}

bool ha_rules::epoch_plausible(std::uint64_t epoch) const noexcept {
  return epoch <= max_epoch &&
         (state_.epoch >= max_epoch - max_epoch_jump || epoch <= state_.epoch + max_epoch_jump);
}

effects ha_rules::on_epoch_write_failed(std::uint64_t epoch, clock_time) {
  if (state_.current != role::active)
    return {};
  // The rules' epoch stays: it is the highest we know of, and the next claim goes above it.
  return demote(role::stepping_down, 0,
                "epoch " + std::to_string(epoch) + " could not be stored: stepping down");
}

effects ha_rules::on_higher_epoch(std::uint64_t epoch, const std::string& source, clock_time) {
  if (epoch <= state_.epoch || !epoch_plausible(epoch))
    return {};
  return demote(role::standby, epoch, "higher epoch " + std::to_string(epoch) + " from " + source);
}

} // namespace cms::ha
