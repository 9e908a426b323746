#pragma once
// HA metadata (the pair's current epoch) and snapshots of replicated actor state. The epoch must
// survive restarts: a node that forgot it could accept a stale peer's updates after a failover.

#include "persistence/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::persistence {

/// One snapshot of an actor's replicated state, tagged with when it was produced.
struct actor_state_record {
  std::string kind; ///< "call", "registration"...
  std::string key;  ///< the actor's identity within its kind
  blob data;        ///< serialized state (format owned by the actor)
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0; ///< per-key update counter within the epoch
};

/// Holds a reference: the database must outlive the store.
class ha_store {
public:
  explicit ha_store(database& db) : db_(db) {}

  /// The stored epoch; 0 on a fresh database.
  std::uint64_t epoch();
  /// Stores `e` as the current epoch. Refuses to go backwards (a store_error of kind
  /// constraint): an epoch only grows, even across restarts.
  void set_epoch(std::uint64_t e);
  /// Atomically stores epoch + 1 and returns it (used when this node becomes active).
  std::uint64_t increment_epoch();

  /// Stores a snapshot unless a newer one (higher epoch, or same epoch and higher seq) is already
  /// stored. Returns whether it was stored.
  bool save_state(const actor_state_record& r);
  std::optional<actor_state_record> load_state(const std::string& kind, const std::string& key);
  /// All snapshots of one kind, ordered by key.
  std::vector<actor_state_record> load_states(const std::string& kind);
  /// Returns whether a snapshot was removed.
  bool erase_state(const std::string& kind, const std::string& key);

private:
  database& db_;
};

} // namespace cms::persistence
