#include "persistence/ha_store.hpp"

#include <limits>

namespace cms::persistence {

namespace {

actor_state_record read_state(const statement& st) {
  actor_state_record r;
  r.kind = st.column_text(0);
  r.key = st.column_text(1);
  r.data = st.column_blob(2);
  r.epoch = static_cast<std::uint64_t>(st.column_int64(3));
  r.seq = static_cast<std::uint64_t>(st.column_int64(4));
  return r;
}

} // namespace

std::uint64_t ha_store::epoch() {
  auto st = db_.prepare("SELECT value FROM ha_meta WHERE key = 'epoch'");
  return st.step() ? static_cast<std::uint64_t>(st.column_int64(0)) : 0;
}

void ha_store::set_epoch(std::uint64_t e) {
  // SQLite integers are signed 64-bit: a larger epoch would be stored negative and read back as
  // a huge one, or as an epoch that went backwards.
  if (e > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw store_error(store_errc::constraint,
                      db_.file().string() + ": epoch " + std::to_string(e) + " is out of range");
  savepoint sp(db_, "ha_epoch");
  auto current = epoch();
  if (e < current)
    throw store_error(store_errc::constraint, db_.file().string() + ": epoch " + std::to_string(e) +
                                                " is older than the stored epoch " +
                                                std::to_string(current));
  auto st = db_.prepare("INSERT INTO ha_meta (key, value) VALUES ('epoch', ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  st.bind(1, e);
  st.run();
  sp.release();
}

std::uint64_t ha_store::increment_epoch() {
  savepoint sp(db_, "ha_epoch");
  auto next = epoch() + 1;
  set_epoch(next);
  sp.release();
  return next;
}

bool ha_store::save_state(const actor_state_record& r) {
  auto st = db_.prepare(
    "INSERT INTO actor_state (kind, key, data, epoch, seq) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data, epoch = excluded.epoch, "
    "seq = excluded.seq WHERE excluded.epoch > actor_state.epoch OR "
    "(excluded.epoch = actor_state.epoch AND excluded.seq > actor_state.seq)");
  st.bind_all(r.kind, r.key, r.data, r.epoch, r.seq);
  return st.run() > 0;
}

std::optional<actor_state_record> ha_store::load_state(const std::string& kind,
                                                       const std::string& key) {
  auto st =
    db_.prepare("SELECT kind, key, data, epoch, seq FROM actor_state WHERE kind = ? AND key = ?");
  st.bind_all(kind, key);
  if (!st.step())
    return std::nullopt;
  return read_state(st);
}

std::vector<actor_state_record> ha_store::load_states(const std::string& kind) {
  std::vector<actor_state_record> out;
  auto st =
    db_.prepare("SELECT kind, key, data, epoch, seq FROM actor_state WHERE kind = ? ORDER BY key");
  st.bind(1, kind);
  while (st.step())
    out.push_back(read_state(st));
  return out;
}

bool ha_store::erase_state(const std::string& kind, const std::string& key) {
  auto st = db_.prepare("DELETE FROM actor_state WHERE kind = ? AND key = ?");
  st.bind_all(kind, key);
  return st.run() > 0;
}

} // namespace cms::persistence
