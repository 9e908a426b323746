#pragma once
// Assembly of the DQoS gate controllers for the node: the gate directory the calls consult and
// one supervised controller per CMTS provisioned with dqos = true, each following the HA role
// (subscribed to the HA actor like the billing forwarder). A CMTS with dqos = false gets no
// controller: its MTAs are served best effort.

#include "actors/qos/gate_directory.hpp"
#include "actors/supervision/supervisor.hpp"
#include "persistence/provisioning.hpp"
#include "runtime/base/actor_slot.hpp"
#include "runtime/base/config.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace cms::qos {

struct gate_control {
  std::shared_ptr<gate_directory> directory;
  std::vector<actors::child_spec> children;
  /// The controllers' current handles, to re-subscribe them when the HA actor restarts.
  std::vector<std::shared_ptr<actor_slot>> role_followers;
};

/// `ha` returns the HA actor's current handle (null while it restarts). Throws
/// std::invalid_argument on a [dqos] codec / packet period without a flowspec.
gate_control make_gate_control(const std::vector<persistence::cmts>& cmtses,
                               const config::node_config& cfg, boost::asio::io_context& io,
                               std::function<caf::actor()> ha, metrics::registry& metrics);

} // namespace cms::qos
