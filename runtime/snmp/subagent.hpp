#pragma once
// The node's AgentX subagent: serves CMS-SOFTSWITCH-MIB to the local snmpd master and sends its
// notifications through it.
//
// net-snmp is not thread-safe, so every net-snmp call happens on one thread owned by this object.
// Other threads only touch a mutex-protected snapshot (update()) and a trap queue (notify()) and
// wake that thread through a pipe. When the master goes away (snmpd restart) the subagent keeps
// running, pings every `ping_interval` and re-registers as soon as the master is back; traps raised
// meanwhile wait in the queue (bounded: the oldest are dropped and counted).
//
// Process-wide limitation: net-snmp keeps global state (registry, callbacks, sessions) and 5.9
// cannot be initialised again once snmp_shutdown() ran, so a process starts one subagent, once:
// start() -> stop() works (and is leak-free apart from two init-time blocks net-snmp never frees),
// but any later start() in the same process, or a second subagent, throws std::logic_error.

#include "runtime/snmp/node_view.hpp"
#include "runtime/snmp/trap.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace cms::snmp {

struct subagent_config {
  /// AgentX address of the master, as net-snmp spells it: "unix:/var/agentx/master",
  /// "tcp:127.0.0.1:705".
  std::string agentx_socket = "unix:/var/agentx/master";
  /// Name the subagent registers under (also the net-snmp application name).
  std::string name = "cmsd";
  /// How often the subagent pings the master, and retries connecting while it is away.
  std::chrono::seconds ping_interval{5};
  /// Traps kept while the master is unreachable; beyond that the oldest are dropped.
  std::size_t trap_queue_limit = 1024;
};

/// Counters of the subagent, for the node's own metrics and for tests.
struct subagent_stats {
  bool connected = false;             ///< the master session is open right now
  std::uint64_t connects = 0;         ///< master sessions opened (first connect and reconnects)
  std::uint64_t updates = 0;          ///< views accepted by update()
  std::uint64_t updates_rejected = 0; ///< views refused by update() (see last_error)
  std::uint64_t traps_sent = 0;       ///< traps handed to the master
  std::uint64_t traps_dropped = 0;    ///< traps dropped: queue full or invalid
  std::size_t traps_queued = 0;       ///< traps waiting for the master
  std::string last_error;             ///< why the last update() or notify() was refused
};

class subagent {
public:
  explicit subagent(subagent_config config);
  /// Stops the subagent if it runs.
  ~subagent();

  subagent(const subagent&) = delete;
  subagent& operator=(const subagent&) = delete;

  /// Starts the net-snmp thread and returns once the MIB is registered with the library (the
  /// master may still be unreachable: the subagent keeps trying). Throws std::runtime_error if
  /// net-snmp cannot be initialised and std::logic_error if a subagent already ran or runs in
  /// this process (see the limitation above). Calling it on a running subagent does nothing.
  void start();

  /// Closes the master session, shuts net-snmp down and joins the thread. Prompt (well under a
  /// second). Traps still queued are dropped and counted. Idempotent.
  void stop();

  bool running() const noexcept;

  /// Publishes a new view. Returns false, counts and keeps the previous view if the view breaks
  /// the MIB's constraints (see validate()); the reason is in stats().last_error.
  bool update(const node_view& view);

  /// Queues a notification for the master. Returns false (and counts) if the queue was full, in
  /// which case the oldest queued trap was dropped to make room, or if the trap is invalid.
  bool notify(trap t);

  subagent_stats stats() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace cms::snmp
