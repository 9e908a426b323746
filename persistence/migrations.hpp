#pragma once
// Numbered schema migrations. The schema version lives in PRAGMA user_version; each step runs in
// its own transaction together with the version bump, so a crash leaves the database at a whole
// version, never between two.

#include <string>
#include <vector>

namespace cms::persistence {

class database;

struct migration {
  int version;             ///< 1, 2, 3... contiguous
  std::string description; ///< for logs and error messages
  std::string sql;         ///< one or more statements
};

/// The product schema: every migration this binary knows, in order.
const std::vector<migration>& schema_migrations();

/// Version of the newest migration in schema_migrations().
int latest_schema_version();

/// PRAGMA application_id stamped on databases created by cmsd ("CMSD" in ASCII).
constexpr int cms_application_id = 0x434D5344;

/// Applies the steps of `steps` whose version is above the database's user_version, each in its
/// own IMMEDIATE transaction. Throws store_error (migration_failed, locked...) and leaves the
/// database at the last version that was applied completely. Returns the number of steps applied.
int apply_migrations(database& db, const std::vector<migration>& steps);

} // namespace cms::persistence
