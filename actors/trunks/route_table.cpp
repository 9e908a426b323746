#include "actors/trunks/route_table.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace cms::trunks {

route_table::route_table(const persistence::provisioning& prov)
  : groups_(prov.trunk_groups),
    facilities_(prov.facilities) {
  for (auto& r : prov.routes) {
    auto it = std::find_if(lists_.begin(), lists_.end(),
                           [&](const list& l) { return l.prefix == r.prefix; });
    if (it == lists_.end()) {
      lists_.push_back(list{r.prefix, {}});
      it = std::prev(lists_.end());
    }
    it->routes.push_back(r);
  }
  for (auto& l : lists_)
    std::stable_sort(l.routes.begin(), l.routes.end(),
                     [](auto& a, auto& b) { return a.priority < b.priority; });
  std::stable_sort(lists_.begin(), lists_.end(),
                   [](const list& a, const list& b) { return a.prefix.size() > b.prefix.size(); });
}

const persistence::trunk_group* route_table::group(const std::string& id) const {
  for (auto& g : groups_)
    if (g.id == id)
      return &g;
  return nullptr;
}

const persistence::facility* route_table::facility(const std::string& id) const {
  for (auto& f : facilities_)
    if (f.id == id)
      return &f;
  return nullptr;
}

std::optional<std::string> route_table::match(const std::string& number) const {
  for (auto& l : lists_)
    if (number.compare(0, l.prefix.size(), l.prefix) == 0)
      return l.prefix;
  return std::nullopt;
}

std::vector<hunt_candidate> route_table::candidates(const std::string& number, bool primary_up,
                                                    std::uint64_t rotation) const {
  std::vector<hunt_candidate> out;
  auto add = [&](const std::string& fid, const std::string& gid, const std::string& prefix) {
    if (!facility(fid))
      return;
    for (auto& c : out)
      if (c.facility == fid)
        return;
    out.push_back(hunt_candidate{fid, gid, prefix});
  };
  for (auto& l : lists_) {
    if (number.compare(0, l.prefix.size(), l.prefix) != 0)
      continue;
    std::vector<const persistence::trunk_group*> groups;
    for (auto& r : l.routes)
      if (auto g = group(r.trunk_group))
        groups.push_back(g);
    auto partner = [](const persistence::trunk_group* g) { return g->segment == "partner"; };
    if (primary_up)
      std::stable_partition(groups.begin(), groups.end(), partner);
    else
      groups.erase(std::remove_if(groups.begin(), groups.end(), partner), groups.end());
    for (auto* g : groups) {
      auto members = g->members;
      std::stable_sort(members.begin(), members.end(),
                       [](auto& a, auto& b) { return a.priority < b.priority; });
      // Rotate each block of equal priority: load sharing between equal members.
      for (std::size_t i = 0; i < members.size();) {
        auto j = i;
        while (j < members.size() && members[j].priority == members[i].priority)
          ++j;
        auto n = j - i;
        if (n > 1)
          std::rotate(members.begin() + static_cast<long>(i),
                      members.begin() + static_cast<long>(i + rotation % n),
                      members.begin() + static_cast<long>(j));
        i = j;
      }
      for (auto& m : members)
        add(m.facility, g->id, l.prefix);
      for (auto& m : members)
        if (auto f = facility(m.facility); f && f->backup_facility)
          add(*f->backup_facility, g->id, l.prefix);
    }
    if (!out.empty())
      return out;
  }
  return out;
}

boost::json::array route_table::to_json() const {
  boost::json::array out;
  for (auto& l : lists_) {
    boost::json::array groups;
    for (auto& r : l.routes) {
      boost::json::object g{{"id", r.trunk_group}, {"priority", r.priority}};
      if (auto tg = group(r.trunk_group)) {
        g["segment"] = tg->segment;
        boost::json::array members;
        for (auto& m : tg->members) {
          boost::json::object mo{{"facility", m.facility}, {"priority", m.priority}};
          if (auto f = facility(m.facility))
            mo["carrier"] = f->carrier;
          members.push_back(std::move(mo));
        }
        g["members"] = std::move(members);
      }
      groups.push_back(std::move(g));
    }
    out.push_back(boost::json::object{{"prefix", l.prefix}, {"trunk_groups", std::move(groups)}});
  }
  return out;
}

} // namespace cms::trunks
