#pragma once
// The pair's election, epoch and failure-detection rules as a pure state machine: no actors, no
// clocks, no I/O. The HA actor feeds it events and carries out the effects it returns; the unit
// tests, the Promela model (docs/model) and the deterministic simulation drive the very same code.
//
// Safety rests on two rules:
//  1. Promotion always takes a new epoch (epoch + 1), and a node becomes active only once a
//     majority of witnesses granted that epoch to it. A witness grants an epoch at most once, so
//     two nodes can never be active in the same epoch.
//  2. An active node holds a lease renewed with a witness majority; it stops accepting new calls
//     (steps down) when the lease runs out, and at once when it learns of a higher epoch. The
//     window in which an old active may still accept calls after a new one was granted is bounded
//     by the lease duration.
// With zero witnesses configured (a lab pair) rule 1 degrades to "promote when the peer is lost on
// both paths": documented as unsafe under partition.

#include <caf/meta/type_name.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::ha {

enum class role : std::uint8_t { starting, standby, active, stepping_down };
const char* to_string(role r) noexcept;

using clock_time = std::chrono::steady_clock::time_point;
using duration = std::chrono::milliseconds;

/// Epochs are stored as SQLite's signed 64-bit integers: none may exceed this, and a claim at it
/// is refused rather than wrapped (an epoch never goes backwards).
constexpr std::uint64_t max_epoch = 0x7fff'ffff'ffff'ffffULL;
/// An epoch learnt from a message may be at most this far above ours. Each promotion takes one
/// epoch; a jump of millions only comes from a bug or a forgery, and accepting it would bring the
/// pair closer to max_epoch for nothing.
constexpr std::uint64_t max_epoch_jump = 1'000'000;

/// What a heartbeat tells about the peer (carried on both paths).
struct peer_info {
  std::string node_id;
  role peer_role = role::starting;
  std::uint64_t epoch = 0;
  int priority = 0;
  std::uint64_t applied_seq = 0; ///< replication position the peer holds
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_info& x) {
  return f(caf::meta::type_name("peer_info"), x.node_id, x.peer_role, x.epoch, x.priority,
           x.applied_seq);
}

enum class path : std::uint8_t { node_link, udp };

struct ha_settings {
  std::string node_id;
  int priority = 100;
  duration heartbeat_interval{100};
  int heartbeat_misses = 3;       ///< a path is down after this many silent intervals
  duration discovery_window{600}; ///< at start, how long to listen for an active peer
  int witnesses = 0;              ///< configured witnesses; majority = witnesses / 2 + 1
  /// Active's witness lease, renewed every heartbeat interval (so 4 renewals may fail in a row
  /// before the active steps down). It bounds failover with witnesses: the standby cannot be
  /// granted the next epoch before the dead active's lease ran out at a witness majority.
  duration lease{500};
  /// After a refused claim, ask again this soon rather than a whole heartbeat interval later:
  /// the refusal usually means the dead active's lease is about to run out (docs/ha.md).
  duration claim_retry{25};
  bool preempt = false; ///< a returning higher-priority node takes over
};

/// Everything the rules remember. Plain data: persisted (epoch), replicated and shown over HTTP.
struct ha_state {
  role current = role::starting;
  std::uint64_t epoch = 0;       ///< highest epoch this node knows of
  std::optional<peer_info> peer; ///< last heartbeat content
  clock_time started{};
  clock_time last_node_link{}; ///< last heartbeat on each path
  clock_time last_udp{};
  bool node_link_up = false;
  bool udp_up = false;
  bool claiming = false;      ///< a claim for epoch + 1 is out at the witnesses
  clock_time claim_sent{};    ///< when that claim was sent: the first lease counts from here
  bool claim_refused = false; ///< the last claim's answer was a refusal (retry soon)
  clock_time lease_until{};   ///< active only: valid witness lease
  std::string last_transition_reason;
};

