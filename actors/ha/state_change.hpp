#pragma once
// The replication hook's unit: one observed transition of a line or a call, as the state
// catalogue (state_catalog.hpp) pushes it to its subscribers. Plain data, registered in the
// type-ID block so the standby node can receive it over the node link.

#include "actors/ha/byte_image.hpp"

#include <caf/meta/type_name.hpp>

#include <string>
#include <vector>

namespace cms::actors {

/// One observed transition, as the replication stream sees it.
struct state_change {
  std::string kind;        ///< "endpoint" or "call"
  std::string key;         ///< endpoint name or call id
  std::vector<char> state; ///< caf::binary_serializer image of endpoint_state / call_state
  bool removed = false;    ///< the call ended (state holds its final image)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_change& x) {
  return f(caf::meta::type_name("state_change"), x.kind, x.key, cms::byte_image{x.state},
           x.removed);
}

struct call_removed {
  std::string call_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_removed& x) {
  return f(caf::meta::type_name("call_removed"), x.call_id);
}

} // namespace cms::actors
