#include "actors/trunks/trunk_context.hpp"

#include "runtime/mgcp/text.hpp"

namespace cms::trunks {

const char* to_string(channel_state s) noexcept {
  switch (s) {
  case channel_state::idle:
    return "idle";
  case channel_state::seized:
    return "seized";
  case channel_state::in_call:
    return "in_call";
  case channel_state::blocked:
    return "blocked";
  case channel_state::out_of_service:
    return "out_of_service";
  }
  return "?";
}

std::string channel_endpoint(int span, int channel, const std::string& gateway) {
  return mgcp::text::lower("ds/ds1-" + std::to_string(span) + "/" + std::to_string(channel) + "@" +
                           gateway);
}

std::int64_t now_ms() { return cms::utc_ms(); }

trunk_context::trunk_context(trunk_settings s, std::shared_ptr<actors::call_context> c,
                             persistence::provisioning p, metrics::registry& r)
  : settings(std::move(s)),
    calls(std::move(c)),
    prov(std::move(p)),
    registry(r) {
  for (auto& g : prov.gateways) {
    gateway_view v;
    v.config = g;
    gateway_views_[g.name] = v;
  }
}

const persistence::gateway* trunk_context::gateway(const std::string& name) const {
  for (auto& g : prov.gateways)
    if (g.name == name)
      return &g;
  return nullptr;
}

const persistence::facility* trunk_context::facility(const std::string& id) const {
  for (auto& f : prov.facilities)
    if (f.id == id)
      return &f;
  return nullptr;
}

caf::actor trunk_context::router() const {
  std::lock_guard guard{mutex_};
  return router_;
}

void trunk_context::set_router(caf::actor h) {
  std::lock_guard guard{mutex_};
  router_ = std::move(h);
}

caf::actor trunk_context::trunk(const std::string& facility) const {
  std::lock_guard guard{mutex_};
  auto it = trunks_.find(facility);
  return it == trunks_.end() ? caf::actor{} : it->second;
}

void trunk_context::set_trunk(const std::string& facility, caf::actor h) {
  std::lock_guard guard{mutex_};
  trunks_[facility] = std::move(h);
}

caf::actor trunk_context::gateway_actor(const std::string& name) const {
  std::lock_guard guard{mutex_};
  auto it = gateways_.find(name);
  return it == gateways_.end() ? caf::actor{} : it->second;
}

void trunk_context::set_gateway_actor(const std::string& name, caf::actor h) {
  std::lock_guard guard{mutex_};
  gateways_[name] = std::move(h);
}

void trunk_context::save(const trunk_state& st, const std::map<int, caf::actor>& legs) {
  std::lock_guard guard{mutex_};
  states_[st.facility] = st;
  legs_[st.facility] = legs;
}

std::optional<trunk_state> trunk_context::snapshot(const std::string& facility) const {
  std::lock_guard guard{mutex_};
  auto it = states_.find(facility);
  if (it == states_.end())
    return std::nullopt;
  return it->second;
}

std::map<int, caf::actor> trunk_context::legs(const std::string& facility) const {
  std::lock_guard guard{mutex_};
  auto it = legs_.find(facility);
  return it == legs_.end() ? std::map<int, caf::actor>{} : it->second;
}

std::vector<trunk_state> trunk_context::snapshots() const {
  std::lock_guard guard{mutex_};
  std::vector<trunk_state> out;
  for (auto& [k, v] : states_)
    out.push_back(v);
  return out;
}

void trunk_context::update_gateway(const std::string& name,
                                   const std::function<void(gateway_view&)>& f) {
  std::lock_guard guard{mutex_};
  auto it = gateway_views_.find(name);
  if (it != gateway_views_.end())
    f(it->second);
}

std::optional<gateway_view> trunk_context::gateway_snapshot(const std::string& name) const {
  std::lock_guard guard{mutex_};
  auto it = gateway_views_.find(name);
  if (it == gateway_views_.end())
    return std::nullopt;
  return it->second;
}

std::vector<gateway_view> trunk_context::gateway_snapshots() const {
  std::lock_guard guard{mutex_};
  std::vector<gateway_view> out;
  for (auto& [k, v] : gateway_views_)
    out.push_back(v);
  return out;
}

bool trunk_context::primary_up() const {
  std::lock_guard guard{mutex_};
  return primary_up_;
}

void trunk_context::set_primary_up(bool up) {
  std::lock_guard guard{mutex_};
  primary_up_ = up;
}

void trunk_context::clear() {
  std::lock_guard guard{mutex_};
  router_ = nullptr;
  trunks_.clear();
  gateways_.clear();
  legs_.clear();
}

} // namespace cms::trunks