/// What the HA actor must do after an event. Applied in order.
struct effect {
  enum kind_t : std::uint8_t {
    persist_epoch,    ///< write `epoch` to the store before anything else
    claim_epoch,      ///< ask witnesses to grant `epoch` to us
    renew_lease,      ///< ask witnesses to confirm our lease for `epoch`
    become_active,    ///< take over: claim endpoints and gateways, accept new calls
    become_standby,   ///< stop accepting calls; resynchronise from the active (snapshot)
    step_down,        ///< lost the guard: stop accepting new calls until the peer is seen
    request_snapshot, ///< standby (re)joined: ask the active for a snapshot + stream
    release_lease     ///< graceful hand-over: tell witnesses our lease ends now
  } kind;
  std::uint64_t epoch = 0;
  std::string reason;
};

using effects = std::vector<effect>;

class ha_rules {
public:
  explicit ha_rules(ha_settings s) : settings_(std::move(s)) {}

  const ha_state& state() const noexcept { return state_; }
  const ha_settings& settings() const noexcept { return settings_; }

  /// Start-up with the epoch persisted in the store.
  effects start(std::uint64_t persisted_epoch, clock_time now);
  /// A heartbeat from the peer arrived on one path.
  effects on_heartbeat(path p, const peer_info& peer, clock_time now);
  /// Periodic evaluation (every heartbeat interval): detection, discovery, lease expiry.
  effects on_tick(clock_time now);
  /// Witness answers to claim_epoch: `granted` of the configured witnesses said yes.
  effects on_claim_result(std::uint64_t epoch, int granted, clock_time now);
  /// The whole witness tally of a claim: the verdict, the highest epoch any witness reported, and
  /// the highest epoch reported by a witness that refused. A refusal reporting the claimed epoch
  /// itself means another node holds it there: we learn it, otherwise we would claim the same,
  /// taken epoch for ever (docs/ha.md). Our own minority grants teach nothing (no epoch race).
  effects on_claim_tally(std::uint64_t epoch, int granted, std::uint64_t highest,
                         std::uint64_t highest_refused, clock_time now);
  /// When to call on_claim_retry: after a refused claim, while this node would still claim.
  std::optional<duration> claim_retry_due() const;
  /// The retry timer fired: claim again if a standby (or stepping-down node) still hears no peer,
  /// i.e. exactly on_tick's claim condition, evaluated sooner. Witness-guarded like every claim.
  effects on_claim_retry(clock_time now);
  /// Witness answers to renew_lease.
  effects on_renew_result(std::uint64_t epoch, int granted, clock_time now);
  /// Graceful switchover: on the active, hand over (become standby once the peer took over);
  /// on the standby (asked by the active), claim the next epoch.
  effects on_switchover_request(clock_time now);
  /// Any message (replication, MGCP takeover, witness refusal) revealing a higher epoch. An epoch
  /// above max_epoch or more than max_epoch_jump above ours is ignored (epoch_plausible).
  effects on_higher_epoch(std::uint64_t epoch, const std::string& source, clock_time now);
  /// Writing `epoch` to the store failed. A node must never act on an epoch that is not durable:
  /// an active (or a node that just promoted) steps down; other roles are safe as they are.
  effects on_epoch_write_failed(std::uint64_t epoch, clock_time now);
  /// True when `epoch` may be learnt: not above max_epoch nor max_epoch_jump above ours.
  bool epoch_plausible(std::uint64_t epoch) const noexcept;

  /// What our heartbeats say about us.
  peer_info self_info(std::uint64_t applied_seq) const;
  /// New call attempts are accepted only by an active node holding a valid lease.
  bool accepts_new_calls(clock_time now) const;
  bool peer_alive() const noexcept { return state_.node_link_up || state_.udp_up; }
  int majority() const noexcept { return settings_.witnesses / 2 + 1; }

private:
  effects claim(clock_time now, const std::string& reason);
  effects demote(role to, std::uint64_t epoch, const std::string& reason);
  bool peer_outranks_us() const;

  ha_settings settings_;
  ha_state state_;
};

} // namespace cms::ha
