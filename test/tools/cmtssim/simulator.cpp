#include "test/tools/cmtssim/simulator.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace cms::cmtssim {

namespace json = boost::json;
using cops::gate_command;
using cops::gate_command_type;

simulator::simulator(boost::asio::io_context& io, const options& opts, em_sender* ems)
  : gates_(opts.gate_id_seed),
    ems_(ems) {
  pep_options po;
  po.client_type = opts.client_type;
  po.pep_id = opts.pep_id;
  po.ka_interval = opts.ka_interval;
  pep_ = std::make_unique<pep_server>(io, opts.listen, opts.cops_port, gates_, po, ems_);
  if (opts.police_port)
    policer_ = std::make_unique<policer>(io, opts.listen, *opts.police_port, gates_, opts.relay,
                                         [this](gate& g) { commit(g); });
  if (opts.control_port != 0)
    control_ = std::make_unique<control_server>(
      io, opts.listen, opts.control_port, [this](const json::object& r) { return execute(r); });
}

void simulator::stop() {
  if (control_)
    control_->stop();
  if (policer_)
    policer_->stop();
  pep_->stop();
}

/// Gate-Open to the gate controller and QoS_Commit to the RKS.
void simulator::commit(gate& g) {
  g.state = gate_state::committed;
  ++gates_.counters().opened;
  gate_command open;
  open.command = gate_command_type::gate_open;
  open.gate_id = g.id;
  open.subscriber = g.subscriber;
  pep_->send_event(open);
  if (ems_ != nullptr)
    ems_->qos_commit(g);
}

namespace {

std::uint64_t field(const json::object& r, const char* name, std::uint64_t fallback) {
  auto it = r.find(name);
  if (it == r.end())
    return fallback;
  if (it->value().is_int64() && it->value().as_int64() >= 0)
    return static_cast<std::uint64_t>(it->value().as_int64());
  if (it->value().is_uint64())
    return it->value().as_uint64();
  throw std::invalid_argument(std::string("\"") + name + "\" must be a non-negative integer");
}

json::object ok(json::object o = {}) {
  o["ok"] = true;
  return o;
}

} // namespace

// Commands:
//   {"cmd":"ping"}
//   {"cmd":"fail_sets","count":N,"code":C,"subcode":S}  next N Gate-Sets answered Set-Err C/S
//   {"cmd":"close_gate","gate_id":G,"subcode":S}        unsolicited Gate-Close (reason 1/S), gate gone
//   {"cmd":"open_gate","gate_id":G}                     commit the gate: unsolicited Gate-Open
//   {"cmd":"drop"}                                      close the gate controller's connection(s)
//   {"cmd":"freeze","on":true|false}                    stop / resume KAs and answers
//   {"cmd":"gates"}  {"cmd":"counters"}  {"cmd":"report"}
json::value simulator::execute(const json::object& request) {
  auto cmd_it = request.find("cmd");
  if (cmd_it == request.end() || !cmd_it->value().is_string())
    throw std::invalid_argument("missing \"cmd\"");
  const std::string cmd{cmd_it->value().as_string().c_str()};
  if (cmd == "ping")
    return ok({{"cops_ready", pep_->ready_connections()}});
  if (cmd == "fail_sets") {
    const auto count = field(request, "count", 1);
    const auto code =
      field(request, "code", static_cast<std::uint64_t>(cops::pc_error::no_gates_available));
    const auto sub = field(request, "subcode", 0);
    if (code > 0xffff || sub > 0xffff || count > 1000000)
      throw std::invalid_argument("code/subcode must fit 16 bits");
    gates_.fail_next_sets(static_cast<unsigned>(count), static_cast<std::uint16_t>(code),
                          static_cast<std::uint16_t>(sub));
    return ok();
  }
  if (cmd == "close_gate") {
    const auto id = field(request, "gate_id", 0);
    const auto sub = field(request, "subcode", 0);
    auto g = gates_.close(static_cast<std::uint32_t>(id));
    if (!g)
      return json::object{{"ok", false}, {"error", "unknown gate"}};
    gate_command close;
    close.command = gate_command_type::gate_close;
    close.gate_id = g->id;
    close.subscriber = g->subscriber;
    close.reason = cops::packetcable_reason{1, static_cast<std::uint16_t>(sub)};
    const auto sent = pep_->send_event(close);
    if (ems_ != nullptr)
      ems_->qos_release(*g, "Gate-Close");
    return ok({{"sent", sent}});
  }
  if (cmd == "open_gate") {
    gate* g = gates_.find(static_cast<std::uint32_t>(field(request, "gate_id", 0)));
    if (g == nullptr || g->state != gate_state::authorized)
      return json::object{{"ok", false}, {"error", "no authorized gate with that id"}};
    commit(*g);
    return ok();
  }
  if (cmd == "drop")
    return ok({{"dropped", pep_->drop_connections()}});
  if (cmd == "freeze") {
    auto it = request.find("on");
    pep_->set_frozen(it == request.end() || !it->value().is_bool() || it->value().as_bool());
    return ok({{"frozen", pep_->frozen()}});
  }
  if (cmd == "gates")
    return ok({{"gates", gates_.gates_json()}});
  if (cmd == "counters")
    return ok({{"gates", gates_.counters_json()},
               {"cops", pep_->counters_json()},
               {"police_unmatched", policer_ ? policer_->unmatched() : 0}});
  if (cmd == "report")
    return ok({{"report", report()}});
  throw std::invalid_argument("unknown cmd \"" + cmd + "\"");
}

json::value simulator::report() const {
  const auto& c = gates_.counters();
  json::array leaked;
  for (const auto& [id, g] : gates_.gates())
    leaked.push_back(to_json(g));
  return json::object{
    {"gates_set", c.gates_set},
    {"gates_deleted", c.deletes},
    {"gates_closed", c.closed},
    {"set_errors", c.set_errors},
    {"leaked", gates_.gates().size()},
    {"leaked_gates", std::move(leaked)},
    {"forwarded_packets", c.forwarded_packets},
    {"policed_packets", c.policed_packets},
    {"counters", gates_.counters_json()},
    {"cops", pep_->counters_json()},
  };
}

} // namespace cms::cmtssim
