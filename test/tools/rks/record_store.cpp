#include "test/tools/rks/record_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <stdexcept>

namespace cms::billing {

namespace {

/// Finalizes a prepared statement on every exit path.
struct statement {
  sqlite3_stmt* stmt = nullptr;
  statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string{"sqlite prepare: "} + sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(stmt); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  void text(int i, const std::string& s) {
    sqlite3_bind_text(stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void int64(int i, std::int64_t v) { sqlite3_bind_int64(stmt, i, v); }
  std::string column_text(int i) const {
    auto* p = sqlite3_column_text(stmt, i);
    return p ? std::string{reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))}
             : std::string{};
  }
};

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

constexpr const char* schema = R"(
CREATE TABLE IF NOT EXISTS records (
  record_id TEXT NOT NULL UNIQUE,
  sequence INTEGER NOT NULL,
  event TEXT NOT NULL,
  call_id TEXT NOT NULL,
  calling_number TEXT NOT NULL,
  called_number TEXT NOT NULL,
  originating TEXT NOT NULL,
  terminating TEXT NOT NULL,
  route TEXT NOT NULL,
  carrier TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  release_cause INTEGER NOT NULL,
  connection_stats TEXT NOT NULL,
  node TEXT NOT NULL,
  received_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_sequence ON records(sequence);
)";

} // namespace

record_store::record_store(const std::string& path, bool create) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open RKS database '" + path + "': " + msg);
  }
  sqlite3_busy_timeout(db_, 5000); // `rks count` may read while the server commits
  try {
    // WAL lets the read commands run beside the server; synchronous=FULL makes each commit
    // durable before the ack leaves, which is the point of acking after commit.
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec(schema);
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

record_store::~record_store() { sqlite3_close(db_); }

void record_store::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw std::runtime_error("sqlite: " + msg);
  }
}

record_store::insert_result record_store::insert(const std::string& node,
                                                 const std::vector<billing_record>& records) {
  insert_result result;
  exec("BEGIN IMMEDIATE");
  try {
    statement st{db_, "INSERT OR IGNORE INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"};
    const auto received = now_ms();
    for (const auto& r : records) {
      sqlite3_reset(st.stmt);
      st.text(1, r.record_id);
      st.int64(2, static_cast<std::int64_t>(r.sequence));
      st.text(3, r.event);
      st.text(4, r.call_id);
      st.text(5, r.calling_number);
      st.text(6, r.called_number);
      st.text(7, r.originating);
      st.text(8, r.terminating);
      st.text(9, r.route);
      st.text(10, r.carrier);
      st.int64(11, r.timestamp_ms);
      st.int64(12, r.release_cause);
      st.text(13, r.connection_stats);
      st.text(14, node);
      st.int64(15, received);
      if (sqlite3_step(st.stmt) != SQLITE_DONE)
        throw std::runtime_error(std::string{"sqlite insert: "} + sqlite3_errmsg(db_));
      if (sqlite3_changes(db_) == 1)
        ++result.accepted;
      else
        ++result.duplicates;
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return result;
}

std::uint64_t record_store::count() const {
  statement st{db_, "SELECT COUNT(*) FROM records"};
  if (sqlite3_step(st.stmt) != SQLITE_ROW)
    throw std::runtime_error(std::string{"sqlite count: "} + sqlite3_errmsg(db_));
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 0));
}

std::vector<stored_record> record_store::list() const {
  statement st{db_, "SELECT record_id, sequence, event, call_id, calling_number, called_number, "
                    "originating, terminating, route, carrier, timestamp_ms, release_cause, "
                    "connection_stats, node, received_ms FROM records "
                    "ORDER BY sequence, record_id"};
  std::vector<stored_record> out;
  int rc;
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    stored_record s;
    auto& r = s.record;
    r.record_id = st.column_text(0);
    r.sequence = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 1));
    r.event = st.column_text(2);
    r.call_id = st.column_text(3);
    r.calling_number = st.column_text(4);
    r.called_number = st.column_text(5);
    r.originating = st.column_text(6);
    r.terminating = st.column_text(7);
    r.route = st.column_text(8);
    r.carrier = st.column_text(9);
    r.timestamp_ms = sqlite3_column_int64(st.stmt, 10);
    r.release_cause = sqlite3_column_int(st.stmt, 11);
    r.connection_stats = st.column_text(12);
    s.node = st.column_text(13);
    s.received_ms = sqlite3_column_int64(st.stmt, 14);
    out.push_back(std::move(s));
  }
  if (rc != SQLITE_DONE)
    throw std::runtime_error(std::string{"sqlite list: "} + sqlite3_errmsg(db_));
  return out;
}

} // namespace cms::billing
