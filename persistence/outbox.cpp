#include "persistence/outbox.hpp"

#include "runtime/base/wall_clock.hpp"

#include "persistence/database.hpp"

#include <algorithm>
#include <chrono>

namespace cms::persistence {

namespace {

constexpr const char* record_columns =
  "sequence, record_id, event, call_id, calling_number, called_number, originating, "
  "terminating, route, carrier, timestamp_ms, release_cause, connection_stats, time_adjustment_ms";

/// Binds the payload columns 2..14 (in record_columns order, after sequence).
void bind_payload(statement& st, const billing::billing_record& r) {
  st.bind(2, r.record_id)
    .bind(3, r.event)
    .bind(4, r.call_id)
    .bind(5, r.calling_number)
    .bind(6, r.called_number)
    .bind(7, r.originating)
    .bind(8, r.terminating)
    .bind(9, r.route)
    .bind(10, r.carrier)
    .bind(11, r.timestamp_ms)
    .bind(12, r.release_cause)
    .bind(13, r.connection_stats)
    .bind(14, r.time_adjustment_ms);
}

} // namespace

struct outbox::append_statements {
  statement existing;
  statement insert;
};

std::vector<std::uint64_t> outbox::append(const std::vector<billing::billing_record>& records,
                                          std::optional<std::int64_t> now_ms) {
  std::vector<std::uint64_t> sequences;
  sequences.reserve(records.size());
  const auto now = now_ms.value_or(utc_ms());
  savepoint sp(db_, "outbox_append");
  if (!append_)
    append_ = std::make_shared<append_statements>(append_statements{
      db_.prepare("SELECT sequence FROM billing_outbox WHERE record_id = ?"),
      db_.prepare(std::string("INSERT INTO billing_outbox (") + record_columns +
                  ", created_ms) VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                  "?11, ?12, ?13, ?14, ?15)")});
  auto& existing = append_->existing;
  auto& insert = append_->insert;
  // Kept statements are reset when the append ends, however it ends: a stepped SELECT left
  // alone would hold its read snapshot open (and keep the WAL from being checkpointed).
  struct reset_on_exit {
    append_statements& s;
    ~reset_on_exit() {
      s.existing.reset();
      s.insert.reset();
    }
  } reset_guard{*append_};
  for (const auto& r : records) {
    existing.reset();
    existing.bind(1, r.record_id);
    if (existing.step()) {
      sequences.push_back(static_cast<std::uint64_t>(existing.column_int64(0)));
      continue;
    }
    insert.reset();
    bind_payload(insert, r);
    insert.bind(15, now);
    insert.run();
    sequences.push_back(static_cast<std::uint64_t>(db_.last_insert_rowid()));
  }
  sp.release();
  return sequences;
}

void outbox::store_replicated(const std::vector<billing::billing_record>& records,
                              std::optional<std::int64_t> now_ms) {
  const auto now = now_ms.value_or(utc_ms());
  savepoint sp(db_, "outbox_replica");
  auto existing = db_.prepare("SELECT sequence FROM billing_outbox WHERE record_id = ?");
  auto insert = db_.prepare(std::string("INSERT INTO billing_outbox (") + record_columns +
                            ", created_ms, replicated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                            "?9, ?10, ?11, ?12, ?13, ?14, ?15, 1)");
  for (const auto& r : records) {
    if (r.sequence == 0)
      throw store_error(store_errc::constraint, db_.file().string() +
                                                  ": replicated billing record " + r.record_id +
                                                  " has no sequence");
    existing.reset();
    existing.bind(1, r.record_id);
    if (existing.step()) {
      auto seq = static_cast<std::uint64_t>(existing.column_int64(0));
      if (seq != r.sequence)
        throw store_error(store_errc::constraint, db_.file().string() + ": billing record " +
                                                    r.record_id + " replicated with sequence " +
                                                    std::to_string(r.sequence) + " but stored as " +
                                                    std::to_string(seq));
      continue;
    }
    insert.reset();
    insert.bind(1, r.sequence);
    bind_payload(insert, r);
    insert.bind(15, now);
    insert.run(); // a sequence already used by another record_id fails on the primary key
  }
  sp.release();
}

std::vector<billing::billing_record> outbox::select(const char* where, std::size_t limit) {
  std::vector<billing::billing_record> out;
  auto st = db_.prepare(std::string("SELECT ") + record_columns + " FROM billing_outbox WHERE " +
                        where + " ORDER BY sequence LIMIT ?");
  st.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  while (st.step()) {
    billing::billing_record r;
    r.sequence = static_cast<std::uint64_t>(st.column_int64(0));
    r.record_id = st.column_text(1);
    r.event = st.column_text(2);
    r.call_id = st.column_text(3);
    r.calling_number = st.column_text(4);
    r.called_number = st.column_text(5);
    r.originating = st.column_text(6);
    r.terminating = st.column_text(7);
    r.route = st.column_text(8);
    r.carrier = st.column_text(9);
    r.timestamp_ms = st.column_int64(10);
    r.release_cause = st.column_int(11);
    r.connection_stats = st.column_text(12);
    r.time_adjustment_ms = st.column_int64(13);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<billing::billing_record> outbox::pending(std::size_t limit, bool replicated_only) {
  return select(replicated_only ? "sent = 0 AND replicated = 1" : "sent = 0", limit);
}

std::optional<billing::billing_record> outbox::find(const std::string& record_id) {
  auto st = db_.prepare("SELECT sequence FROM billing_outbox WHERE record_id = ?");
  st.bind(1, record_id);
  if (!st.step())
    return std::nullopt;
  const auto sequence = st.column_int64(0);
  auto rows = select(("sequence = " + std::to_string(sequence)).c_str(), 1);
  if (rows.empty())
    return std::nullopt;
  return std::move(rows.front());
}

std::uint64_t outbox::sent_position() {
  auto st = db_.prepare("SELECT coalesce((SELECT min(sequence) FROM billing_outbox WHERE "
                        "sent = 0) - 1, (SELECT max(sequence) FROM billing_outbox), 0)");
  st.step();
  return static_cast<std::uint64_t>(st.column_int64(0));
}

std::vector<billing::billing_record> outbox::unreplicated(std::size_t limit) {
  return select("replicated = 0", limit);
}

std::vector<billing::billing_record> outbox::after(std::uint64_t sequence, std::size_t limit) {
  return select(("sequence > " + std::to_string(sequence)).c_str(), limit);
}

namespace {
std::uint64_t highest(database& db, const char* where) {
  auto st =
    db.prepare(std::string("SELECT coalesce(max(sequence), 0) FROM billing_outbox WHERE ") + where);
  st.step();
  return static_cast<std::uint64_t>(st.column_int64(0));
}
} // namespace

std::uint64_t outbox::last_replicated() { return highest(db_, "replicated = 1"); }

std::uint64_t outbox::last_sent() { return highest(db_, "sent = 1"); }

int outbox::mark_sent(std::uint64_t up_to_sequence) {
  auto st = db_.prepare("UPDATE billing_outbox SET sent = 1 WHERE sent = 0 AND sequence <= ?");
  st.bind(1, up_to_sequence);
  return st.run();
}

std::uint64_t outbox::prune_delivered(std::int64_t older_than_ms, std::size_t limit) {
  // Oldest first along the primary key: the old rows are the delivered ones, so the inner
  // select stops after `limit` rows instead of scanning the outbox.
  auto st =
    db_.prepare("DELETE FROM billing_outbox WHERE sequence IN (SELECT sequence FROM billing_outbox "
                "WHERE sent = 1 AND timestamp_ms < ?1 AND sequence < "
                "(SELECT coalesce(max(sequence), 0) FROM billing_outbox WHERE sent = 1) "
                "ORDER BY sequence LIMIT ?2)");
  st.bind(1, older_than_ms);
  st.bind(2, static_cast<std::int64_t>(limit));
  return static_cast<std::uint64_t>(st.run());
}

int outbox::mark_replicated(std::uint64_t up_to_sequence) {
  auto st =
    db_.prepare("UPDATE billing_outbox SET replicated = 1 WHERE replicated = 0 AND sequence <= ?");
  st.bind(1, up_to_sequence);
  return st.run();
}

std::uint64_t outbox::count() {
  auto st = db_.prepare("SELECT count(*) FROM billing_outbox");
  st.step();
  return static_cast<std::uint64_t>(st.column_int64(0));
}

std::uint64_t outbox::pending_count() {
  auto st = db_.prepare("SELECT count(*) FROM billing_outbox WHERE sent = 0");
  st.step();
  return static_cast<std::uint64_t>(st.column_int64(0));
}

std::uint64_t outbox::last_sequence() {
  // sqlite_sequence remembers the highest AUTOINCREMENT value even after rows are purged.
  auto st = db_.prepare("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = "
                        "'billing_outbox'), 0), coalesce((SELECT max(sequence) FROM "
                        "billing_outbox), 0))");
  st.step();
  return static_cast<std::uint64_t>(st.column_int64(0));
}

} // namespace cms::persistence
