#include "runtime/node/snmp_bridge.hpp"

#include "runtime/base/q850.hpp"

#include "runtime/base/logging.hpp"
#include "runtime/snmp/subagent.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <limits>

namespace cms {

namespace {

std::uint32_t clamp32(double v) {
  if (v <= 0)
    return 0;
  if (v >= static_cast<double>(std::numeric_limits<std::uint32_t>::max()))
    return std::numeric_limits<std::uint32_t>::max();
  return static_cast<std::uint32_t>(v);
}

std::uint32_t clamp32(std::uint64_t v) {
  return v > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                       : static_cast<std::uint32_t>(v);
}

/// DisplayString (SIZE (0..64)): longer provisioned names are cut rather than refusing the view.
std::string fit(std::string s) {
  if (s.size() > snmp::max_name_length)
    s.resize(snmp::max_name_length);
  return s;
}

const std::string* label(const metrics::sample& s, const char* name) {
  for (auto& [k, v] : s.labels)
    if (k == name)
      return &v;
  return nullptr;
}

bool listed(const std::vector<admin_entry>& entries, const std::string& name) {
  return std::any_of(entries.begin(), entries.end(), [&](auto& e) { return e.name == name; });
}

const char* link_status_name(snmp::link_status s) {
  return s == snmp::link_status::up ? "up" : s == snmp::link_status::degraded ? "degraded" : "down";
}

} // namespace

snmp::node_role to_node_role(const std::string& role) {
  if (role == "active" || role == "standalone")
    return snmp::node_role::active;
  if (role == "standby")
    return snmp::node_role::standby;
  if (role == "stepping-down")
    return snmp::node_role::stepping_down;
  return snmp::node_role::starting;
}

snmp::reachability to_reachability(const std::string& state) {
  if (state == "up")
    return snmp::reachability::up;
  if (state == "down")
    return snmp::reachability::down;
  return snmp::reachability::unknown;
}

snmp::node_view
build_node_view(const snmp_inputs& in, const snmp::node_view* previous,
                std::map<std::string, std::chrono::system_clock::time_point>& last_change,
                std::chrono::system_clock::time_point now) {
  snmp::node_view v;
  v.node_id = fit(in.node_id);
  v.role = to_node_role(in.cluster.role);
  v.epoch = clamp32(in.cluster.epoch);
  v.peer = to_reachability(in.cluster.peer_state);
  v.heartbeat_peer_link = to_reachability(in.cluster.peer_link);
  v.heartbeat_second_path = to_reachability(in.cluster.peer_udp);
  v.replication_lag_records = clamp32(in.cluster.replication_lag_records);
  v.replication_lag_ms = clamp32(in.cluster.replication_lag_ms);

  std::map<std::uint32_t, std::uint64_t> failures;
  std::map<std::string, int> link_gauges; // cms_data_link_state: 0 down, 1 degraded, 2 up
  std::map<std::string, std::uint64_t> link_transitions;
  for (auto& s : in.samples) {
    if (s.name == "cms_calls_active")
      v.calls_active = clamp32(s.value);
    else if (s.name == "cms_call_attempts_total")
      v.call_attempts = static_cast<std::uint64_t>(s.value);
    else if (s.name == "cms_call_completions_total")
      v.call_completions = static_cast<std::uint64_t>(s.value);
    else if (s.name == "cms_endpoints_registered")
      v.endpoints_registered = clamp32(s.value);
    else if (s.name == "cms_endpoints_total")
      v.endpoints_total = clamp32(s.value);
    else if (s.name == "cms_call_failures_total") {
      auto count = static_cast<std::uint64_t>(s.value);
      v.call_failures += count;
      auto* c = label(s, "cause");
      unsigned long cause = 0;
      try {
        cause = c ? std::stoul(*c) : 0;
      } catch (const std::exception&) {
        cause = 0;
      }
      if (cause >= 1 && cause <= snmp::max_table_index)
        failures[static_cast<std::uint32_t>(cause)] += count;
    } else if (s.name == "cms_data_link_state") {
      if (auto* l = label(s, "link"))
        link_gauges[*l] = static_cast<int>(s.value);
    } else if (s.name == "cms_data_link_transitions_total") {
      if (auto* l = label(s, "link"))
        link_transitions[*l] += static_cast<std::uint64_t>(s.value);
    }
  }
  for (auto& [cause, count] : failures)
    v.call_failures_by_cause.push_back({cause, q850::name(cause), count});

  if (in.provisioning) {
    auto& p = *in.provisioning;
    std::uint32_t index = 0;
    for (auto& g : p.gateways) {
      if (++index > snmp::max_table_index)
        break;
      snmp::gateway_row row;
      row.index = index;
      row.name = fit(g.name);
      row.address = fit(g.address + ":" + std::to_string(g.port));
      row.segment = fit(g.segment);
      row.role =
        g.role == "cold_spare" ? snmp::gateway_use::cold_spare : snmp::gateway_use::primary;
      row.state = snmp::service_state::unknown;
      if (in.trunks)
        for (auto& live : in.trunks->gateways)
          if (live.name == g.name)
            row.state =
              live.healthy ? snmp::service_state::in_service : snmp::service_state::failed;
      if (listed(in.gateways_out_of_service, g.name))
        row.state = snmp::service_state::out_of_service;
      for (auto& f : p.facilities)
        if (f.gateway == g.name) {
          row.facility = fit(f.id);
          row.carrier = fit(f.carrier);
          break;
        }
      v.gateways.push_back(std::move(row));
    }
    index = 0;
    for (auto& f : p.facilities) {
      if (++index > snmp::max_table_index)
        break;
      snmp::facility_row row;
      row.index = index;
      row.id = fit(f.id);
      row.gateway = fit(f.gateway);
      row.kind = f.kind == "ss7" ? snmp::trunk_signalling::ss7 : snmp::trunk_signalling::pri;
      row.carrier = fit(f.carrier);
      bool oos = listed(in.gateways_out_of_service, f.gateway);
      // Channel states arrive with the trunk actors; until then a facility's channels count as
      // idle, or out of service with their gateway.
      row.channels_idle = oos ? 0 : static_cast<std::uint32_t>(std::max(f.channels, 0));
      row.channels_oos = oos ? static_cast<std::uint32_t>(std::max(f.channels, 0)) : 0;
      row.state = oos ? snmp::service_state::out_of_service : snmp::service_state::unknown;
      if (in.trunks)
        for (auto& live : in.trunks->facilities)
          if (live.id == f.id && live.known) {
            row.gateway = fit(live.gateway); // a promoted spare while it carries the facility
            row.channels_idle = live.channels_idle;
            row.channels_busy = live.channels_busy;
            row.channels_oos = live.channels_oos;
            if (!oos)
              row.state =
                live.in_service ? snmp::service_state::in_service : snmp::service_state::failed;
          }
      v.facilities.push_back(std::move(row));
    }
    index = 0;
    for (auto& l : p.data_links) {
      if (++index > snmp::max_table_index)
        break;
      snmp::data_link_row row;
      row.index = index;
      row.name = fit(l.name);
      row.kind = l.kind == "backup" ? snmp::link_kind::backup : snmp::link_kind::primary;
      auto g = link_gauges.find(l.name);
      row.state = g == link_gauges.end() ? snmp::link_status::down
                  : g->second == 2       ? snmp::link_status::up
                  : g->second == 1       ? snmp::link_status::degraded
                                         : snmp::link_status::down;
      if (listed(in.links_out_of_service, l.name))
        row.state = snmp::link_status::down;
      row.transitions = clamp32(link_transitions[l.name]);
      if (previous) {
        for (auto& old : previous->data_links)
          if (old.name == row.name && old.state != row.state)
            last_change[l.name] = now;
      }
      auto lc = last_change.find(l.name);
      if (lc != last_change.end())
        row.last_change = lc->second;
      v.data_links.push_back(std::move(row));
    }
  }

  if (in.billing) {
    v.billing_backlog_records = clamp32(in.billing->pending);
    v.billing_backlog_high_water = clamp32(billing_backlog_high_water);
    v.billing_backlog_alarm = in.billing->pending >= billing_backlog_high_water
                                ? snmp::backlog_alarm::high
                                : snmp::backlog_alarm::normal;
  } else if (previous) {
    v.billing_backlog_records = previous->billing_backlog_records;
    v.billing_backlog_high_water = previous->billing_backlog_high_water;
    v.billing_backlog_alarm = previous->billing_backlog_alarm;
  }
  return v;
}

namespace {

// Each node's billing backlog is its own outbox: reported whatever the role.
void add_billing_traps(const snmp::node_view& previous, const snmp::node_view& now,
                       std::vector<snmp::trap>& out) {
  if (previous.billing_backlog_alarm != now.billing_backlog_alarm) {
    if (now.billing_backlog_alarm == snmp::backlog_alarm::high)
      out.push_back(snmp::trap::billing_backlog_high(now.billing_backlog_records,
                                                     now.billing_backlog_high_water));
    else
      out.push_back(snmp::trap::billing_backlog_cleared(now.billing_backlog_records,
                                                        now.billing_backlog_high_water));
  }
}

} // namespace

std::vector<snmp::trap> traps_between(const snmp::node_view& previous, const snmp::node_view& now,
                                      const std::string& reason) {
  std::vector<snmp::trap> out;
  if (previous.role != now.role) {
    // Unplanned takeover: this node became active because the peer was lost (ha_rules reasons
    // "peer lost on both heartbeat paths", "peer still lost").
    bool failover = now.role == snmp::node_role::active &&
                    previous.role != snmp::node_role::starting &&
                    reason.find("lost") != std::string::npos;
    if (failover)
      out.push_back(snmp::trap::failover(now.node_id, previous.role, now.epoch, reason));
    else
      out.push_back(
        snmp::trap::role_change(now.node_id, previous.role, now.role, now.epoch, reason));
  }
  // Data links are shared equipment: both nodes probe them, the active reports them. A node that
  // becomes active reports the links it finds down (the old active's alarm may have died with it).
  if (now.role != snmp::node_role::active) {
    add_billing_traps(previous, now, out);
    return out;
  }
  const bool took_over = previous.role != snmp::node_role::active;
  for (auto& link : now.data_links) {
    if (took_over) {
      if (link.state != snmp::link_status::up)
        out.push_back(snmp::trap::data_link_down(link.name, link.kind, link.state, now.epoch,
                                                 std::string("data link ") +
                                                   link_status_name(link.state) +
                                                   " when this node became active"));
      continue;
    }
    for (auto& old : previous.data_links) {
      if (old.name != link.name || old.state == link.state)
        continue;
      auto why = std::string("data link ") + link_status_name(old.state) + " -> " +
                 link_status_name(link.state);
      if (link.state == snmp::link_status::up)
        out.push_back(snmp::trap::data_link_up(link.name, link.kind, now.epoch, why));
      else
        out.push_back(snmp::trap::data_link_down(link.name, link.kind, link.state, now.epoch, why));
    }
  }
  add_billing_traps(previous, now, out);
  return out;
}

struct snmp_bridge::state : std::enable_shared_from_this<snmp_bridge::state> {
  boost::asio::io_context& io;
  snmp::subagent& agent;
  input_source source;
  std::chrono::milliseconds period;
  boost::asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  std::optional<snmp::node_view> previous;
  trunk_alarm_gate trunk_alarms; ///< gateway and facility traps: the active's only
  std::map<std::string, std::chrono::system_clock::time_point> last_change;

