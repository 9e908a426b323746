#pragma once
// Which CMTS serves an MTA, and the current handle of that CMTS's gate controller. Built once at
// start from provisioning ([[cmts]] rows); handles change when the supervisor restarts a
// controller, so callers read them at the moment they send. Shared by the calls of a node
// (thread-safe).

#include "persistence/provisioning.hpp"

#include <caf/actor.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cms::qos {

/// Where an MTA's half-call gets its gate.
struct cmts_route {
  std::string cmts;  ///< provisioned name
  bool dqos = false; ///< false: best effort, no gate
};

class gate_directory {
public:
  /// Throws std::invalid_argument on a subnet that is not "a.b.c.d[/len]" (provisioning checked
  /// them already). `element_id`, `time_zone`: the BCID fields of the pair's event messages
  /// ([billing] element_id / time_zone), so a gate's BCID is the one the EMs carry.
  gate_directory(const std::vector<persistence::cmts>& cmtses, std::string element_id,
                 std::string time_zone = "0+000000");

  /// The CMTS whose subnets hold `mta_ip` (the longest prefix wins); nullopt: behind none.
  std::optional<cmts_route> route(std::uint32_t mta_ip) const;
  std::optional<cmts_route> route(const std::string& mta_ip) const;

  caf::actor controller(const std::string& cmts) const;
  void set_controller(const std::string& cmts, caf::actor handle);
  std::vector<std::string> names() const;

  const std::string& element_id() const { return element_id_; }
  const std::string& time_zone() const { return time_zone_; }

private:
  struct subnet {
    std::uint32_t network = 0;
    std::uint32_t mask = 0;
    int length = 0;
    std::string cmts;
    bool dqos = false;
  };
  std::vector<subnet> subnets_;
  std::string element_id_;
  std::string time_zone_;
  mutable std::mutex mutex_;
  std::map<std::string, caf::actor> controllers_;
};

} // namespace cms::qos
