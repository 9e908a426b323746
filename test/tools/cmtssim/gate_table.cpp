#include "test/tools/cmtssim/gate_table.hpp"

#include <boost/json.hpp>

#include <cstdio>

namespace cms::cmtssim {

using cops::gate_command;
using cops::gate_command_type;
namespace json = boost::json;

const char* to_string(gate_state s) {
  switch (s) {
  case gate_state::allocated:
    return "allocated";
  case gate_state::authorized:
    return "authorized";
  case gate_state::committed:
    return "committed";
  }
  return "?";
}

const cops::gate_spec* gate::upstream() const {
  for (const auto& s : specs)
    if (s.direction == cops::gate_direction::upstream)
      return &s;
  return nullptr;
}

gate_table::gate_table(std::uint32_t seed) : id_state_(seed) {}

void gate_table::fail_next_sets(unsigned count, std::uint16_t code, std::uint16_t subcode) {
  fail_sets_ = count;
  fail_with_ = {code, subcode};
}

std::uint32_t gate_table::new_gate_id() {
  // A Weyl sequence: unique for 2^32 steps and not sequential, so a gate controller that confuses
  // transaction IDs with gate IDs shows up.
  for (;;) {
    id_state_ += 0x9E3779B9u;
    if (id_state_ != 0 && gates_.count(id_state_) == 0)
      return id_state_;
  }
}

std::uint32_t gate_table::gates_of(std::uint32_t subscriber) const {
  std::uint32_t n = 0;
  for (const auto& [id, g] : gates_)
    if (g.subscriber == subscriber)
      ++n;
  return n;
}

gate* gate_table::find(std::uint32_t id) {
  auto it = gates_.find(id);
  return it == gates_.end() ? nullptr : &it->second;
}

std::optional<gate> gate_table::close(std::uint32_t id) {
  auto it = gates_.find(id);
  if (it == gates_.end())
    return std::nullopt;
  gate g = std::move(it->second);
  gates_.erase(it);
  ++counters_.closed;
  return g;
}

gate* gate_table::match_upstream(std::uint32_t src_ip, std::uint16_t src_port) {
  for (auto& [id, g] : gates_) {
    if (g.state == gate_state::allocated)
      continue;
    const auto* up = g.upstream();
    if (up == nullptr || (up->protocol != 17 && up->protocol != 0))
      continue;
    if ((up->src_ip == 0 || up->src_ip == src_ip) &&
        (up->src_port == 0 || up->src_port == src_port))
      return &g;
  }
  return nullptr;
}

command_result gate_table::execute(const gate_command& request) {
  command_result out;
  gate_command& a = out.answer;
  a.transaction_id = request.transaction_id;
  a.subscriber = request.subscriber;
  a.gate_id = request.gate_id;
  auto refuse = [&](cops::pc_error code, std::uint64_t& counter) {
    a.command = cops::err_of(request.command);
    a.error = cops::packetcable_error{static_cast<std::uint16_t>(code), 0};
    ++counter;
    return out;
  };
  if (!cops::is_request(request.command)) {
    a.command = gate_command_type::set_err;
    a.error =
      cops::packetcable_error{static_cast<std::uint16_t>(cops::pc_error::invalid_object), 0};
    return out;
  }
  if (!cops::missing_objects(request).empty()) {
    std::uint64_t ignored = 0;
    auto& counter = request.command == gate_command_type::gate_set ? counters_.set_errors : ignored;
    return refuse(cops::pc_error::missing_required_object, counter);
  }
  switch (request.command) {
  case gate_command_type::gate_alloc: {
    if (*request.activity_count > 0 && gates_of(*request.subscriber) >= *request.activity_count)
      return refuse(cops::pc_error::subscriber_gate_limit, counters_.set_errors);
    gate g;
    g.id = new_gate_id();
    g.subscriber = *request.subscriber;
    gates_.emplace(g.id, g);
    ++counters_.allocs;
    a.command = gate_command_type::alloc_ack;
    a.gate_id = g.id;
    a.activity_count = gates_of(g.subscriber);
    return out;
  }
  case gate_command_type::gate_set: {
    if (fail_sets_ > 0) {
      --fail_sets_;
      a.command = gate_command_type::set_err;
      a.error = fail_with_;
      ++counters_.set_errors;
      return out;
    }
    gate* g = nullptr;
    if (request.gate_id) {
      g = find(*request.gate_id);
      if (g == nullptr)
        return refuse(cops::pc_error::unknown_gate_id, counters_.set_errors);
      if (g->subscriber != *request.subscriber)
        return refuse(cops::pc_error::invalid_object, counters_.set_errors);
    } else {
      if (request.activity_count && *request.activity_count > 0 &&
          gates_of(*request.subscriber) >= *request.activity_count)
        return refuse(cops::pc_error::subscriber_gate_limit, counters_.set_errors);
      gate fresh;
      fresh.id = new_gate_id();
      fresh.subscriber = *request.subscriber;
      g = &gates_.emplace(fresh.id, fresh).first->second;
    }
    for (const auto& s : request.gate_specs)
      if (s.session_class > 2)
        return refuse(cops::pc_error::illegal_session_class, counters_.set_errors);
    const bool newly = g->state == gate_state::allocated;
    g->specs = request.gate_specs;
    if (request.event_generation)
      g->event_generation = request.event_generation;
    if (newly) {
      g->state = gate_state::authorized;
      ++counters_.gates_set;
      out.reserved = g;
    }
    if (const auto* up = g->upstream()) {
      g->tokens = up->b;
      g->refilled = std::chrono::steady_clock::now();
    }
    ++counters_.sets;
    a.command = gate_command_type::set_ack;
    a.gate_id = g->id;
    a.activity_count = gates_of(g->subscriber);
    return out;
  }
  case gate_command_type::gate_info: {
    gate* g = find(*request.gate_id);
    if (g == nullptr)
      return refuse(cops::pc_error::unknown_gate_id, counters_.info_errors);
    ++counters_.infos;
    a.command = gate_command_type::info_ack;
    a.subscriber = g->subscriber;
    a.activity_count = gates_of(g->subscriber);
    a.gate_specs = g->specs;
    a.event_generation = g->event_generation;
    return out;
  }
  case gate_command_type::gate_delete: {
    auto it = gates_.find(*request.gate_id);
    if (it == gates_.end())
      return refuse(cops::pc_error::unknown_gate_id, counters_.delete_errors);
    out.released = std::move(it->second);
    gates_.erase(it);
    ++counters_.deletes;
    a.command = gate_command_type::delete_ack;
    return out;
  }
  default:
    break;
  }
  return out;
}

json::value to_json(const cops::gate_spec& g) {
  return json::object{
    {"direction", g.direction == cops::gate_direction::upstream ? "upstream" : "downstream"},
    {"protocol", g.protocol},
    {"flags", g.flags},
    {"session_class", g.session_class},
    {"src_ip", cops::ipv4_to_string(g.src_ip)},
    {"dst_ip", cops::ipv4_to_string(g.dst_ip)},
    {"src_port", g.src_port},
    {"dst_port", g.dst_port},
    {"dscp_tos", g.dscp_tos},
    {"t1", g.t1_s},
    {"t7", g.t7_s},
    {"t8", g.t8_s},
    {"r", g.r},
    {"b", g.b},
    {"p", g.p},
    {"m", g.m},
    {"M", g.M},
    {"R", g.R},
    {"S", g.S},
  };
}

json::value to_json(const cops::event_generation_info& e) {
  std::string hex;
  char two[3];
  for (auto byte : e.bcid) {
    std::snprintf(two, sizeof two, "%02x", byte);
    hex += two;
  }
  return json::object{
    {"primary_rks",
     cops::ipv4_to_string(e.primary_rks_ip) + ":" + std::to_string(e.primary_rks_port)},
    {"secondary_rks",
     cops::ipv4_to_string(e.secondary_rks_ip) + ":" + std::to_string(e.secondary_rks_port)},
    {"flags", e.flags},
    {"bcid", hex},
  };
}

json::value to_json(const gate& g) {
  json::array specs;
  for (const auto& s : g.specs)
    specs.push_back(to_json(s));
  json::object o{
    {"gate_id", g.id},
    {"subscriber", cops::ipv4_to_string(g.subscriber)},
    {"state", to_string(g.state)},
    {"specs", std::move(specs)},
    {"forwarded_packets", g.forwarded_packets},
    {"policed_packets", g.policed_packets},
  };
  if (g.event_generation)
    o["event_generation"] = to_json(*g.event_generation);
  return o;
}

json::value gate_table::gates_json() const {
  json::array out;
  for (const auto& [id, g] : gates_)
    out.push_back(to_json(g));
  return out;
}

json::value gate_table::counters_json() const {
  const auto& c = counters_;
  return json::object{
    {"allocs", c.allocs},
    {"sets", c.sets},
    {"gates_set", c.gates_set},
    {"set_errors", c.set_errors},
    {"infos", c.infos},
    {"info_errors", c.info_errors},
    {"deletes", c.deletes},
    {"delete_errors", c.delete_errors},
    {"opened", c.opened},
    {"closed", c.closed},
    {"forwarded_packets", c.forwarded_packets},
    {"policed_packets", c.policed_packets},
    {"gates_alive", gates_.size()},
  };
}

} // namespace cms::cmtssim
