#include "runtime/snmp/mib_server.hpp"

#include "runtime/snmp/date_and_time.hpp"
#include "runtime/snmp/mib_oids.hpp"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <cstdint>
#include <functional>
#include <string>

namespace cms::snmp {

using view_fn = std::function<void(netsnmp_variable_list*, const node_view&)>;

struct mib_server::scalar {
  const char* name;
  std::vector<oid> object; ///< object OID, without the .0 instance
  view_fn fill;
  const node_view* view = nullptr;
};

struct mib_server::table {
  const char* name;
  std::vector<oid> table_oid;
  unsigned max_column = 0; ///< column 1 is the not-accessible index
  std::function<std::size_t(const node_view&)> size;
  std::function<std::uint32_t(const node_view&, std::size_t)> index_of;
  /// Fills `vb` with column `column` of row `row`; false for a column the table lacks.
  std::function<bool(netsnmp_variable_list*, const node_view&, std::size_t, unsigned)> fill;
  const node_view* view = nullptr;
};

namespace {

void put_string(netsnmp_variable_list* vb, const std::string& s) {
  snmp_set_var_typed_value(vb, ASN_OCTET_STR, s.data(), s.size());
}

template <class Enum>
void put_enum(netsnmp_variable_list* vb, Enum e) {
  snmp_set_var_typed_integer(vb, ASN_INTEGER, static_cast<long>(e));
}

void put_unsigned(netsnmp_variable_list* vb, u_char type, std::uint32_t v) {
  snmp_set_var_typed_integer(vb, type, static_cast<long>(v));
}

void put_gauge(netsnmp_variable_list* vb, std::uint32_t v) { put_unsigned(vb, ASN_GAUGE, v); }

void put_counter64(netsnmp_variable_list* vb, std::uint64_t v) {
  counter64 c{};
  c.high = static_cast<u_long>(v >> 32);
  c.low = static_cast<u_long>(v & 0xffffffffu);
  snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof c);
}

void put_date_and_time(netsnmp_variable_list* vb, std::chrono::system_clock::time_point t) {
  const auto octets = encode_date_and_time(t);
  snmp_set_var_typed_value(vb, ASN_OCTET_STR, octets.data(), octets.size());
}

int scalar_handler(netsnmp_mib_handler* handler, netsnmp_handler_registration*,
                   netsnmp_agent_request_info* reqinfo, netsnmp_request_info* requests) {
  // The scalar helper above us turns GETNEXT into GET and answers SETs with notWritable.
  if (reqinfo->mode != MODE_GET)
    return SNMP_ERR_NOERROR;
  const auto* s = static_cast<const mib_server::scalar*>(handler->myvoid);
  for (auto* r = requests; r != nullptr; r = r->next)
    s->fill(r->requestvb, *s->view);
  return SNMP_ERR_NOERROR;
}

/// Iterator loop context: the position of the next row to hand out, stored in the pointer.
netsnmp_variable_list* table_next(void** loop_context, void** data_context,
                                  netsnmp_variable_list* index, netsnmp_iterator_info* iinfo) {
  const auto* t = static_cast<const mib_server::table*>(iinfo->myvoid);
  const auto pos = reinterpret_cast<std::uintptr_t>(*loop_context);
  if (pos >= t->size(*t->view))
    return nullptr;
  snmp_set_var_typed_integer(index, ASN_UNSIGNED, static_cast<long>(t->index_of(*t->view, pos)));
  *data_context = reinterpret_cast<void*>(pos + 1); // +1: a null context means "no row"
  *loop_context = reinterpret_cast<void*>(pos + 1);
  return index;
}

netsnmp_variable_list* table_first(void** loop_context, void** data_context,
                                   netsnmp_variable_list* index, netsnmp_iterator_info* iinfo) {
  *loop_context = nullptr;
  return table_next(loop_context, data_context, index, iinfo);
}

int table_handler(netsnmp_mib_handler* handler, netsnmp_handler_registration*,
                  netsnmp_agent_request_info* reqinfo, netsnmp_request_info* requests) {
  // The iterator helper above us has resolved GETNEXT to the next row and the request to a row
  // context, so only GET reaches here; SETs are refused by the registration (read-only).
  if (reqinfo->mode != MODE_GET)
    return SNMP_ERR_NOERROR;
  const auto* t = static_cast<const mib_server::table*>(handler->myvoid);
  for (auto* r = requests; r != nullptr; r = r->next) {
    if (r->processed)
      continue;
    void* context = netsnmp_extract_iterator_context(r);
    netsnmp_table_request_info* info = netsnmp_extract_table_info(r);
    if (context == nullptr || info == nullptr) {
      netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
      continue;
    }
    const auto row = reinterpret_cast<std::uintptr_t>(context) - 1;
    if (row >= t->size(*t->view) ||
        !t->fill(r->requestvb, *t->view, row, static_cast<unsigned>(info->colnum)))
      netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
  }
  return SNMP_ERR_NOERROR;
}

} // namespace

