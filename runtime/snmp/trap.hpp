#pragma once
// A notification of CMS-SOFTSWITCH-MIB as a plain value: which one (kind) and the values of its
// varbinds. Build one with the named constructors, which fill exactly the fields the MIB's
// OBJECTS clause of that notification lists, and hand it to cms::snmp::subagent::notify().

#include "runtime/snmp/node_view.hpp"

#include <cstdint>
#include <string>

namespace cms::snmp {

/// The notifications, numbered as in the MIB (cmsNotifications.N).
enum class trap_kind : int {
  failover = 1,                ///< cmsFailover: unplanned takeover of the active role
  role_change = 2,             ///< cmsRoleChange: any other role change
  data_link_down = 3,          ///< cmsDataLinkDown: a data link went down or degraded
  data_link_up = 4,            ///< cmsDataLinkUp: a data link came back
  gateway_failed = 5,          ///< cmsGatewayFailed
  cold_spare_promoted = 6,     ///< cmsColdSparePromoted
  billing_backlog_high = 7,    ///< cmsBillingBacklogHigh
  billing_backlog_cleared = 8, ///< cmsBillingBacklogCleared
  gateway_restored = 9,        ///< cmsGatewayRestored: clears cmsGatewayFailed
  facility_down = 10,          ///< cmsFacilityDown: a carrier's facility is out of service
  facility_up = 11,            ///< cmsFacilityUp: clears cmsFacilityDown
};

/// Highest trap_kind value (the MIB's last notification).
inline constexpr int last_trap_kind = 11;

/// MIB name of a notification, e.g. "cmsDataLinkDown".
const char* to_string(trap_kind kind) noexcept;

struct trap {
  trap_kind kind = trap_kind::role_change;

  // cmsFailover, cmsRoleChange
  std::string node_id;
  node_role role = node_role::starting;
  node_role previous_role = node_role::starting;
  std::uint32_t epoch = 0; ///< also sent with the data link notifications

  // cmsDataLinkDown, cmsDataLinkUp
  std::string link_name;
  link_kind link = link_kind::primary;
  link_status link_state = link_status::down;

  // cmsGatewayFailed, cmsGatewayRestored, cmsColdSparePromoted, cmsFacilityDown/Up
  std::string gateway_name; ///< for a promotion: the spare; for a facility: its carrying gateway
  std::string gateway_address;
  std::string replaced_gateway; ///< for a promotion: the failed gateway
  std::string carrier;
  std::string facility_id; ///< cmsFacilityDown, cmsFacilityUp

  // cmsBillingBacklogHigh, cmsBillingBacklogCleared
  std::uint32_t backlog_records = 0;
  std::uint32_t backlog_high_water = 0;

  /// Free text for the operator (cmsNotifyReason); every kind except the billing ones sends it.
  std::string reason;

  static trap failover(std::string node_id, node_role previous, std::uint32_t epoch,
                       std::string reason);
  static trap role_change(std::string node_id, node_role previous, node_role now,
                          std::uint32_t epoch, std::string reason);
  static trap data_link_down(std::string link_name, link_kind kind, link_status state,
                             std::uint32_t epoch, std::string reason);
  static trap data_link_up(std::string link_name, link_kind kind, std::uint32_t epoch,
                           std::string reason);
  static trap gateway_failed(std::string gateway_name, std::string gateway_address,
                             std::string carrier, std::string reason);
  static trap cold_spare_promoted(std::string spare_name, std::string spare_address,
                                  std::string replaced_gateway, std::string carrier,
                                  std::string reason);
  static trap gateway_restored(std::string gateway_name, std::string gateway_address,
                               std::string carrier, std::string reason);
  static trap facility_down(std::string facility_id, std::string gateway_name, std::string carrier,
                            std::string reason);
  static trap facility_up(std::string facility_id, std::string gateway_name, std::string carrier,
                          std::string reason);
  static trap billing_backlog_high(std::uint32_t records, std::uint32_t high_water);
  static trap billing_backlog_cleared(std::uint32_t records, std::uint32_t high_water);
};

} // namespace cms::snmp
