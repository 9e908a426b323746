#pragma once
// The operator's administrative states on disk: the drain switch (runtime/base/admission.hpp) and the
// data links and gateways taken out of service (runtime/node/admin_state.hpp), in the table
// admin_state of the node's store (migration 2, docs/persistence.md). A restarted node reads them
// back before it accepts calls, so a drain or an out-of-service survives a restart (or a crash)
// and is announced in the log and the events list instead of silently lifted.
//
// Used by the management service on its SQLite worker thread (one connection, one owner).

#include "runtime/node/admin_state.hpp"
#include "runtime/base/admission.hpp"

#include <optional>
#include <vector>

namespace cms {

namespace persistence {
class database;
}

struct saved_admin_states {
  std::optional<admission::state> drain; ///< set while the node was draining
  std::vector<std::pair<admin_object, admin_entry>> out_of_service;
};

class admin_state_store {
public:
  explicit admin_state_store(persistence::database& db) : db_(db) {}

  saved_admin_states load();
  /// Writes the drain switch: a row while draining, none otherwise.
  void save_drain(const admission::state& s);
  /// Writes one object's state: a row while out of service, none once returned.
  void save(admin_object kind, const admin_entry& e);

private:
  persistence::database& db_;
};

/// Puts saved states into the drain switch and the registry (at start, before calls are taken).
/// Returns one line per restored state, for the log and the events list.
std::vector<std::string> restore_admin_states(const saved_admin_states& saved, admission& drain,
                                              admin_state_registry& registry);

} // namespace cms