mib_server::mib_server(const node_view& served) : served_(served) {
  auto s = [this](const char* name, std::vector<oid> object, view_fn fill) {
    scalars_.push_back(
      std::make_unique<scalar>(scalar{name, std::move(object), std::move(fill), &served_}));
  };
  using vb = netsnmp_variable_list*;
  using nv = const node_view&;
  s("cmsNodeId", oids::node(1), [](vb v, nv n) { put_string(v, n.node_id); });
  s("cmsNodeRole", oids::node(2), [](vb v, nv n) { put_enum(v, n.role); });
  s("cmsNodeEpoch", oids::node(3), [](vb v, nv n) { put_unsigned(v, ASN_UNSIGNED, n.epoch); });
  s("cmsPeerState", oids::node(4), [](vb v, nv n) { put_enum(v, n.peer); });
  s("cmsHeartbeatPeerLinkState", oids::node(5),
    [](vb v, nv n) { put_enum(v, n.heartbeat_peer_link); });
  s("cmsHeartbeatSecondPathState", oids::node(6),
    [](vb v, nv n) { put_enum(v, n.heartbeat_second_path); });
  s("cmsReplicationLagRecords", oids::node(7),
    [](vb v, nv n) { put_gauge(v, n.replication_lag_records); });
  s("cmsReplicationLagMs", oids::node(8), [](vb v, nv n) { put_gauge(v, n.replication_lag_ms); });
  s("cmsEndpointsRegistered", oids::endpoints(1),
    [](vb v, nv n) { put_gauge(v, n.endpoints_registered); });
  s("cmsEndpointsTotal", oids::endpoints(2), [](vb v, nv n) { put_gauge(v, n.endpoints_total); });
  s("cmsCallsActive", oids::calls(1), [](vb v, nv n) { put_gauge(v, n.calls_active); });
  s("cmsCallAttempts", oids::calls(2), [](vb v, nv n) { put_counter64(v, n.call_attempts); });
  s("cmsCallCompletions", oids::calls(3), [](vb v, nv n) { put_counter64(v, n.call_completions); });
  s("cmsCallFailures", oids::calls(4), [](vb v, nv n) { put_counter64(v, n.call_failures); });
  s("cmsBillingBacklogRecords", oids::billing(1),
    [](vb v, nv n) { put_gauge(v, n.billing_backlog_records); });
  s("cmsBillingBacklogHighWater", oids::billing(2),
    [](vb v, nv n) { put_gauge(v, n.billing_backlog_high_water); });
  s("cmsBillingBacklogAlarm", oids::billing(3),
    [](vb v, nv n) { put_enum(v, n.billing_backlog_alarm); });

  auto t = [this](table spec) {
    spec.view = &served_;
    tables_.push_back(std::make_unique<table>(std::move(spec)));
  };
  t(table{"cmsCallFailureTable", oids::calls(5), 3,
          [](nv n) { return n.call_failures_by_cause.size(); },
          [](nv n, std::size_t i) { return n.call_failures_by_cause[i].cause; },
          [](vb v, nv n, std::size_t i, unsigned column) {
            const auto& row = n.call_failures_by_cause[i];
            switch (column) {
            case 2:
              put_string(v, row.name);
              return true;
            case 3:
              put_counter64(v, row.count);
              return true;
            default:
              return false;
            }
          }});
  t(table{"cmsGatewayTable", oids::trunks(1), 8, [](nv n) { return n.gateways.size(); },
          [](nv n, std::size_t i) { return n.gateways[i].index; },
          [](vb v, nv n, std::size_t i, unsigned column) {
            const auto& row = n.gateways[i];
            switch (column) {
            case 2:
              put_string(v, row.name);
              return true;
            case 3:
              put_string(v, row.address);
              return true;
            case 4:
              put_string(v, row.segment);
              return true;
            case 5:
              put_enum(v, row.role);
              return true;
            case 6:
              put_enum(v, row.state);
              return true;
            case 7:
              put_string(v, row.facility);
              return true;
            case 8:
              put_string(v, row.carrier);
              return true;
            default:
              return false;
            }
          }});
  t(table{"cmsFacilityTable", oids::trunks(2), 9, [](nv n) { return n.facilities.size(); },
          [](nv n, std::size_t i) { return n.facilities[i].index; },
          [](vb v, nv n, std::size_t i, unsigned column) {
            const auto& row = n.facilities[i];
            switch (column) {
            case 2:
              put_string(v, row.id);
              return true;
            case 3:
              put_string(v, row.gateway);
              return true;
            case 4:
              put_enum(v, row.kind);
              return true;
            case 5:
              put_string(v, row.carrier);
              return true;
            case 6:
              put_gauge(v, row.channels_idle);
              return true;
            case 7:
              put_gauge(v, row.channels_busy);
              return true;
            case 8:
              put_gauge(v, row.channels_oos);
              return true;
            case 9:
              put_enum(v, row.state);
              return true;
            default:
              return false;
            }
          }});
  t(table{"cmsDataLinkTable", oids::data_links(1), 6, [](nv n) { return n.data_links.size(); },
          [](nv n, std::size_t i) { return n.data_links[i].index; },
          [](vb v, nv n, std::size_t i, unsigned column) {
            const auto& row = n.data_links[i];
            switch (column) {
            case 2:
              put_string(v, row.name);
              return true;
            case 3:
              put_enum(v, row.kind);
              return true;
            case 4:
              put_enum(v, row.state);
              return true;
            case 5:
              put_date_and_time(v, row.last_change);
              return true;
            case 6:
              put_unsigned(v, ASN_COUNTER, row.transitions);
              return true;
            default:
              return false;
            }
          }});
}

