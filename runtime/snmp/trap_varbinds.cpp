#include "runtime/snmp/trap_varbinds.hpp"

#include "runtime/snmp/mib_oids.hpp"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <vector>

namespace cms::snmp {
namespace {

constexpr std::size_t max_reason_length = 255; ///< cmsNotifyReason SIZE (0..255)

class varbinds {
public:
  void object_id(const std::vector<oid>& name, const std::vector<oid>& value) {
    add(name, ASN_OBJECT_ID, value.data(), value.size() * sizeof(oid));
  }

  void text(std::vector<oid> object, const std::string& value,
            std::size_t max_length = max_name_length) {
    const auto length = value.size() < max_length ? value.size() : max_length;
    add(instance(std::move(object)), ASN_OCTET_STR, value.data(), length);
  }

  template <class Enum>
  void enumeration(std::vector<oid> object, Enum value) {
    const long v = static_cast<long>(value);
    add(instance(std::move(object)), ASN_INTEGER, &v, sizeof v);
  }

  void unsigned32(std::vector<oid> object, u_char type, std::uint32_t value) {
    const long v = static_cast<long>(value);
    add(instance(std::move(object)), type, &v, sizeof v);
  }

  netsnmp_variable_list* release() {
    auto* result = list_;
    list_ = nullptr;
    return result;
  }

  ~varbinds() { snmp_free_varbind(list_); }

private:
  static std::vector<oid> instance(std::vector<oid> object) {
    object.push_back(0); // scalar and accessible-for-notify objects: instance .0
    return object;
  }

  void add(const std::vector<oid>& name, u_char type, const void* value, std::size_t length) {
    snmp_varlist_add_variable(&list_, name.data(), name.size(), type, value, length);
  }

  netsnmp_variable_list* list_ = nullptr;
};

template <class Enum>
bool in_range(Enum value, int low, int high) {
  const int v = static_cast<int>(value);
  return v >= low && v <= high;
}

} // namespace

std::string check(const trap& t) {
  if (!in_range(t.kind, 1, last_trap_kind))
    return "trap kind has no MIB notification";
  switch (t.kind) {
  case trap_kind::failover:
  case trap_kind::role_change:
    if (!in_range(t.role, 1, 4) || !in_range(t.previous_role, 1, 4))
      return std::string(to_string(t.kind)) + ": role has no MIB value";
    break;
  case trap_kind::data_link_down:
  case trap_kind::data_link_up:
    if (!in_range(t.link, 1, 2) || !in_range(t.link_state, 1, 3))
      return std::string(to_string(t.kind)) + ": link kind or state has no MIB value";
    break;
  default:
    break;
  }
  return {};
}

variable_list* make_trap_varbinds(const trap& t) {
  varbinds v;
  v.object_id(oids::snmp_trap_oid(), oids::notification(static_cast<oid>(t.kind)));
  switch (t.kind) {
  case trap_kind::failover:
  case trap_kind::role_change:
    v.text(oids::node(1), t.node_id);
    v.enumeration(oids::node(2), t.role);
    v.enumeration(oids::notify_object(1), t.previous_role);
    v.unsigned32(oids::node(3), ASN_UNSIGNED, t.epoch);
    v.text(oids::notify_object(2), t.reason, max_reason_length);
    break;
  case trap_kind::data_link_down:
  case trap_kind::data_link_up:
    v.text(oids::notify_object(3), t.link_name);
    v.enumeration(oids::notify_object(4), t.link);
    v.enumeration(oids::notify_object(5), t.link_state);
    v.unsigned32(oids::node(3), ASN_UNSIGNED, t.epoch);
    v.text(oids::notify_object(2), t.reason, max_reason_length);
    break;
  case trap_kind::gateway_failed:
  case trap_kind::gateway_restored:
    v.text(oids::notify_object(6), t.gateway_name);
    v.text(oids::notify_object(7), t.gateway_address);
    v.text(oids::notify_object(9), t.carrier);
    v.text(oids::notify_object(2), t.reason, max_reason_length);
    break;
  case trap_kind::cold_spare_promoted:
    v.text(oids::notify_object(6), t.gateway_name);
    v.text(oids::notify_object(7), t.gateway_address);
    v.text(oids::notify_object(8), t.replaced_gateway);
    v.text(oids::notify_object(9), t.carrier);
    v.text(oids::notify_object(2), t.reason, max_reason_length);
    break;
  case trap_kind::facility_down:
  case trap_kind::facility_up:
    v.text(oids::notify_object(10), t.facility_id);
    v.text(oids::notify_object(6), t.gateway_name);
    v.text(oids::notify_object(9), t.carrier);
    v.text(oids::notify_object(2), t.reason, max_reason_length);
    break;
  case trap_kind::billing_backlog_high:
  case trap_kind::billing_backlog_cleared:
    v.unsigned32(oids::billing(1), ASN_GAUGE, t.backlog_records);
    v.unsigned32(oids::billing(2), ASN_GAUGE, t.backlog_high_water);
    break;
  }
  return v.release();
}

} // namespace cms::snmp
