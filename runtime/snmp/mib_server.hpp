#pragma once
// Serves the objects of CMS-SOFTSWITCH-MIB from a node_view through net-snmp's handler helpers:
// one scalar registration per scalar object and one table_iterator registration per table.
// Internal to the subagent: every member must be called on the net-snmp thread, and the view it
// reads is only changed on that thread, between requests.

#include "runtime/snmp/node_view.hpp"

#include <memory>
#include <vector>

struct netsnmp_handler_registration_s;

namespace cms::snmp {

class mib_server {
public:
  /// `served` must outlive this object; it is read when a request arrives.
  explicit mib_server(const node_view& served);
  ~mib_server();

  mib_server(const mib_server&) = delete;
  mib_server& operator=(const mib_server&) = delete;

  /// Registers every object with the agent (call after init_agent, before init_snmp). Returns
  /// false if net-snmp refused a registration (already registered OID).
  bool register_all();

  /// Unregisters everything register_all() registered (call before snmp_shutdown).
  void unregister_all();

  struct scalar;
  struct table;

private:
  void add_registration(netsnmp_handler_registration_s* reg, bool ok);

  const node_view& served_;
  std::vector<std::unique_ptr<scalar>> scalars_;
  std::vector<std::unique_ptr<table>> tables_;
  std::vector<netsnmp_handler_registration_s*> registrations_;
  bool failed_ = false;
};

} // namespace cms::snmp
