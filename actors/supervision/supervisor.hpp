#pragma once
// An OTP-style supervisor for CAF 0.17 (whose actor_pool never restarts anything): children are
// spawned from specs and monitored; a child that dies is restarted one-for-one; more than
// `max_restarts` restarts within `period` means something is badly wrong below, so the supervisor
// kills its remaining children and quits with the child's reason, escalating to its own parent.
//
// Protocol:
//   (atom::lookup, std::string child_id) -> caf::actor   current handle of a child (error if none)
//   (atom::children)                     -> std::string  JSON array [{id, restarts, running}]

#include "actors/type_ids.hpp"
#include "runtime/base/metrics.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cms::actors {

enum class restart_policy {
  permanent, ///< always restarted
  transient, ///< restarted only after an abnormal exit
  temporary  ///< never restarted
};

struct child_spec {
  std::string id;
  /// Spawns the child from the supervisor's context (use self->spawn); the supervisor monitors it.
  /// A restarted child is started by the same function, which should recover its state (from
  /// the store or the replicated snapshot) rather than start blank.
  std::function<caf::actor(caf::event_based_actor* self)> start;
  restart_policy policy = restart_policy::permanent;
};

struct restart_intensity {
  int max_restarts = 5;
  caf::timespan period = std::chrono::seconds{10};
};

struct supervisor_state {
  struct child {
    child_spec spec;
    caf::actor handle;
    std::uint64_t restarts = 0;
  };
  std::string name;
  std::vector<child> children;
  std::deque<caf::actor_clock::time_point> recent_restarts;
  restart_intensity intensity;
  metrics::registry* metrics = nullptr;
  static inline const char* name_for_caf = "supervisor";
};

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, std::string name,
                         std::vector<child_spec> children, restart_intensity intensity,
                         metrics::registry* metrics);

/// Convenience: a child spec that runs a nested supervisor (its escalation reaches us as a down).
child_spec supervisor_child(std::string id, std::vector<child_spec> children,
                            restart_intensity intensity, metrics::registry* metrics);

} // namespace cms::actors
