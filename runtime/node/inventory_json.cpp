#include "runtime/node/inventory_json.hpp"

namespace cms {

namespace {

const std::string* label(const metrics::sample& s, const std::string& name) {
  for (auto& [k, v] : s.labels)
    if (k == name)
      return &v;
  return nullptr;
}

} // namespace

void add_admin_fields(boost::json::object& row, const admin_entry& e) {
  row["admin_state"] = e.out_of_service ? "out_of_service" : "in_service";
  row["admin_since_ms"] = e.since_ms;
  row["admin_reason"] = e.reason;
}

std::string data_link_state_from_metrics(const std::vector<metrics::sample>& samples,
                                         const std::string& link) {
  for (auto& s : samples) {
    if (s.name != "cms_data_link_state")
      continue;
    auto* l = label(s, "link");
    if (!l || *l != link)
      continue;
    // Gauge values of actors/links/data_link.cpp: 0 down, 1 degraded, 2 up.
    auto v = static_cast<int>(s.value);
    return v == 2 ? "up" : v == 1 ? "degraded" : "down";
  }
  return "unknown";
}

std::uint64_t data_link_transitions_from_metrics(const std::vector<metrics::sample>& samples,
                                                 const std::string& link) {
  std::uint64_t total = 0;
  for (auto& s : samples) {
    if (s.name != "cms_data_link_transitions_total")
      continue;
    auto* l = label(s, "link");
    if (l && *l == link)
      total += static_cast<std::uint64_t>(s.value);
  }
  return total;
}

boost::json::array routes_json(const persistence::provisioning& p) {
  boost::json::array out;
  for (auto& r : p.routes) {
    boost::json::object row{
      {"prefix", r.prefix}, {"trunk_group", r.trunk_group}, {"priority", r.priority}};
    for (auto& g : p.trunk_groups)
      if (g.id == r.trunk_group) {
        row["trunk_group_name"] = g.name;
        row["segment"] = g.segment;
      }
    out.push_back(std::move(row));
  }
  return out;
}

boost::json::array links_json(const persistence::provisioning& p,
                              const std::vector<metrics::sample>& samples,
                              const admin_state_registry& admin) {
  boost::json::array out;
  for (auto& l : p.data_links) {
    boost::json::object row{{"name", l.name},
                            {"kind", l.kind},
                            {"local_address", l.local_address},
                            {"remote_address", l.remote_address},
                            {"remote_port", l.remote_port}};
    auto entry = admin.get(admin_object::data_link, l.name);
    add_admin_fields(row, entry);
    row["state"] = data_link_state_from_metrics(samples, l.name);
    row["transitions"] = data_link_transitions_from_metrics(samples, l.name);
    out.push_back(std::move(row));
  }
  return out;
}

boost::json::array gateways_json(const persistence::provisioning& p,
                                 const admin_state_registry& admin) {
  boost::json::array out;
  for (auto& g : p.gateways) {
    boost::json::object row{
      {"name", g.name},
      {"address", g.address},
      {"port", g.port},
      {"role", g.role},
      {"segment", g.segment},
      {"spare_for", g.spare_for ? boost::json::value(*g.spare_for) : nullptr}};
    auto entry = admin.get(admin_object::gateway, g.name);
    add_admin_fields(row, entry);
    row["state"] = entry.out_of_service ? "out_of_service" : "unknown";
    boost::json::array facilities;
    for (auto& f : p.facilities)
      if (f.gateway == g.name)
        facilities.push_back(boost::json::value(f.id));
    row["facilities"] = std::move(facilities);
    out.push_back(std::move(row));
  }
  return out;
}

boost::json::array facilities_json(const persistence::provisioning& p,
                                   const admin_state_registry& admin) {
  boost::json::array out;
  for (auto& f : p.facilities) {
    boost::json::object row{
      {"id", f.id},
      {"gateway", f.gateway},
      {"kind", f.kind},
      {"carrier", f.carrier},
      {"span", f.span},
      {"channels", f.channels},
      {"backup_facility", f.backup_facility ? boost::json::value(*f.backup_facility) : nullptr}};
    for (auto& c : p.carriers)
      if (c.id == f.carrier)
        row["carrier_name"] = c.name;
    boost::json::array groups;
    for (auto& g : p.trunk_groups)
      for (auto& m : g.members)
        if (m.facility == f.id)
          groups.push_back(boost::json::value(g.id));
    row["trunk_groups"] = std::move(groups);
    auto gw = admin.get(admin_object::gateway, f.gateway);
    row["gateway_admin_state"] = gw.out_of_service ? "out_of_service" : "in_service";
    row["state"] = gw.out_of_service ? "out_of_service" : "unknown";
    out.push_back(std::move(row));
  }
  return out;
}

boost::json::array trunk_groups_json(const persistence::provisioning& p) {
  boost::json::array out;
  for (auto& g : p.trunk_groups) {
    boost::json::array members;
    for (auto& m : g.members)
      members.push_back(boost::json::object{{"facility", m.facility}, {"priority", m.priority}});
    out.push_back(boost::json::object{
      {"id", g.id}, {"name", g.name}, {"segment", g.segment}, {"members", std::move(members)}});
  }
  return out;
}

void merge_live(boost::json::array& rows, const std::string& key,
                const std::map<std::string, boost::json::object>& live) {
  for (auto& r : rows) {
    if (!r.is_object())
      continue;
    auto* k = r.as_object().if_contains(key);
    if (!k || !k->is_string())
      continue;
    auto it = live.find(std::string(k->as_string()));
    if (it == live.end())
      continue;
    for (auto& [field, value] : it->second)
      r.as_object()[field] = value;
  }
}

} // namespace cms
