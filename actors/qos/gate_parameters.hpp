#pragma once
// What every gate of this node carries besides the half-call's own data: the flowspec from the
// codec, the DS marking, the session classes, the DQoS timers, the subscriber's gate limit
// (Activity Count), and where the CMTS sends its QoS event messages (the [billing] RKS pair).

#include "actors/qos/flowspec.hpp"
#include "actors/qos/gate_protocol.hpp"
#include "runtime/cops/dqos.hpp"

#include <cstdint>

namespace cms::qos {

struct gate_parameters {
  flowspec flow;
  std::uint8_t dscp = 46;
  std::uint8_t session_class = 1;           ///< normal-priority VoIP
  std::uint8_t emergency_session_class = 2; ///< high-priority VoIP
  std::uint16_t t1_s = 200;
  std::uint16_t t7_s = 0;
  std::uint16_t t8_s = 0;
  std::uint32_t activity_count = 4;
  std::uint32_t primary_rks_ip = 0; ///< host order; 0: no RKS configured
  std::uint16_t primary_rks_port = 0;
  std::uint32_t secondary_rks_ip = 0;
  std::uint16_t secondary_rks_port = 0;
};

/// The Gate-Set of one half-call: an upstream spec (MTA -> far end) and a downstream spec (far
/// end -> MTA); the far end is wildcard while unknown. The DS field carries the DSCP in its upper
/// six bits.
cops::gate_command make_gate_set(const gate_parameters& p, const gate_set_request& r);

} // namespace cms::qos
