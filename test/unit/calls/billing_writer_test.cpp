// The SQLite billing writer against a second connection writing the same store (the forwarder
// marking records sent, the replicator): an append that starts while the other holds the write
// lock must wait for it and succeed, not fail because its read snapshot went stale.

#include "actors/billing_outbox.hpp"
#include "persistence/database.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

using namespace cms;

namespace {

billing::billing_record record(const std::string& call) {
  billing::billing_record r;
  r.call_id = call;
  r.event = "signaling_stop";
  r.record_id = call + ":signaling_stop";
  r.timestamp_ms = 1795572450147;
  return r;
}

TEST(billing_writer, an_append_waits_for_another_connections_write_and_succeeds) {
  test::temp_dir dir;
  auto file = dir.path() / "cms.db";
  auto writer = actors::make_sqlite_billing_writer(file);
  writer->append({record("before")});

  std::promise<void> holding;
  auto other = std::async(std::launch::async, [&] {
    auto db = persistence::database::open(file);
    persistence::transaction tx{db, persistence::transaction::mode::immediate};
    db.exec("UPDATE billing_outbox SET sent = 1");
    holding.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds{300});
    tx.commit();
  });
  holding.get_future().wait();
  std::vector<std::uint64_t> sequences;
  EXPECT_NO_THROW(sequences = writer->append({record("during-1"), record("during-2")}));
  other.get();
  EXPECT_EQ(sequences.size(), 2u);
  auto db = persistence::database::open(file);
  auto q = db.prepare("SELECT count(*) FROM billing_outbox");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_int64(0), 3);
}

} // namespace
