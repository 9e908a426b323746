#pragma once
// Turns a cms::snmp::trap into the varbind list of its SNMPv2 notification (snmpTrapOID.0, then
// the objects of the notification's OBJECTS clause, in MIB order). Internal to runtime/snmp: must
// run on the net-snmp thread; the caller frees the list with snmp_free_varbind().

#include "runtime/snmp/trap.hpp"

#include <string>

struct variable_list;

namespace cms::snmp {

/// Empty string if `t` can be sent, else why not (an enumeration outside the MIB's values).
std::string check(const trap& t);

/// The varbinds of `t`; strings longer than the MIB allows are cut to its maximum size.
variable_list* make_trap_varbinds(const trap& t);

} // namespace cms::snmp
