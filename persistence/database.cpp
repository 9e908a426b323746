#include "persistence/database.hpp"

#include <sqlite3.h>

#include <utility>

namespace cms::persistence {

namespace {

store_errc classify(int rc) {
  switch (rc & 0xff) {
  case SQLITE_NOTADB:
    return store_errc::not_a_database;
  case SQLITE_CORRUPT:
    return store_errc::corrupt;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return store_errc::locked;
  case SQLITE_CONSTRAINT:
    return store_errc::constraint;
  case SQLITE_CANTOPEN:
  case SQLITE_IOERR:
  case SQLITE_FULL:
  case SQLITE_READONLY:
  case SQLITE_PERM:
    return store_errc::io;
  default:
    return store_errc::other;
  }
}

std::string describe(sqlite3* db, int rc) {
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
    msg += " (another connection holds a lock for too long: a long transaction in this node, or a "
           "second process using this data directory)";
  else if ((rc & 0xff) == SQLITE_CORRUPT)
    msg += " (database is corrupt; refusing to use it; restore it from the peer or a backup)";
  else if ((rc & 0xff) == SQLITE_NOTADB)
    msg += " (the file is not an SQLite database; refusing to touch it)";
  return msg;
}

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, const std::filesystem::path& file,
                               const std::string& what) {
  throw store_error(classify(rc), file.string() + ": " + what + ": " + describe(db, rc));
}

/// Owns a raw connection until it is handed to a `database` (or closes it on error).
struct raw_connection {
  sqlite3* db = nullptr;
  ~raw_connection() {
    if (db)
      sqlite3_close_v2(db);
  }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

void open_raw(raw_connection& c, const std::filesystem::path& file, int flags, const char* vfs,
              std::chrono::milliseconds busy_timeout) {
  int rc = sqlite3_open_v2(file.c_str(), &c.db, flags | SQLITE_OPEN_EXRESCODE, vfs);
  if (rc != SQLITE_OK)
    throw_sqlite(c.db, rc, file, "cannot open");
  sqlite3_extended_result_codes(c.db, 1);
  sqlite3_busy_timeout(c.db, static_cast<int>(busy_timeout.count()));
}

/// Runs a single-row, single-column query on a raw connection.
std::int64_t query_int(sqlite3* db, const std::filesystem::path& file, const char* sql) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
  if (rc != SQLITE_OK)
    throw_sqlite(db, rc, file, std::string("cannot read (") + sql + ")");
  rc = sqlite3_step(st);
  std::int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    throw_sqlite(db, rc, file, std::string("cannot read (") + sql + ")");
  return v;
}

/// Read-only inspection of an existing file. Nothing here can write to it.
void preflight(const std::filesystem::path& file, const open_options& options, int known_version) {
  raw_connection c;
  open_raw(c, file, SQLITE_OPEN_READONLY, options.vfs, options.busy_timeout);

  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(c.db, "PRAGMA quick_check(5)", -1, &st, nullptr);
  if (rc != SQLITE_OK)
    throw_sqlite(c.db, rc, file, "integrity check failed");
  std::string problems;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    auto text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    std::string line = text ? text : "";
    if (line != "ok")
      problems += (problems.empty() ? "" : "; ") + line;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    throw_sqlite(c.db, rc, file, "integrity check failed");
  if (!problems.empty())
    throw store_error(store_errc::corrupt,
                      file.string() + ": database is corrupt (quick_check: " + problems +
                        "); refusing to use it; restore it from the peer or a backup");

  auto app_id = query_int(c.db, file, "PRAGMA application_id");
  auto version = query_int(c.db, file, "PRAGMA user_version");
  auto tables = query_int(c.db, file, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
  if ((app_id != 0 && app_id != cms_application_id) ||
      (app_id == 0 && (version != 0 || tables != 0)))
    throw store_error(store_errc::not_a_database,
                      file.string() + ": SQLite database not created by cmsd (application_id " +
                        std::to_string(app_id) + ", " + std::to_string(tables) +
                        " tables); refusing to use it");
  if (version > known_version)
    throw store_error(store_errc::newer_schema,
                      file.string() + ": schema version " + std::to_string(version) +
                        " is newer than this cmsd knows (" + std::to_string(known_version) +
                        "); upgrade cmsd instead of opening it with an older binary");
}

} // namespace

const char* to_string(store_errc code) noexcept {
  switch (code) {
  case store_errc::not_a_database:
    return "not_a_database";
  case store_errc::corrupt:
    return "corrupt";
  case store_errc::locked:
    return "locked";
  case store_errc::newer_schema:
    return "newer_schema";
  case store_errc::migration_failed:
    return "migration_failed";
  case store_errc::constraint:
    return "constraint";
  case store_errc::io:
    return "io";
  case store_errc::other:
    return "other";
  }
  return "other";
}

// --- database ---------------------------------------------------------------------------------

database database::open(const std::filesystem::path& file, const open_options& options) {
  const auto& steps = options.migrations ? *options.migrations : schema_migrations();
  const int known_version = steps.empty() ? 0 : steps.back().version;

  std::error_code ec;
  auto status = std::filesystem::status(file, ec);
  if (std::filesystem::exists(status)) {
    if (!std::filesystem::is_regular_file(status))
      throw store_error(store_errc::io, file.string() + ": not a regular file");
    preflight(file, options, known_version);
  } else {
    auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
    if (!std::filesystem::is_directory(dir, ec))
      throw store_error(store_errc::io, file.string() + ": cannot create database: directory " +
                                          dir.string() + " does not exist");
  }

  raw_connection c;
  open_raw(c, file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options.vfs, options.busy_timeout);
  database db(c.release(), file);

  // WAL lets HTTP/status readers run beside the writer. NORMAL sync is durable across process
  // crashes only: a power cut may drop the last commits. Writers that acknowledge a commit to
  // someone else (the billing writer, the standby's apply, the epoch) ask for FULL, which syncs
  // the WAL at every commit (open_options::durability).
  auto st = db.prepare("PRAGMA journal_mode = WAL");
  if (!st.step() || st.column_text(0) != "wal")
    throw store_error(store_errc::io, file.string() + ": cannot switch to WAL journal mode");
  st =
    statement(db, options.sync == open_options::durability::full ? "PRAGMA synchronous = FULL"
                                                                 : "PRAGMA synchronous = NORMAL");
  st.step();
  db.exec("PRAGMA foreign_keys = ON");

  // Prove we can write now rather than at the first call's billing record.
  {
    transaction probe(db, transaction::mode::immediate);
    probe.commit();
  }
  apply_migrations(db, steps);
  return db;
}

database::database(database&& other) noexcept
  : db_(std::exchange(other.db_, nullptr)),
    file_(std::move(other.file_)) {}

database& database::operator=(database&& other) noexcept {
  if (this != &other) {
    if (db_)
      sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    file_ = std::move(other.file_);
  }
  return *this;
}

database::~database() {
  if (db_)
    sqlite3_close_v2(db_);
}

void database::fail(int rc, const std::string& what) const { throw_sqlite(db_, rc, file_, what); }

void database::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err); // the same text stays available from sqlite3_errmsg()
    throw_sqlite(db_, rc, file_,
                 "\"" + sql.substr(0, 60) + (sql.size() > 60 ? "...\"" : "\"") + " failed");
  }
}