mib_server::~mib_server() = default;

void mib_server::add_registration(netsnmp_handler_registration_s* reg, bool ok) {
  if (ok) {
    registrations_.push_back(reg);
  } else {
    // net-snmp frees the registration itself when registering fails.
    failed_ = true;
  }
}

bool mib_server::register_all() {
  failed_ = false;
  for (auto& s : scalars_) {
    auto* reg = netsnmp_create_handler_registration(s->name, scalar_handler, s->object.data(),
                                                    s->object.size(), HANDLER_CAN_RONLY);
    if (reg == nullptr) {
      failed_ = true;
      continue;
    }
    reg->handler->myvoid = s.get();
    add_registration(reg, netsnmp_register_scalar(reg) == MIB_REGISTERED_OK);
  }
  for (auto& t : tables_) {
    auto* reg = netsnmp_create_handler_registration(t->name, table_handler, t->table_oid.data(),
                                                    t->table_oid.size(), HANDLER_CAN_RONLY);
    auto* table_info = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
    auto* iinfo = SNMP_MALLOC_TYPEDEF(netsnmp_iterator_info);
    if (reg == nullptr || table_info == nullptr || iinfo == nullptr) {
      if (reg != nullptr)
        netsnmp_handler_registration_free(reg);
      SNMP_FREE(table_info);
      SNMP_FREE(iinfo);
      failed_ = true;
      continue;
    }
    reg->handler->myvoid = t.get();
    netsnmp_table_helper_add_indexes(table_info, ASN_UNSIGNED, 0);
    table_info->min_column = 2;
    table_info->max_column = t->max_column;
    iinfo->get_first_data_point = table_first;
    iinfo->get_next_data_point = table_next;
    iinfo->table_reginfo = table_info;
    iinfo->myvoid = t.get();
    // The iterator owns iinfo (and through it table_info) and frees both on unregistration.
    add_registration(reg, netsnmp_register_table_iterator2(reg, iinfo) == MIB_REGISTERED_OK);
  }
  return !failed_;
}

void mib_server::unregister_all() {
  for (auto it = registrations_.rbegin(); it != registrations_.rend(); ++it)
    netsnmp_unregister_handler(*it);
  registrations_.clear();
}

} // namespace cms::snmp
