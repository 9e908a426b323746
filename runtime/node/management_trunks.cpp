#include "runtime/node/management_trunks.hpp"

#include "actors/trunks/trunk_context.hpp"

#include <algorithm>
#include <map>

namespace cms {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (auto& i : items)
    out += (out.empty() ? "" : ",") + i;
  return out;
}

const gateway_status* find_gateway(const trunk_status& s, const std::string& name) {
  for (auto& g : s.gateways)
    if (g.name == name)
      return &g;
  return nullptr;
}

const facility_status* find_facility(const trunk_status& s, const std::string& id) {
  for (auto& f : s.facilities)
    if (f.id == id)
      return &f;
  return nullptr;
}

std::string failure_reason(const gateway_status& g) {
  if (g.forced)
    return "RSIP forced from the gateway";
  if (g.misses > 0)
    return "no answer to " + std::to_string(g.misses) + " AUEP keepalives";
  return "gateway failed";
}

} // namespace

trunk_status_source trunk_status_of(std::shared_ptr<trunks::trunk_context> ctx) {
  return [ctx] {
    trunk_status out;
    if (!ctx)
      return out;
    std::map<std::string, std::string> home_carrier; // gateway -> carrier of its first facility
    for (auto& f : ctx->prov.facilities)
      home_carrier.emplace(f.gateway, f.carrier);
    for (auto& v : ctx->gateway_snapshots()) {
      gateway_status g;
      g.name = v.config.name;
      g.address = v.config.address + ":" + std::to_string(v.config.port);
      g.role = v.config.role;
      g.healthy = v.healthy;
      g.forced = v.forced;
      g.misses = v.misses;
      g.transitions = v.transitions;
      g.carrying = v.carrying;
      g.promoted_ms = v.config.role == "cold_spare" ? v.promoted_ms : 0;
      for (auto& id : v.carrying)
        if (auto* f = ctx->facility(id)) {
          if (g.carrier.empty())
            g.carrier = f->carrier;
          if (f->gateway != g.name &&
              std::find(g.replacing.begin(), g.replacing.end(), f->gateway) == g.replacing.end())
            g.replacing.push_back(f->gateway);
        }
      if (g.carrier.empty())
        if (auto it = home_carrier.find(g.name); it != home_carrier.end())
          g.carrier = it->second;
      out.gateways.push_back(std::move(g));
    }
    for (auto& f : ctx->prov.facilities) {
      facility_status s;
      s.id = f.id;
      s.home_gateway = f.gateway;
      s.gateway = f.gateway;
      s.carrier = f.carrier;
      if (auto snap = ctx->snapshot(f.id)) {
        s.known = true;
        s.gateway = snap->gateway;
        s.span_down = snap->facility_down;
        s.span_drops = static_cast<std::uint64_t>(ctx->registry.value(
          "cms_trunk_facility_transitions_total", {{"facility", f.id}, {"to", "down"}}));
        s.in_service = snap->gateway_healthy && !snap->facility_down;
        for (auto& c : snap->channels) {
          switch (c.state) {
          case trunks::channel_state::idle:
            ++s.channels_idle;
            break;
          case trunks::channel_state::seized:
          case trunks::channel_state::in_call:
            ++s.channels_busy;
            break;
          default:
            ++s.channels_oos;
            break;
          }
        }
      } else {
        s.channels_idle = static_cast<std::uint32_t>(std::max(f.channels, 0));
      }
      out.facilities.push_back(std::move(s));
    }
    return out;
  };
}

trunk_status trunk_baseline(const trunk_status& now) {
  trunk_status base;
  for (auto& g : now.gateways) {
    gateway_status b;
    b.name = g.name;
    b.address = g.address;
    b.role = g.role;
    b.carrier = g.carrier;
    base.gateways.push_back(std::move(b));
  }
  for (auto& f : now.facilities) {
    facility_status b;
    b.id = f.id;
    b.home_gateway = f.home_gateway;
    b.gateway = f.home_gateway;
    b.carrier = f.carrier;
    b.known = true;
    base.facilities.push_back(std::move(b));
  }
  return base;
}

