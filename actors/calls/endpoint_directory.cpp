#include "actors/calls/endpoint_directory.hpp"

#include "runtime/mgcp/text.hpp"

#include <mutex>

namespace cms::actors {

namespace {
std::string domain_of(const std::string& lower_name) {
  auto at = lower_name.rfind('@');
  return at == std::string::npos ? std::string{} : lower_name.substr(at + 1);
}
} // namespace

void endpoint_directory::put(const std::string& name, caf::actor handle) {
  auto key = mgcp::text::lower(name);
  std::unique_lock guard{mutex_};
  auto [it, added] = by_name_.insert_or_assign(key, std::move(handle));
  (void)it;
  if (added)
    by_domain_.emplace(domain_of(key), key);
}

void endpoint_directory::erase(const std::string& name, const caf::actor& handle) {
  auto key = mgcp::text::lower(name);
  std::unique_lock guard{mutex_};
  auto it = by_name_.find(key);
  if (it == by_name_.end() || it->second != handle)
    return;
  by_name_.erase(it);
  auto range = by_domain_.equal_range(domain_of(key));
  for (auto i = range.first; i != range.second; ++i)
    if (i->second == key) {
      by_domain_.erase(i);
      break;
    }
}

caf::actor endpoint_directory::find(std::string_view name) const {
  auto key = mgcp::text::lower(name);
  std::shared_lock guard{mutex_};
  auto it = by_name_.find(key);
  return it == by_name_.end() ? caf::actor{} : it->second;
}

std::vector<caf::actor> endpoint_directory::covered_by(const mgcp::endpoint_name& wildcard) const {
  std::vector<caf::actor> out;
  auto domain = mgcp::text::lower(wildcard.domain);
  std::shared_lock guard{mutex_};
  auto range = by_domain_.equal_range(domain);
  for (auto i = range.first; i != range.second; ++i) {
    auto concrete = mgcp::parse_endpoint_name(i->second);
    if (concrete && wildcard.covers(*concrete))
      if (auto it = by_name_.find(i->second); it != by_name_.end())
        out.push_back(it->second);
  }
  return out;
}

std::size_t endpoint_directory::size() const {
  std::shared_lock guard{mutex_};
  return by_name_.size();
}

void endpoint_directory::clear() {
  std::unique_lock guard{mutex_};
  by_name_.clear();
  by_domain_.clear();
}

} // namespace cms::actors
