#pragma once
// Object identifiers of CMS-SOFTSWITCH-MIB, spelled once. Internal to runtime/snmp: includes
// net-snmp's `oid` type. Keep in step with config/snmp/CMS-SOFTSWITCH-MIB.txt.

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/types.h>

#include <initializer_list>
#include <vector>

namespace cms::snmp::oids {

/// enterprises.64500: placeholder private enterprise number, the project's experimental arc.
inline std::vector<oid> mib_root() { return {1, 3, 6, 1, 4, 1, 64500}; }

/// mib_root() followed by `tail`.
inline std::vector<oid> under_root(std::initializer_list<oid> tail) {
  auto result = mib_root();
  result.insert(result.end(), tail);
  return result;
}

// Subtrees of cmsObjects (mib_root.1).
inline std::vector<oid> node(oid leaf) { return under_root({1, 1, leaf}); }
inline std::vector<oid> endpoints(oid leaf) { return under_root({1, 2, leaf}); }
inline std::vector<oid> calls(oid leaf) { return under_root({1, 3, leaf}); }
inline std::vector<oid> trunks(oid leaf) { return under_root({1, 4, leaf}); }
inline std::vector<oid> data_links(oid leaf) { return under_root({1, 5, leaf}); }
inline std::vector<oid> billing(oid leaf) { return under_root({1, 6, leaf}); }
inline std::vector<oid> notify_object(oid leaf) { return under_root({1, 7, leaf}); }

/// cmsNotifications.N (mib_root.0.N).
inline std::vector<oid> notification(oid n) { return under_root({0, n}); }

/// snmpTrapOID.0 (SNMPv2-MIB), the first varbind of every SNMPv2 notification after sysUpTime.
inline std::vector<oid> snmp_trap_oid() { return {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0}; }

} // namespace cms::snmp::oids
