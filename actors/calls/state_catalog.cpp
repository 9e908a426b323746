#include "actors/calls/state_catalog.hpp"

#include "runtime/mgcp/text.hpp"

#include <boost/json.hpp>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <algorithm>

namespace cms::actors {

namespace {

using self_ptr = caf::stateful_actor<state_catalog_state>*;

template <class T>
void notify(self_ptr self, const char* kind, const std::string& key, T& x, bool removed) {
  auto& subs = self->state.subscribers;
  if (subs.empty())
    return;
  state_change ch;
  ch.kind = kind;
  ch.key = key;
  ch.removed = removed;
  caf::binary_serializer sink{self->system(), ch.state};
  if (auto err = sink(x))
    return;
  for (auto& s : subs)
    self->send(s, ch);
}

bool mta_matches(const endpoint_state& e, const std::string& mta) {
  return mgcp::text::iequals(e.mta, mta) || e.peer.address == mta || e.provisioned_address == mta;
}

std::string domain_of(const std::string& endpoint) {
  auto at = endpoint.rfind('@');
  return at == std::string::npos ? std::string{} : endpoint.substr(at + 1);
}

std::string page(boost::json::array items, std::size_t total, const list_query& q) {
  boost::json::object o;
  o["items"] = std::move(items);
  o["total"] = total;
  o["offset"] = q.offset;
  o["limit"] = q.limit;
  return boost::json::serialize(o);
}

std::string list_endpoints(self_ptr self, const list_query& q) {
  boost::json::array items;
  std::size_t total = 0;
  for (auto& [name, e] : self->state.endpoints) {
    if (!q.state.empty() && q.state != to_string(e.state))
      continue;
    if (!q.mta.empty() && !mta_matches(e, q.mta))
      continue;
    if (total >= q.offset && items.size() < q.limit)
      items.push_back(to_json(e));
    ++total;
  }
  return page(std::move(items), total, q);
}

std::string list_calls(self_ptr self, const list_query& q) {
  boost::json::array items;
  std::size_t total = 0;
  for (auto& [id, c] : self->state.calls) {
    if (!q.state.empty() && q.state != to_string(c.phase))
      continue;
    if (!q.mta.empty() && !mgcp::text::iequals(domain_of(c.originating), q.mta) &&
        !mgcp::text::iequals(domain_of(c.terminating), q.mta))
      continue;
    if (total >= q.offset && items.size() < q.limit)
      items.push_back(to_json(c));
    ++total;
  }
  return page(std::move(items), total, q);
}

} // namespace

caf::behavior state_catalog(self_ptr self, std::vector<endpoint_state> seed) {
  for (auto& e : seed)
    self->state.endpoints[e.name] = std::move(e);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) { return a.address() == msg.source; }),
               subs.end());
  });
  return {
    [self](endpoint_state& e) {
      auto key = e.name;
      notify(self, "endpoint", key, e, false);
      self->state.endpoints[key] = std::move(e);
    },
    [self](call_update& u) {
      auto key = u.state.call_id;
      notify(self, "call", key, u.state, false);
      self->state.calls[key] = std::move(u.state);
    },
    [self](call_removed& r) {
      auto& calls = self->state.calls;
      auto it = calls.find(r.call_id);
      if (it == calls.end())
        return;
      notify(self, "call", r.call_id, it->second, true);
      calls.erase(it);
    },
    [self](state_subscribe& s) {
      if (!s.subscriber)
        return;
      self->monitor(s.subscriber);
      self->state.subscribers.push_back(std::move(s.subscriber));
    },
    [self](list_query& q) -> std::string {
      return q.kind == "calls" ? list_calls(self, q) : list_endpoints(self, q);
    },
  };
}

bool decode_state(caf::actor_system& sys, const std::vector<char>& image, endpoint_state& out) {
  caf::binary_deserializer source{sys, image};
  return !source(out);
}

bool decode_state(caf::actor_system& sys, const std::vector<char>& image, call_state& out) {
  caf::binary_deserializer source{sys, image};
  return !source(out);
}

} // namespace cms::actors