int database::schema_version() {
  auto st = prepare("PRAGMA user_version");
  st.step();
  return st.column_int(0);
}

std::int64_t database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

// --- statement --------------------------------------------------------------------------------

statement::statement(database& db, const std::string& sql) : db_(&db), sql_(sql) {
  int rc =
    sqlite3_prepare_v2(db.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK)
    db.fail(rc, "cannot prepare \"" + sql + "\"");
}

statement::statement(statement&& other) noexcept
  : db_(other.db_),
    stmt_(std::exchange(other.stmt_, nullptr)),
    sql_(std::move(other.sql_)) {}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

statement::~statement() { sqlite3_finalize(stmt_); }

void statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK)
    db_->fail(rc, "cannot bind parameter " + std::to_string(index) + " of \"" + sql_ + "\"");
}

void statement::fail_range(int index) const {
  throw store_error(store_errc::other, db_->file().string() + ": parameter " +
                                         std::to_string(index) + " of \"" + sql_ +
                                         "\" exceeds the 64-bit signed range");
}

statement& statement::bind(int index, std::nullptr_t) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

statement& statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

statement& statement::bind(int index, std::string_view value) {
  check_bind(
    sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
    index);
  return *this;
}

statement& statement::bind(int index, const blob& value) {
  // A zero-length blob must stay a blob, not NULL: pass a non-null pointer.
  static const std::uint8_t empty = 0;
  check_bind(sqlite3_bind_blob64(stmt_, index, value.empty() ? &empty : value.data(), value.size(),
                                 SQLITE_TRANSIENT),
             index);
  return *this;
}

statement& statement::bind_int64(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

bool statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  // Keep the statement usable after a failure (e.g. a constraint violation in a retried batch).
  sqlite3_reset(stmt_);
  db_->fail(rc, "\"" + sql_ + "\" failed");
}

int statement::run() {
  while (step()) {}
  return sqlite3_changes(db_->handle());
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

statement::column_kind statement::kind(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
  case SQLITE_INTEGER:
    return column_kind::integer;
  case SQLITE_FLOAT:
    return column_kind::real;
  case SQLITE_TEXT:
    return column_kind::text;
  case SQLITE_BLOB:
    return column_kind::blob;
  default:
    return column_kind::null;
  }
}

int statement::column_count() const { return sqlite3_column_count(stmt_); }

bool statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double statement::column_double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string statement::column_text(int column) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  auto n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::string> statement::column_optional_text(int column) const {
  if (is_null(column))
    return std::nullopt;
  return column_text(column);
}

blob statement::column_blob(int column) const {
  auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  auto n = sqlite3_column_bytes(stmt_, column);
  return p ? blob(p, p + n) : blob();
}

// --- transaction ------------------------------------------------------------------------------

transaction::transaction(database& db, mode m) : db_(db) {
  switch (m) {
  case mode::deferred:
    db_.exec("BEGIN DEFERRED");
    break;
  case mode::immediate:
    db_.exec("BEGIN IMMEDIATE");
    break;
  case mode::exclusive:
    db_.exec("BEGIN EXCLUSIVE");
    break;
  }
}

transaction::~transaction() {
  if (!done_ && sqlite3_get_autocommit(db_.handle()) == 0) {
    // Rollback cannot usefully fail here; an error leaves SQLite to roll back on close.
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

// --- savepoint --------------------------------------------------------------------------------

savepoint::savepoint(database& db, std::string name) : db_(db), name_(std::move(name)) {
  db_.exec("SAVEPOINT " + name_);
}

savepoint::~savepoint() {
  if (!done_) {
    auto sql = "ROLLBACK TO " + name_ + "; RELEASE " + name_;
    sqlite3_exec(db_.handle(), sql.c_str(), nullptr, nullptr, nullptr);
  }
}

void savepoint::release() {
  db_.exec("RELEASE " + name_);
  done_ = true;
}

} // namespace cms::persistence
