#include "runtime/snmp/trap.hpp"

#include <utility>

namespace cms::snmp {

const char* to_string(trap_kind kind) noexcept {
  switch (kind) {
  case trap_kind::failover:
    return "cmsFailover";
  case trap_kind::role_change:
    return "cmsRoleChange";
  case trap_kind::data_link_down:
    return "cmsDataLinkDown";
  case trap_kind::data_link_up:
    return "cmsDataLinkUp";
  case trap_kind::gateway_failed:
    return "cmsGatewayFailed";
  case trap_kind::cold_spare_promoted:
    return "cmsColdSparePromoted";
  case trap_kind::billing_backlog_high:
    return "cmsBillingBacklogHigh";
  case trap_kind::billing_backlog_cleared:
    return "cmsBillingBacklogCleared";
  case trap_kind::gateway_restored:
    return "cmsGatewayRestored";
  case trap_kind::facility_down:
    return "cmsFacilityDown";
  case trap_kind::facility_up:
    return "cmsFacilityUp";
  }
  return "unknown";
}

trap trap::failover(std::string node_id, node_role previous, std::uint32_t epoch,
                    std::string reason) {
  trap t;
  t.kind = trap_kind::failover;
  t.node_id = std::move(node_id);
  t.role = node_role::active; // a failover always ends with this node active
  t.previous_role = previous;
  t.epoch = epoch;
  t.reason = std::move(reason);
  return t;
}

trap trap::role_change(std::string node_id, node_role previous, node_role now, std::uint32_t epoch,
                       std::string reason) {
  trap t;
  t.kind = trap_kind::role_change;
  t.node_id = std::move(node_id);
  t.role = now;
  t.previous_role = previous;
  t.epoch = epoch;
  t.reason = std::move(reason);
  return t;
}

trap trap::data_link_down(std::string link_name, link_kind kind, link_status state,
                          std::uint32_t epoch, std::string reason) {
  trap t;
  t.kind = trap_kind::data_link_down;
  t.link_name = std::move(link_name);
  t.link = kind;
  t.link_state = state;
  t.epoch = epoch;
  t.reason = std::move(reason);
  return t;
}

trap trap::data_link_up(std::string link_name, link_kind kind, std::uint32_t epoch,
                        std::string reason) {
  trap t;
  t.kind = trap_kind::data_link_up;
  t.link_name = std::move(link_name);
  t.link = kind;
  t.link_state = link_status::up;
  t.epoch = epoch;
  t.reason = std::move(reason);
  return t;
}

trap trap::gateway_failed(std::string gateway_name, std::string gateway_address,
                          std::string carrier, std::string reason) {
  trap t;
  t.kind = trap_kind::gateway_failed;
  t.gateway_name = std::move(gateway_name);
  t.gateway_address = std::move(gateway_address);
  t.carrier = std::move(carrier);
  t.reason = std::move(reason);
  return t;
}

trap trap::cold_spare_promoted(std::string spare_name, std::string spare_address,
                               std::string replaced_gateway, std::string carrier,
                               std::string reason) {
  trap t;
  t.kind = trap_kind::cold_spare_promoted;
  t.gateway_name = std::move(spare_name);
  t.gateway_address = std::move(spare_address);
  t.replaced_gateway = std::move(replaced_gateway);
  t.carrier = std::move(carrier);
  t.reason = std::move(reason);
  return t;
}

trap trap::gateway_restored(std::string gateway_name, std::string gateway_address,
                            std::string carrier, std::string reason) {
  auto t = gateway_failed(std::move(gateway_name), std::move(gateway_address), std::move(carrier),
                          std::move(reason));
  t.kind = trap_kind::gateway_restored;
  return t;
}

trap trap::facility_down(std::string facility_id, std::string gateway_name, std::string carrier,
                         std::string reason) {
  trap t;
  t.kind = trap_kind::facility_down;
  t.facility_id = std::move(facility_id);
  t.gateway_name = std::move(gateway_name);
  t.carrier = std::move(carrier);
  t.reason = std::move(reason);
  return t;
}

trap trap::facility_up(std::string facility_id, std::string gateway_name, std::string carrier,
                       std::string reason) {
  auto t = facility_down(std::move(facility_id), std::move(gateway_name), std::move(carrier),
                         std::move(reason));
  t.kind = trap_kind::facility_up;
  return t;
}

trap trap::billing_backlog_high(std::uint32_t records, std::uint32_t high_water) {
  trap t;
  t.kind = trap_kind::billing_backlog_high;
  t.backlog_records = records;
  t.backlog_high_water = high_water;
  return t;
}

trap trap::billing_backlog_cleared(std::uint32_t records, std::uint32_t high_water) {
  trap t;
  t.kind = trap_kind::billing_backlog_cleared;
  t.backlog_records = records;
  t.backlog_high_water = high_water;
  return t;
}

} // namespace cms::snmp
