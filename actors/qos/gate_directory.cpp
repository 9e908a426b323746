#include "actors/qos/gate_directory.hpp"

#include "runtime/cops/dqos.hpp"

#include <stdexcept>

namespace cms::qos {

gate_directory::gate_directory(const std::vector<persistence::cmts>& cmtses, std::string element_id,
                               std::string time_zone)
  : element_id_(std::move(element_id)),
    time_zone_(std::move(time_zone)) {
  for (const auto& c : cmtses) {
    controllers_.emplace(c.name, caf::actor{});
    for (const auto& text : c.subnets) {
      auto slash = text.find('/');
      auto ip = cops::ipv4_from_string(text.substr(0, slash));
      int len = slash == std::string::npos ? 32 : std::stoi(text.substr(slash + 1));
      if (!ip || len < 0 || len > 32)
        throw std::invalid_argument("cmts " + c.name + ": bad subnet \"" + text + "\"");
      subnet s;
      s.mask = len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
      s.network = *ip & s.mask;
      s.length = len;
      s.cmts = c.name;
      s.dqos = c.dqos;
      subnets_.push_back(std::move(s));
    }
  }
}

std::optional<cmts_route> gate_directory::route(std::uint32_t mta_ip) const {
  const subnet* best = nullptr;
  for (const auto& s : subnets_)
    if ((mta_ip & s.mask) == s.network && (!best || s.length > best->length))
      best = &s;
  if (!best)
    return std::nullopt;
  return cmts_route{best->cmts, best->dqos};
}

std::optional<cmts_route> gate_directory::route(const std::string& mta_ip) const {
  auto ip = cops::ipv4_from_string(mta_ip);
  if (!ip)
    return std::nullopt;
  return route(*ip);
}

caf::actor gate_directory::controller(const std::string& cmts) const {
  std::lock_guard guard{mutex_};
  auto it = controllers_.find(cmts);
  return it == controllers_.end() ? caf::actor{} : it->second;
}

void gate_directory::set_controller(const std::string& cmts, caf::actor handle) {
  std::lock_guard guard{mutex_};
  controllers_[cmts] = std::move(handle);
}

std::vector<std::string> gate_directory::names() const {
  std::lock_guard guard{mutex_};
  std::vector<std::string> out;
  for (const auto& [name, h] : controllers_)
    out.push_back(name);
  return out;
}

} // namespace cms::qos
