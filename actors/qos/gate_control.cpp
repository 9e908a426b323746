#include "actors/qos/gate_control.hpp"

#include "actors/billing/event_messages.hpp"
#include "actors/qos/gate_controller.hpp"
#include "actors/type_ids.hpp"

#include <stdexcept>

namespace cms::qos {

namespace {

/// An RKS "host:port" as the Event Generation Info carries it: IPv4 only (a name gives 0, and the
/// CMTS then has no RKS for that address).
std::pair<std::uint32_t, std::uint16_t> rks_of(const std::optional<config::host_port>& hp) {
  if (!hp)
    return {0, 0};
  return {cops::ipv4_from_string(hp->host).value_or(0), hp->port};
}

} // namespace

gate_control make_gate_control(const std::vector<persistence::cmts>& cmtses,
                               const config::node_config& cfg, boost::asio::io_context& io,
                               std::function<caf::actor()> ha, metrics::registry& metrics) {
  gate_control out;
  // The BCID fields of the pair's own event messages (actors/billing/event_messages.hpp).
  auto element_id = cfg.billing.element_id.empty()
                      ? billing::default_element_id(cfg.node.cluster_id)
                      : cfg.billing.element_id;
  out.directory = std::make_shared<gate_directory>(cmtses, element_id, cfg.billing.time_zone);
  auto flow = voice_flowspec(cfg.dqos.codec, static_cast<unsigned>(cfg.dqos.packet_period_ms));
  if (!flow)
    throw std::invalid_argument("dqos: no flowspec for codec " + cfg.dqos.codec + " at " +
                                std::to_string(cfg.dqos.packet_period_ms) + " ms");
  gate_parameters params;
  params.flow = *flow;
  params.dscp = static_cast<std::uint8_t>(cfg.dqos.dscp);
  params.session_class = static_cast<std::uint8_t>(cfg.dqos.session_class);
  params.emergency_session_class = static_cast<std::uint8_t>(cfg.dqos.emergency_session_class);
  params.t1_s = static_cast<std::uint16_t>(cfg.dqos.t1_s);
  params.t7_s = static_cast<std::uint16_t>(cfg.dqos.t7_s);
  params.t8_s = static_cast<std::uint16_t>(cfg.dqos.t8_s);
  params.activity_count = static_cast<std::uint32_t>(cfg.dqos.activity_count);
  std::tie(params.primary_rks_ip, params.primary_rks_port) = rks_of(cfg.billing.rks_primary);
  std::tie(params.secondary_rks_ip, params.secondary_rks_port) = rks_of(cfg.billing.rks_secondary);

  for (const auto& c : cmtses) {
    if (!c.dqos)
      continue;
    controller_settings s;
    s.cmts = c.name;
    s.session.cmts_address = c.address;
    s.session.cmts_port = c.port;
    s.session.keepalive_s = static_cast<std::uint16_t>(cfg.dqos.keepalive_s);
    s.session.command_timeout = cfg.dqos.command_timeout;
    s.session.reconnect_max = cfg.dqos.reconnect_max;
    s.gates = params;
    auto slot = std::make_shared<actor_slot>();
    out.role_followers.push_back(slot);
    auto directory = out.directory;
    out.children.push_back({"gate-controller:" + c.name,
                            [s, slot, directory, ha, &io, &metrics](caf::event_based_actor* self) {
                              auto h = self->spawn(gate_controller, s, &io, &metrics);
                              slot->set(h);
                              directory->set_controller(s.cmts, h);
                              if (auto a = ha())
                                self->send(a, atom::subscribe_v, h);
                              return h;
                            },
                            actors::restart_policy::permanent});
  }
  return out;
}

} // namespace cms::qos
