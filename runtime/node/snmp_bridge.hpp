#pragma once
// Feeds the AgentX subagent (runtime/snmp/) from the node's live state. Every second, on the
// management io_context, it builds a snmp::node_view from cluster_view, the metrics registry
// (cms_calls_active, cms_call_attempts_total, cms_call_completions_total,
// cms_call_failures_total{cause}, cms_endpoints_registered, cms_endpoints_total,
// cms_data_link_state{link}; absent metrics read as 0), the provisioning tables and the billing
// backlog (both from a cache the management service refreshes off the io thread), hands it to
// subagent::update(), and compares it with the previous view to raise the notifications:
//   role change -> cmsFailover (became active because the peer was lost) or cmsRoleChange,
//   data link state -> cmsDataLinkDown / cmsDataLinkUp,
//   billing backlog crossing the high-water mark -> cmsBillingBacklogHigh / Cleared,
//   trunk status (runtime/node/management_trunks.hpp: gateway health, cold spare promotion, facility
//   service) -> cmsGatewayFailed / Restored, cmsColdSparePromoted, cmsFacilityDown / Up; the
//   first reading is compared with the trunk actors' start assumption (everything in service).

#include "persistence/provisioning.hpp"
#include "runtime/node/admin_state.hpp"
#include "runtime/node/billing_status.hpp"
#include "runtime/base/cluster_view.hpp"
#include "runtime/node/management_trunks.hpp"
#include "runtime/base/metrics.hpp"
#include "runtime/snmp/node_view.hpp"
#include "runtime/snmp/trap.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cms {

namespace snmp {
class subagent;
}

/// Everything one view is built from (plain values: the builder is a pure function).
struct snmp_inputs {
  std::string node_id;
  cluster_snapshot cluster;
  std::vector<metrics::sample> samples;
  std::optional<persistence::provisioning> provisioning; ///< nullopt: not read yet
  std::optional<billing_status> billing;
  std::vector<admin_entry> links_out_of_service;
  std::vector<admin_entry> gateways_out_of_service;
  /// Live gateway and facility states from trunk control; nullopt: no trunk control (the tables
  /// then show the provisioning with state unknown).
  std::optional<trunk_status> trunks;
};

snmp::node_role to_node_role(const std::string& role);
snmp::reachability to_reachability(const std::string& state);

/// Builds the view. `last_change` keeps each data link's last change time across calls (the
/// builder stamps `now` when a link's state differs from `previous`).
snmp::node_view
build_node_view(const snmp_inputs& in, const snmp::node_view* previous,
                std::map<std::string, std::chrono::system_clock::time_point>& last_change,
                std::chrono::system_clock::time_point now);

/// Notifications due between two consecutive views. `reason` is the HA's last transition reason.
std::vector<snmp::trap> traps_between(const snmp::node_view& previous, const snmp::node_view& now,
                                      const std::string& reason);

class snmp_bridge {
public:
  using input_source = std::function<snmp_inputs()>;

  /// `source` runs on the io thread and must not block (copy cached values).
  snmp_bridge(boost::asio::io_context& io, snmp::subagent& agent, input_source source,
              std::chrono::milliseconds period = std::chrono::seconds{1});
  ~snmp_bridge();
  snmp_bridge(const snmp_bridge&) = delete;
  snmp_bridge& operator=(const snmp_bridge&) = delete;

  /// Publishes a first view at once, then every period.
  void start();
  /// Stops the timer (safe from any thread; no update runs after the io thread sees it).
  void stop();

  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace cms
