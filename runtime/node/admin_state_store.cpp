#include "runtime/node/admin_state_store.hpp"

#include "persistence/database.hpp"

namespace cms {

namespace {

constexpr const char* drain_kind = "node";
constexpr const char* drain_name = "calls";

} // namespace

saved_admin_states admin_state_store::load() {
  saved_admin_states out;
  auto st =
    db_.prepare("SELECT kind, name, state, since_ms, reason FROM admin_state ORDER BY kind, name");
  while (st.step()) {
    auto kind = st.column_text(0);
    auto state = st.column_text(2);
    if (kind == drain_kind && state == "draining") {
      out.drain = admission::state{true, st.column_int64(3), st.column_text(4)};
    } else if ((kind == "data_link" || kind == "gateway") && state == "out_of_service") {
      admin_entry e{st.column_text(1), true, st.column_int64(3), st.column_text(4)};
      out.out_of_service.emplace_back(
        kind == "gateway" ? admin_object::gateway : admin_object::data_link, std::move(e));
    }
  }
  return out;
}

void admin_state_store::save_drain(const admission::state& s) {
  if (!s.draining) {
    db_.prepare("DELETE FROM admin_state WHERE kind = ? AND name = ?")
      .bind_all(drain_kind, drain_name)
      .run();
    return;
  }
  db_
    .prepare("INSERT OR REPLACE INTO admin_state (kind, name, state, since_ms, reason) "
             "VALUES (?, ?, 'draining', ?, ?)")
    .bind_all(drain_kind, drain_name, s.since_ms, s.reason)
    .run();
}

void admin_state_store::save(admin_object kind, const admin_entry& e) {
  if (!e.out_of_service) {
    db_.prepare("DELETE FROM admin_state WHERE kind = ? AND name = ?")
      .bind_all(to_string(kind), e.name)
      .run();
    return;
  }
  db_
    .prepare("INSERT OR REPLACE INTO admin_state (kind, name, state, since_ms, reason) "
             "VALUES (?, ?, 'out_of_service', ?, ?)")
    .bind_all(to_string(kind), e.name, e.since_ms, e.reason)
    .run();
}

std::vector<std::string> restore_admin_states(const saved_admin_states& saved, admission& drain,
                                              admin_state_registry& registry) {
  std::vector<std::string> lines;
  if (saved.drain) {
    drain.restore(*saved.drain);
    lines.push_back("draining (kept from before the restart: " + saved.drain->reason + ")");
  }
  for (auto& [kind, e] : saved.out_of_service) {
    registry.restore(kind, e);
    lines.push_back(std::string(kind == admin_object::gateway ? "gateway " : "data link ") +
                    e.name + " out of service (kept from before the restart: " + e.reason + ")");
  }
  return lines;
}

} // namespace cms
