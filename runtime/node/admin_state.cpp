#include "runtime/node/admin_state.hpp"

#include "runtime/base/wall_clock.hpp"

#include <chrono>

namespace cms {

const char* to_string(admin_object kind) noexcept {
  return kind == admin_object::data_link ? "data_link" : "gateway";
}

bool admin_state_registry::set_out_of_service(admin_object kind, const std::string& name,
                                              bool out_of_service, std::string reason) {
  admin_entry changed;
  std::vector<listener> to_call;
  {
    std::lock_guard guard{mutex_};
    auto& table = entries_[static_cast<int>(kind)];
    auto it = table.find(name);
    bool current = it != table.end() && it->second.out_of_service;
    if (current == out_of_service)
      return false;
    auto& e = table[name];
    e.name = name;
    e.out_of_service = out_of_service;
    e.since_ms = utc_ms();
    e.reason = std::move(reason);
    changed = e;
    to_call = listeners_;
  }
  for (auto& l : to_call)
    l(kind, changed);
  return true;
}

bool admin_state_registry::is_out_of_service(admin_object kind, const std::string& name) const {
  std::lock_guard guard{mutex_};
  auto& table = entries_[static_cast<int>(kind)];
  auto it = table.find(name);
  return it != table.end() && it->second.out_of_service;
}

admin_entry admin_state_registry::get(admin_object kind, const std::string& name) const {
  std::lock_guard guard{mutex_};
  auto& table = entries_[static_cast<int>(kind)];
  auto it = table.find(name);
  if (it == table.end())
    return admin_entry{name, false, 0, {}};
  return it->second;
}

std::vector<admin_entry> admin_state_registry::out_of_service(admin_object kind) const {
  std::lock_guard guard{mutex_};
  std::vector<admin_entry> out;
  for (auto& [name, e] : entries_[static_cast<int>(kind)])
    if (e.out_of_service)
      out.push_back(e);
  return out;
}

void admin_state_registry::restore(admin_object kind, admin_entry entry) {
  std::lock_guard guard{mutex_};
  auto name = entry.name;
  entries_[static_cast<int>(kind)][name] = std::move(entry);
}

void admin_state_registry::on_change(listener l) {
  std::lock_guard guard{mutex_};
  listeners_.push_back(std::move(l));
}

} // namespace cms
