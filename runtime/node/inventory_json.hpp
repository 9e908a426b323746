#pragma once
// JSON rows of GET /routes, /links and /trunks: the provisioned objects (persistence/
// provisioning.hpp) with whatever live state the node knows merged in. Every row keeps its
// provisioned fields at the top level and adds
//   "admin_state": "in_service" | "out_of_service" (+ admin_since_ms, admin_reason), and
//   "state": the observed state, "unknown" until an actor publishes one.
// Live sources today: the admin state registry and the data-link gauges of the metrics registry
// (cms_data_link_state{link}); later actors (trunks) can overwrite fields with merge_live().

#include "persistence/provisioning.hpp"
#include "runtime/node/admin_state.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/json.hpp>

#include <map>
#include <string>

namespace cms {

/// Live data link state from metrics: "up" | "degraded" | "down" | "unknown" (no gauge yet).
std::string data_link_state_from_metrics(const std::vector<metrics::sample>& samples,
                                         const std::string& link);
/// Transitions of a data link since start (sum over cms_data_link_transitions_total{link,to}).
std::uint64_t data_link_transitions_from_metrics(const std::vector<metrics::sample>& samples,
                                                 const std::string& link);

/// Adds admin_state ("in_service" | "out_of_service"), admin_since_ms and admin_reason to `row`.
void add_admin_fields(boost::json::object& row, const admin_entry& e);

boost::json::array routes_json(const persistence::provisioning& p);
boost::json::array links_json(const persistence::provisioning& p,
                              const std::vector<metrics::sample>& samples,
                              const admin_state_registry& admin);
/// Facilities (one row per PRI/SS7 span) with their gateway's state and trunk groups.
boost::json::array facilities_json(const persistence::provisioning& p,
                                   const admin_state_registry& admin);
boost::json::array gateways_json(const persistence::provisioning& p,
                                 const admin_state_registry& admin);
boost::json::array trunk_groups_json(const persistence::provisioning& p);

/// Overwrites/extends the fields of each row whose `key` field matches a key of `live`.
void merge_live(boost::json::array& rows, const std::string& key,
                const std::map<std::string, boost::json::object>& live);

} // namespace cms
