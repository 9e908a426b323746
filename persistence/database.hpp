#pragma once
// RAII wrapper over the sqlite3 C API. A `database` is owned by one thread/actor at a time (SQLite
// connections must not be shared across concurrent users); open another connection for readers.

#include "persistence/migrations.hpp"
#include "persistence/store_error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace cms::persistence {

using blob = std::vector<std::uint8_t>;

struct open_options {
  /// How long a statement waits for another connection's lock before failing with `locked`.
  std::chrono::milliseconds busy_timeout{2000};
  /// The migrations to apply; null means the product schema (schema_migrations()).
  const std::vector<migration>* migrations = nullptr;
  /// When a commit reaches the disk (PRAGMA synchronous in WAL mode):
  ///   normal: the WAL is synced at checkpoints only. A committed transaction survives a process
  ///           crash but may be lost with the last ones on a power cut or kernel panic.
  ///   full:   every commit syncs the WAL before it returns. Writers whose commit is acknowledged
  ///           to someone else (billing records, the standby's apply, the epoch) use it.
  enum class durability { normal, full };
  durability sync = durability::normal;
  /// The SQLite VFS to open the file with (null: the default). Tests name a crash-simulating one.
  const char* vfs = nullptr;
};

/// The options of a writer whose commits are acknowledged to someone else (the billing writer, the
/// standby's apply of the replication stream, the epoch writer): every commit syncs the WAL.
inline open_options acknowledged_writer(open_options base = {}) {
  base.sync = open_options::durability::full;
  return base;
}

class database;

/// A prepared statement. Bind indexes are 1-based (SQLite's), column indexes 0-based.
class statement {
public:
  statement(database& db, const std::string& sql);
  statement(statement&&) noexcept;
  statement& operator=(statement&&) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  statement& bind(int index, std::nullptr_t);
  statement& bind(int index, double value);
  statement& bind(int index, std::string_view value);
  statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  statement& bind(int index, const blob& value);
  template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  statement& bind(int index, T value) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (value > static_cast<std::uint64_t>(INT64_MAX))
        fail_range(index);
    }
    return bind_int64(index, static_cast<std::int64_t>(value));
  }
  template <class T>
  statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, nullptr);
  }
  /// Binds every argument in order, starting at index 1.
  template <class... Ts>
  statement& bind_all(const Ts&... values) {
    int i = 0;
    (bind(++i, values), ...);
    return *this;
  }

  /// Advances one row: true when a row is available, false when the statement is done.
  bool step();
  /// Runs a statement that returns no rows; returns the number of rows it changed.
  int run();
  /// Makes the statement reusable with new bindings.
  void reset();

  enum class column_kind { null, integer, real, text, blob };
  column_kind kind(int column) const;
  int column_count() const;
  bool is_null(int column) const;
  std::int64_t column_int64(int column) const;
  int column_int(int column) const { return static_cast<int>(column_int64(column)); }
  double column_double(int column) const;
  std::string column_text(int column) const;
  std::optional<std::string> column_optional_text(int column) const;
  blob column_blob(int column) const;

  const std::string& sql() const noexcept { return sql_; }

private:
  statement& bind_int64(int index, std::int64_t value);
  [[noreturn]] void fail_range(int index) const;
  void check_bind(int rc, int index);

  database* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

class database {
public:
  /// Opens (creating if absent) and migrates the store at `file`. An existing file is first
  /// checked on a read-only connection (quick_check, application_id, user_version), so a corrupt,
  /// foreign or newer-schema file is refused before anything could write to it. Throws store_error.
  static database open(const std::filesystem::path& file, const open_options& options = {});

  database(database&&) noexcept;
  database& operator=(database&&) noexcept;
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database();

  /// Runs one or more statements without results (DDL, pragmas).
  void exec(const std::string& sql);
  statement prepare(const std::string& sql) { return statement(*this, sql); }

  int schema_version();
  std::int64_t last_insert_rowid() const;
  const std::filesystem::path& file() const noexcept { return file_; }
  sqlite3* handle() const noexcept { return db_; }

  /// Throws the store_error matching SQLite result `rc`, naming the file and what was attempted.
  [[noreturn]] void fail(int rc, const std::string& what) const;

private:
  database(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}

  sqlite3* db_ = nullptr;
  std::filesystem::path file_;
};

/// Commits on commit(), rolls back when destroyed without it (exception or early return).
class transaction {
public:
  enum class mode { deferred, immediate, exclusive };

  explicit transaction(database& db, mode m = mode::immediate);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();

  void commit();

private:
  database& db_;
  bool done_ = false;
};

/// A nestable unit of work: inside a caller's transaction it is a savepoint of it (so an outbox
/// append can join the call's state change), outside it behaves like BEGIN DEFERRED ... COMMIT.
/// Rolls back to its start when destroyed without release().
class savepoint {
public:
  savepoint(database& db, std::string name);
  savepoint(const savepoint&) = delete;
  savepoint& operator=(const savepoint&) = delete;
  ~savepoint();

  void release();

private:
  database& db_;
  std::string name_;
  bool done_ = false;
};

} // namespace cms::persistence
