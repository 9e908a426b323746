#include "runtime/node/billing_status.hpp"

#include "persistence/database.hpp"
#include "persistence/outbox.hpp"

namespace cms {

billing_status read_billing_status(persistence::database& db) {
  billing_status b;
  persistence::outbox box{db};
  b.pending = box.pending_count();
  b.total = box.count();
  b.last_sequence = box.last_sequence();
  auto st = db.prepare("SELECT (SELECT count(*) FROM billing_outbox WHERE replicated = 0),"
                       " (SELECT min(sequence) FROM billing_outbox WHERE sent = 0),"
                       " (SELECT coalesce(min(created_ms), 0) FROM billing_outbox WHERE sent = 0)");
  if (st.step()) {
    b.unreplicated = static_cast<std::uint64_t>(st.column_int64(0));
    // Sent records may be purged, so the position is "everything before the oldest unsent".
    b.sent_position =
      st.is_null(1) ? b.last_sequence : static_cast<std::uint64_t>(st.column_int64(1)) - 1;
    b.oldest_pending_ms = st.column_int64(2);
  }
  return b;
}

boost::json::object to_json(const billing_status& b) {
  return {{"backlog", b.pending},
          {"unreplicated", b.unreplicated},
          {"total", b.total},
          {"last_sequence", b.last_sequence},
          {"sent_position", b.sent_position},
          {"oldest_pending_ms", b.oldest_pending_ms},
          {"backlog_high_water", billing_backlog_high_water},
          {"backlog_alarm", b.pending >= billing_backlog_high_water ? "high" : "normal"}};
}

} // namespace cms
