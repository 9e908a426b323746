#pragma once
// The one error type of the persistence layer. The code lets the node pick an exit status and an
// operator message without parsing text.

#include <stdexcept>
#include <string>

namespace cms::persistence {

enum class store_errc {
  /// The file exists but is not an SQLite database (SQLITE_NOTADB).
  not_a_database,
  /// PRAGMA quick_check found damage, or SQLite reported SQLITE_CORRUPT.
  corrupt,
  /// Another connection holds a lock longer than our busy timeout.
  locked,
  /// PRAGMA user_version is newer than the migrations this binary knows.
  newer_schema,
  /// A migration step failed; the database stays at the previous version.
  migration_failed,
  /// A constraint was violated (duplicate key, dangling reference...).
  constraint,
  /// File system trouble: cannot open/create, read-only, disk full.
  io,
  /// Anything else SQLite reported (including misuse).
  other,
};

/// Human-readable name of a code, for logs.
const char* to_string(store_errc code) noexcept;

class store_error : public std::runtime_error {
public:
  store_error(store_errc code, const std::string& message)
    : std::runtime_error(message),
      code_(code) {}

  store_errc code() const noexcept { return code_; }

private:
  store_errc code_;
};

} // namespace cms::persistence
