#pragma once
// Where the simulated CMTS reports QoS usage to the Record Keeping Server: QoS_Reserve,
// QoS_Commit and QoS_Release event messages under the gate's BCID, sent to the RKS named in the
// gate's Event Generation Info. radius_em_sender implements it with cms_radius (cmtssim
// --rks-secret-file); without that option the simulator runs without one (nullptr) and sends no
// event messages at all.

#include "test/tools/cmtssim/gate_table.hpp"

#include <string>

namespace cms::cmtssim {

class em_sender {
public:
  virtual ~em_sender() = default;
  /// The gate is authorised and its resources reserved (the simulator has no DOCSIS side, so it
  /// treats the Gate-Set-Ack as the MTA's reservation).
  virtual void qos_reserve(const gate& g) = 0;
  /// The gate is committed: the first upstream packet passed it, or the control interface said so.
  virtual void qos_commit(const gate& g) = 0;
  /// The gate's resources are released: Gate-Delete, Gate-Close, or the simulator's shutdown.
  virtual void qos_release(const gate& g, const std::string& why) = 0;
};

} // namespace cms::cmtssim
