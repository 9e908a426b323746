#include "actors/calls/endpoint_directory.hpp"

#include "runtime/mgcp/text.hpp"

#include <algorithm>
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

void endpoint_directory::bind_source(const std::string& domain,
                                     const boost::asio::ip::address& address) {
  auto key = mgcp::text::lower(domain);
  std::unique_lock guard{mutex_};
  auto& list = sources_[key];
  if (std::find(list.begin(), list.end(), address) == list.end())
    list.push_back(address);
}

endpoint_directory::source_check
endpoint_directory::check_source(std::string_view domain,
                                 const boost::asio::ip::address& from) const {
  auto key = mgcp::text::lower(domain);
  std::shared_lock guard{mutex_};
  auto it = sources_.find(key);
  if (it == sources_.end())
    return source_check::unbound;
  // An IPv4 peer may reach a dual-stack socket as ::ffff:a.b.c.d.
  auto plain = from.is_v6() && from.to_v6().is_v4_mapped()
                 ? boost::asio::ip::address(
                     boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, from.to_v6()))
                 : from;
  for (auto& a : it->second)
    if (a == plain)
      return source_check::allowed;
  return source_check::refused;
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
