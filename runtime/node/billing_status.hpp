#pragma once
// What GET /billing and the SNMP billing objects show: the outbox backlog and how far the Record
// Keeping Server has acknowledged. Read from the node's SQLite store on a connection of its own
// (the outbox owner writes on another; WAL lets both run).

#include <boost/json.hpp>

#include <cstdint>

namespace cms {

namespace persistence {
class database;
}

/// Backlog above which the billing backlog alarm (SNMP cmsBillingBacklogHigh) is raised.
inline constexpr std::uint64_t billing_backlog_high_water = 10000;

struct billing_status {
  std::uint64_t pending = 0;          ///< records not yet acknowledged by the RKS (the backlog)
  std::uint64_t unreplicated = 0;     ///< records not yet acknowledged by the standby
  std::uint64_t total = 0;            ///< records in the outbox
  std::uint64_t last_sequence = 0;    ///< highest sequence stored
  std::uint64_t sent_position = 0;    ///< highest sequence acknowledged by the RKS (0: none)
  std::int64_t oldest_pending_ms = 0; ///< created_ms of the oldest unsent record (0: none)
};

billing_status read_billing_status(persistence::database& db);
boost::json::object to_json(const billing_status& b);

} // namespace cms