std::vector<trunk_alarm> trunk_alarms_between(const trunk_status& before, const trunk_status& now) {
  std::vector<trunk_alarm> failures, restorals, promotions, facilities;
  for (auto& g : now.gateways) {
    auto* old = find_gateway(before, g.name);
    if (!old)
      continue; // not there before: provisioning changed under a restarted trunk control
    auto failed = [&](std::string reason) {
      failures.push_back({trunk_alarm_kind::gateway_failed,
                          g.name,
                          g.address,
                          {},
                          {},
                          g.carrier,
                          std::move(reason)});
    };
    auto restored = [&](std::string reason) {
      restorals.push_back({trunk_alarm_kind::gateway_restored,
                           g.name,
                           g.address,
                           {},
                           {},
                           g.carrier,
                           std::move(reason)});
    };
    if (old->healthy && !g.healthy) {
      failed(failure_reason(g));
    } else if (!old->healthy && g.healthy) {
      restored("gateway answers again (keepalive answered or RSIP restart)");
    } else if (g.healthy && g.transitions >= old->transitions + 2) {
      // Failed and came back between two readings: the operator still hears of both.
      failed("gateway failed and recovered within one management poll");
      restored("gateway answers again (keepalive answered or RSIP restart)");
    }
    if (g.role == "cold_spare" && g.promoted_ms != 0 && g.promoted_ms != old->promoted_ms) {
      std::string why;
      for (auto& r : g.replacing) {
        auto* home = find_gateway(now, r);
        why += (why.empty() ? "" : "; ") + ("gateway " + r + " failed") +
               (home && !home->healthy ? " (" + failure_reason(*home) + ")" : "");
      }
      promotions.push_back({trunk_alarm_kind::spare_promoted,
                            g.name,
                            g.address,
                            {},
                            join(g.replacing),
                            g.carrier,
                            why + (why.empty() ? "" : ": ") + "spare carries " + join(g.carrying)});
    }
  }
  for (auto& f : now.facilities) {
    auto* old = find_facility(before, f.id);
    if (!old || !f.known || !old->known)
      continue;
    auto down = [&](std::string reason) {
      facilities.push_back({trunk_alarm_kind::facility_down,
                            f.id,
                            {},
                            f.gateway,
                            {},
                            f.carrier,
                            reason + "; calls hunt its backup facility"});
    };
    auto up = [&] {
      facilities.push_back(
        {trunk_alarm_kind::facility_up,
         f.id,
         {},
         f.gateway,
         {},
         f.carrier,
         f.gateway == f.home_gateway
           ? "in service on its home gateway " + f.gateway
           : "in service on cold spare " + f.gateway + " (home " + f.home_gateway + ")"});
    };
    if (old->in_service == f.in_service) {
      if (f.in_service && f.span_drops > old->span_drops) {
        // Dropped and restored between two readings: the operator still hears of both.
        down("span dropped by gateway " + f.gateway +
             " (RSIP) and restored within one management poll");
        up();
      }
      continue;
    }
    if (f.in_service)
      up();
    else if (f.span_down)
      down("span dropped by gateway " + f.gateway + " (RSIP)");
    else if (auto* gw = find_gateway(now, f.gateway))
      down("gateway " + f.gateway + " failed (" + failure_reason(*gw) +
           "), no cold spare took it over");
    else
      down("gateway " + f.gateway + " failed");
  }
  std::vector<trunk_alarm> out;
  for (auto* part : {&failures, &promotions, &facilities, &restorals})
    out.insert(out.end(), part->begin(), part->end());
  return out;
}

event_text to_event(const trunk_alarm& a) {
  switch (a.kind) {
  case trunk_alarm_kind::gateway_failed:
    return {"gateway", "critical", "gateway " + a.subject + " failed: " + a.reason};
  case trunk_alarm_kind::gateway_restored:
    return {"gateway", "info", "gateway " + a.subject + " restored: " + a.reason};
  case trunk_alarm_kind::spare_promoted:
    return {"cold_spare", "warning",
            "cold spare " + a.subject + " promoted for " + a.replaced + ": " + a.reason};
  case trunk_alarm_kind::facility_down:
    return {"facility", "critical",
            "facility " + a.subject + " (" + a.carrier + ") out of service: " + a.reason};
  case trunk_alarm_kind::facility_up:
    return {"facility", "info", "facility " + a.subject + " (" + a.carrier + ") " + a.reason};
  }
  return {"trunk", "info", a.reason};
}

snmp::trap to_trap(const trunk_alarm& a) {
  switch (a.kind) {
  case trunk_alarm_kind::gateway_failed:
    return snmp::trap::gateway_failed(a.subject, a.address, a.carrier, a.reason);
  case trunk_alarm_kind::gateway_restored:
    return snmp::trap::gateway_restored(a.subject, a.address, a.carrier, a.reason);
  case trunk_alarm_kind::spare_promoted:
    return snmp::trap::cold_spare_promoted(a.subject, a.address, a.replaced, a.carrier, a.reason);
  case trunk_alarm_kind::facility_down:
    return snmp::trap::facility_down(a.subject, a.gateway, a.carrier, a.reason);
  case trunk_alarm_kind::facility_up:
    return snmp::trap::facility_up(a.subject, a.gateway, a.carrier, a.reason);
  }
  return snmp::trap::gateway_failed(a.subject, a.address, a.carrier, a.reason);
}

std::vector<trunk_alarm> trunk_alarm_gate::update(bool active, const trunk_status& now,
                                                  std::chrono::steady_clock::time_point at) {
  if (!active) {
    active_since_.reset();
    last_.reset();
    return {};
  }
  if (!active_since_)
    active_since_ = at;
  if (at - *active_since_ < settle_)
    return {};
  auto before = last_ ? *last_ : trunk_baseline(now);
  if (!last_) {
    // Flaps counted before this node owned the alarms (fenced as standby) are not news.
    for (std::size_t i = 0; i < before.gateways.size(); ++i)
      before.gateways[i].transitions = now.gateways[i].transitions;
    for (std::size_t i = 0; i < before.facilities.size(); ++i)
      before.facilities[i].span_drops = now.facilities[i].span_drops;
  }
  auto alarms = trunk_alarms_between(before, now);
  last_ = now;
  return alarms;
}

} // namespace cms
