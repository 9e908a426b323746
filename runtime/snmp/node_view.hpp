#pragma once
// What the node shows through SNMP: one plain value holding every object of CMS-SOFTSWITCH-MIB
// (config/snmp/CMS-SOFTSWITCH-MIB.txt). The node fills it from its own state and hands a copy to
// cms::snmp::subagent::update(); the subagent thread serves GET/GETNEXT from that copy, so no
// net-snmp call ever runs on a node thread and no node lock is held while a manager walks a table.
//
// Enumerations carry the MIB's integer values, so a static_cast<int> is the wire value.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cms::snmp {

/// CmsPairRole: role of this node in the active/standby pair.
enum class node_role : int { active = 1, standby = 2, starting = 3, stepping_down = 4 };

/// CmsReachability: peer node or one heartbeat path. unknown until the first heartbeat round ends.
enum class reachability : int { up = 1, down = 2, unknown = 3 };

/// CmsLinkKind: primary or backup data link.
enum class link_kind : int { primary = 1, backup = 2 };

/// CmsLinkStatus: state of a data link; degraded = carries traffic but loses keep-alives.
enum class link_status : int { up = 1, down = 2, degraded = 3 };

/// CmsGatewayUse: how a gateway is used; a cold spare is promoted when a gateway fails.
enum class gateway_use : int { primary = 1, backup = 2, cold_spare = 3 };

/// CmsServiceState: service state of a gateway or a facility.
enum class service_state : int {
  in_service = 1,
  out_of_service = 2,
  failed = 3,
  degraded = 4,
  unknown = 5
};

/// CmsTrunkSignalling: signalling of a trunk facility.
enum class trunk_signalling : int { pri = 1, ss7 = 2 };

/// cmsBillingBacklogAlarm.
enum class backlog_alarm : int { normal = 1, high = 2 };

/// One row of cmsCallFailureTable: failed call attempts of one release cause.
struct call_failure_row {
  std::uint32_t cause = 0; ///< index: Q.850 cause value (1..127) or node cause (> 127), <= 65535
  std::string name;        ///< e.g. "userBusy"
  std::uint64_t count = 0;
};

/// One row of cmsGatewayTable.
struct gateway_row {
  std::uint32_t index = 0; ///< 1..65535, stable while the node runs
  std::string name;        ///< MGCP domain name of the gateway
  std::string address;     ///< host:port of its signalling address
  std::string segment;
  gateway_use role = gateway_use::primary;
  service_state state = service_state::unknown;
  std::string facility; ///< facility id it terminates, empty for a line gateway
  std::string carrier;
};

/// One row of cmsFacilityTable.
struct facility_row {
  std::uint32_t index = 0; ///< 1..65535
  std::string id;
  std::string gateway; ///< name of the gateway terminating it
  trunk_signalling kind = trunk_signalling::pri;
  std::string carrier;
  std::uint32_t channels_idle = 0;
  std::uint32_t channels_busy = 0;
  std::uint32_t channels_oos = 0;
  service_state state = service_state::unknown;
};

/// One row of cmsDataLinkTable.
struct data_link_row {
  std::uint32_t index = 0; ///< 1..65535
  std::string name;
  link_kind kind = link_kind::primary;
  link_status state = link_status::down;
  /// Wall-clock time of the last state change (served as DateAndTime in UTC); the epoch of the
  /// clock (1970) means "never changed since start".
  std::chrono::system_clock::time_point last_change{};
  std::uint32_t transitions = 0;
};

/// Every value of CMS-SOFTSWITCH-MIB. Defaults describe a node that has just started.
struct node_view {
  // cmsNode
  std::string node_id;
  node_role role = node_role::starting;
  std::uint32_t epoch = 0;
  reachability peer = reachability::unknown;
  reachability heartbeat_peer_link = reachability::unknown;
  reachability heartbeat_second_path = reachability::unknown;
  std::uint32_t replication_lag_records = 0;
  std::uint32_t replication_lag_ms = 0;

  // cmsEndpoints
  std::uint32_t endpoints_registered = 0;
  std::uint32_t endpoints_total = 0;

  // cmsCalls
  std::uint32_t calls_active = 0;
  std::uint64_t call_attempts = 0;
  std::uint64_t call_completions = 0;
  std::uint64_t call_failures = 0;
  std::vector<call_failure_row> call_failures_by_cause;

  // cmsTrunks
  std::vector<gateway_row> gateways;
  std::vector<facility_row> facilities;

  // cmsDataLinks
  std::vector<data_link_row> data_links;

  // cmsBilling
  std::uint32_t billing_backlog_records = 0;
  std::uint32_t billing_backlog_high_water = 0;
  backlog_alarm billing_backlog_alarm = backlog_alarm::normal;
};

/// Largest index the MIB allows for every table (Unsigned32 (1..65535)).
inline constexpr std::uint32_t max_table_index = 65535;

/// Longest DisplayString the MIB allows for names, ids and addresses (SIZE (0..64)).
inline constexpr std::size_t max_name_length = 64;

/// Checks a view against the MIB's constraints: table indexes in 1..65535 and unique per table,
/// strings no longer than the MIB allows, enumerations within range. Returns an empty string when
/// the view can be served, otherwise a message naming the first offending row and field.
std::string validate(const node_view& view);

} // namespace cms::snmp
