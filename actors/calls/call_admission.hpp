#pragma once
// Overload control of call processing: every new call attempt (a line goes off
// hook while idle) asks admit() before a call actor is spawned. Above the configured capacity the
// attempt is shed at once with reorder (L/ro) to the MTA: it costs the node one RQNT instead of
// the ~20 MGCP transactions of a call, so established calls and their signalling keep the CPU and
// the throughput of completed calls stays near capacity (the telecom overload rule: >= 90% of
// capacity at 130% offered load). Also honours the operator's drain switch (runtime/base/admission.hpp)
// when one is attached, and the pair's role: once the node follows its HA actor
// (follow_ha_role), only the ACTIVE node admits new calls. The MGCP edge of a standby is fenced as
// well, but a node that stepped down (lease lost, cut off from its peer and the witnesses) keeps
// its edge open for the calls it carries: admission is what stops it from starting new ones
// (docs/ha.md, split-brain guard).
//
// The limit is a token bucket in call attempts per second (`[calls] max_call_rate` in the node
// config; 0 = unlimited). Thread-safe: endpoint actors on every scheduler thread call admit().

#include "actors/ha/ha_rules.hpp"
#include "runtime/base/admission.hpp"
#include "runtime/base/metrics.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <mutex>

namespace cms::actors {

class call_admission {
public:
  enum class verdict { admitted, shed_rate, shed_drain, shed_not_active, shed_billing_backlog };

  /// rate: attempts per second (0 = no limit); burst: bucket depth in attempts (0 = rate / 5,
  /// at least 1: a 200 ms burst is absorbed, a sustained excess is not).
  call_admission(double rate, double burst, metrics::registry& registry);

  /// Consumes a token when the attempt is admitted. `now` is injectable for tests.
  verdict admit(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  /// The operator's drain switch, consulted first; null detaches it. Must outlive the calls.
  void attach_drain(const cms::admission* drain) noexcept {
    drain_.store(drain, std::memory_order_release);
  }

  /// From now on admit only while set_ha_role said active (closed until the first role arrives).
  /// Without this call the role is ignored (call-processing tests, tools without a pair).
  void follow_ha_role() noexcept;
  /// The HA actor's current role (fed by call_admission_role_follower).
  void set_ha_role(ha::role r) noexcept;
  /// True when new calls pass the role gate (not following a role, or active).
  bool role_admits() const noexcept {
    return gate_.load(std::memory_order_acquire) != gate::closed;
  }

  /// The billing outbox holds its maximum of unwritten records (store refusing writes): new calls
  /// are refused until it clears, so memory stays bounded and no record is dropped.
  void set_billing_backlog(bool full) noexcept;
  bool billing_backlog() const noexcept { return billing_full_.load(std::memory_order_acquire); }

  double rate() const noexcept { return rate_; }
  double burst() const noexcept { return burst_; }

private:
  const double rate_;
  const double burst_;
  std::atomic<const cms::admission*> drain_{nullptr};
  enum class gate : std::uint8_t { ignored, closed, open };
  std::atomic<gate> gate_{gate::ignored};
  std::atomic<bool> billing_full_{false};
  std::mutex mutex_; ///< guards the bucket (one short critical section per call attempt)
  double tokens_;
  std::chrono::steady_clock::time_point last_{};
  metrics::counter& admitted_;
  metrics::counter& shed_rate_;
  metrics::counter& shed_drain_;
  metrics::counter& shed_not_active_;
  metrics::counter& shed_billing_;
  metrics::gauge& billing_full_gauge_;
  metrics::gauge& role_open_;
};

/// A role follower of the HA actor (the node subscribes it, again after either restarts): feeds
/// every (atom::role_changed, role, epoch) to `admission->set_ha_role`. The node calls
/// follow_ha_role first; the admission object must outlive the actor.
caf::behavior call_admission_role_follower(caf::event_based_actor* self, call_admission* admission);

} // namespace cms::actors
