#include "actors/calls/dial_plan.hpp"

#include "runtime/base/q850.hpp"

#include "runtime/mgcp/text.hpp"

namespace cms::actors {

dial_plan::dial_plan(const std::vector<persistence::subscriber>& lines,
                     std::vector<std::string> on_net_prefixes,
                     std::shared_ptr<const offnet_router> router)
  : on_net_prefixes_(std::move(on_net_prefixes)),
    router_(std::move(router)) {
  for (auto& s : lines)
    if (!s.directory_number.empty())
      lines_.emplace(s.directory_number, mgcp::text::lower(s.endpoint_name));
  if (!router_)
    router_ = std::make_shared<no_offnet_routes>();
}

route_decision dial_plan::resolve(const std::string& number) const {
  route_decision out;
  if (auto it = lines_.find(number); it != lines_.end()) {
    out.what = route_decision::kind::on_net;
    out.endpoint = it->second;
    return out;
  }
  for (auto& prefix : on_net_prefixes_)
    if (number.compare(0, prefix.size(), prefix) == 0) {
      out.what = route_decision::kind::unallocated;
      out.cause = q850::unallocated_number;
      return out;
    }
  if (auto r = router_ ? router_->route(number) : std::nullopt) {
    out.what = route_decision::kind::off_net;
    out.route = *r;
    out.via = router_->trunk_router();
    return out;
  }
  out.what = route_decision::kind::no_route;
  out.cause = q850::no_route_to_destination;
  return out;
}

std::string dial_plan::endpoint_of(const std::string& directory_number) const {
  auto it = lines_.find(directory_number);
  return it == lines_.end() ? std::string{} : it->second;
}

} // namespace cms::actors
