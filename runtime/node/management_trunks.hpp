#pragma once
// What the management plane watches of the trunks: each gateway's health, whether a cold spare
// carries facilities, and each facility's service state. Trunk control keeps these in its shared
// state (actors/trunks/trunk_context.hpp: thread-safe, no actor round trip), so the management service
// reads them on every poll, exactly as it reads the data link gauges, and compares two readings:
//
//   gateway healthy -> failed          event "gateway" (critical)   cmsGatewayFailed
//   gateway failed -> healthy          event "gateway" (info)       cmsGatewayRestored
//   cold spare starts carrying          event "cold_spare" (warning) cmsColdSparePromoted
//   facility in service -> out         event "facility" (critical)  cmsFacilityDown
//   facility out -> in service         event "facility" (info)      cmsFacilityUp
//
// The first reading is compared with what the trunk actors assume at start (every gateway
// healthy, no spare promoted, every facility up), so a gateway that never answered is alarmed too.
// A gateway that failed and recovered between two readings is seen by its transition count, a
// span dropped and restored between two readings by its drop count.

#include "runtime/node/cluster_events.hpp"
#include "runtime/snmp/trap.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace cms {

namespace trunks {
class trunk_context;
}

struct gateway_status {
  std::string name;
  std::string address; ///< host:port of its MGCP side
  std::string role;    ///< "active" | "cold_spare"
  std::string carrier; ///< of the (first) facility it is home of or carries
  bool healthy = true;
  bool forced = false;                ///< failed by an RSIP forced (else: keepalives unanswered)
  int misses = 0;                     ///< AUEP keepalives unanswered in a row
  std::uint64_t transitions = 0;      ///< health changes since start
  std::vector<std::string> carrying;  ///< facilities it carries now
  std::vector<std::string> replacing; ///< cold spare: home gateways of the facilities it carries
  std::int64_t promoted_ms = 0;       ///< cold spare: when it took over (0: cold)
};

struct facility_status {
  std::string id;
  std::string home_gateway;
  std::string gateway; ///< carrying it now (home, or a promoted spare)
  std::string carrier;
  bool known = false; ///< its trunk actor has published a state
  bool in_service = true;
  bool span_down = false;       ///< dropped by its gateway (RSIP forced/graceful on the span)
  std::uint64_t span_drops = 0; ///< times its gateway dropped the span since start
  std::uint32_t channels_idle = 0;
  std::uint32_t channels_busy = 0; ///< seized or in a call
  std::uint32_t channels_oos = 0;  ///< out of service or blocked
};

struct trunk_status {
  std::vector<gateway_status> gateways;
  std::vector<facility_status> facilities;
};

using trunk_status_source = std::function<trunk_status()>;

/// Reads trunk control's shared state (any thread, never blocks on an actor).
trunk_status_source trunk_status_of(std::shared_ptr<trunks::trunk_context> ctx);

/// What the trunk actors assume at start, for the gateways and facilities of `now`.
trunk_status trunk_baseline(const trunk_status& now);

enum class trunk_alarm_kind {
  gateway_failed,
  gateway_restored,
  spare_promoted,
  facility_down,
  facility_up
};

struct trunk_alarm {
  trunk_alarm_kind kind = trunk_alarm_kind::gateway_failed;
  std::string subject;  ///< gateway name (spare for a promotion) or facility id
  std::string address;  ///< gateway address
  std::string gateway;  ///< facility alarms: the gateway carrying it
  std::string replaced; ///< promotion: the failed gateway(s) it stands in for
  std::string carrier;
  std::string reason;
};

/// Alarms due between two readings, in the order they happened as far as can be told
/// (failures before promotions before facility changes).
std::vector<trunk_alarm> trunk_alarms_between(const trunk_status& before, const trunk_status& now);

event_text to_event(const trunk_alarm& a);
snmp::trap to_trap(const trunk_alarm& a);

/// Gateway and facility alarms belong to the active node. Only it talks to the gateways: a
/// standby's MGCP edge is fenced, so its gateway actors find every gateway silent, and its alarms
/// would page the operator a second time for a fault that does not exist. Feed it every reading
/// with the node's role: alarms come out only while the node is active and `settle` after it
/// became active (its first keepalives answered). The first reading then is compared with the
/// start assumption (trunk_baseline), so what is still failed at a takeover is raised once, by
/// the new active.
class trunk_alarm_gate {
public:
  explicit trunk_alarm_gate(std::chrono::milliseconds settle = std::chrono::seconds{3})
    : settle_(settle) {}

  std::vector<trunk_alarm> update(bool active, const trunk_status& now,
                                  std::chrono::steady_clock::time_point at);

private:
  std::chrono::milliseconds settle_;
  std::optional<std::chrono::steady_clock::time_point> active_since_;
  std::optional<trunk_status> last_;
};

} // namespace cms
