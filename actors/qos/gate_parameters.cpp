#include "actors/qos/gate_parameters.hpp"

namespace cms::qos {

cops::gate_command make_gate_set(const gate_parameters& p, const gate_set_request& r) {
  cops::gate_command c;
  c.command = cops::gate_command_type::gate_set;
  c.subscriber = r.subscriber;
  c.activity_count = p.activity_count;
  auto spec = [&](cops::gate_direction dir) {
    cops::gate_spec g;
    g.direction = dir;
    g.protocol = 17;
    g.session_class = r.emergency ? p.emergency_session_class : p.session_class;
    g.dscp_tos = static_cast<std::uint8_t>(p.dscp << 2);
    g.t1_s = p.t1_s;
    g.t7_s = p.t7_s;
    g.t8_s = p.t8_s;
    g.r = p.flow.r;
    g.b = p.flow.b;
    g.p = p.flow.p;
    g.m = p.flow.m;
    g.M = p.flow.M;
    g.R = p.flow.R;
    g.S = p.flow.S;
    if (dir == cops::gate_direction::upstream) {
      g.src_ip = r.subscriber;
      g.dst_ip = r.remote_ip;
      g.dst_port = r.remote_port;
    } else {
      g.src_ip = r.remote_ip;
      g.src_port = r.remote_port;
      g.dst_ip = r.subscriber;
    }
    return g;
  };
  c.gate_specs.push_back(spec(cops::gate_direction::upstream));
  c.gate_specs.push_back(spec(cops::gate_direction::downstream));
  cops::event_generation_info e;
  e.primary_rks_ip = p.primary_rks_ip;
  e.primary_rks_port = p.primary_rks_port;
  e.secondary_rks_ip = p.secondary_rks_ip;
  e.secondary_rks_port = p.secondary_rks_port;
  e.bcid = r.bcid;
  c.event_generation = e;
  return c;
}

} // namespace cms::qos
