#pragma once
// ITU-T Q.850 release cause values: the one list of the causes the node sets or reports, with the
// names the MIB (cmsCallFailureCauseName), the logs and the billing records use.

#include <cstdint>
#include <string>

namespace cms::q850 {

constexpr int unallocated_number = 1;
constexpr int no_route_to_destination = 3;
constexpr int normal_clearing = 16;
constexpr int user_busy = 17;
constexpr int no_user_responding = 18;
constexpr int no_answer = 19;
constexpr int subscriber_absent = 20;
constexpr int call_rejected = 21;
constexpr int destination_out_of_order = 27;
constexpr int invalid_number_format = 28;
constexpr int normal_unspecified = 31;
constexpr int no_circuit_available = 34;
constexpr int network_out_of_order = 38;
constexpr int temporary_failure = 41;
constexpr int switching_equipment_congestion = 42;
constexpr int resources_unavailable = 47; ///< e.g. the CMTS refused the call's QoS gate
constexpr int recovery_on_timer_expiry = 102;

/// The cause's name in lowerCamelCase (SNMP style); others read "cause<N>".
inline std::string name(std::uint32_t cause) {
  switch (cause) {
  case unallocated_number:
    return "unallocatedNumber";
  case no_route_to_destination:
    return "noRouteToDestination";
  case normal_clearing:
    return "normalClearing";
  case user_busy:
    return "userBusy";
  case no_user_responding:
    return "noUserResponding";
  case no_answer:
    return "noAnswer";
  case subscriber_absent:
    return "subscriberAbsent";
  case call_rejected:
    return "callRejected";
  case destination_out_of_order:
    return "destinationOutOfOrder";
  case invalid_number_format:
    return "invalidNumberFormat";
  case normal_unspecified:
    return "normalUnspecified";
  case no_circuit_available:
    return "noCircuitAvailable";
  case network_out_of_order:
    return "networkOutOfOrder";
  case temporary_failure:
    return "temporaryFailure";
  case switching_equipment_congestion:
    return "switchingEquipmentCongestion";
  case resources_unavailable:
    return "resourceUnavailableUnspecified";
  case recovery_on_timer_expiry:
    return "recoveryOnTimerExpiry";
  default:
    return "cause" + std::to_string(cause);
  }
}

} // namespace cms::q850