  state(boost::asio::io_context& i, snmp::subagent& a, input_source s, std::chrono::milliseconds p)
    : io(i),
      agent(a),
      source(std::move(s)),
      period(p),
      timer(i) {}

  void tick() {
    if (stopped)
      return;
    auto in = source();
    auto view = build_node_view(in, previous ? &*previous : nullptr, last_change,
                                std::chrono::system_clock::now());
    if (!agent.update(view))
      log::get("snmp")->warn("event=snmp_view_refused error=\"{}\"", agent.stats().last_error);
    if (previous)
      for (auto& t : traps_between(*previous, view, in.cluster.last_failover_reason)) {
        log::get("snmp")->info("event=snmp_trap kind={} reason=\"{}\"", snmp::to_string(t.kind),
                               t.reason);
        agent.notify(std::move(t));
      }
    previous = std::move(view);
    if (in.trunks) {
      for (auto& alarm : trunk_alarms.update(in.cluster.role == "active", *in.trunks,
                                             std::chrono::steady_clock::now())) {
        auto t = to_trap(alarm);
        log::get("snmp")->info("event=snmp_trap kind={} subject={} reason=\"{}\"",
                               snmp::to_string(t.kind), alarm.subject, t.reason);
        agent.notify(std::move(t));
      }
    }
    timer.expires_after(period);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec)
        self->tick();
    });
  }
};

snmp_bridge::snmp_bridge(boost::asio::io_context& io, snmp::subagent& agent, input_source source,
                         std::chrono::milliseconds period)
  : state_(std::make_shared<state>(io, agent, std::move(source), period)) {}

snmp_bridge::~snmp_bridge() { stop(); }

void snmp_bridge::start() {
  boost::asio::post(state_->io, [s = state_] { s->tick(); });
}

void snmp_bridge::stop() {
  if (state_->stopped.exchange(true))
    return;
  boost::asio::post(state_->io, [s = state_] { s->timer.cancel(); });
}

} // namespace cms
