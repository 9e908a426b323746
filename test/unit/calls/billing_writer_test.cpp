// The SQLite billing writer against a second connection writing the same store (the forwarder
// marking records sent, the replicator): an append that starts while the other holds the write
// lock must wait for it and succeed, not fail because its read snapshot went stale. And the
// outbox owner's retention on the actor clock, over the same SQLite store.

#include "actors/billing/billing_outbox.hpp"
#include "caf_test_fixture.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <atomic>
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

class billing_retention : public test::caf_fixture {
protected:
  test::temp_dir dir;
  std::filesystem::path file = dir.path() / "cms.db";
  metrics::registry registry;

  std::int64_t rows(const char* where) {
    auto db = persistence::database::open(file);
    auto q = db.prepare(std::string{"SELECT count(*) FROM billing_outbox WHERE "} + where);
    q.step();
    return q.column_int64(0);
  }
};

TEST_F(billing_retention,
       the_outbox_owner_prunes_delivered_records_past_the_retention_on_its_clock) {
  // 30 records 2 days old and 5 from now; the RKS acknowledged all but the last 3.
  {
    auto writer = actors::make_sqlite_billing_writer(file);
    std::vector<billing::billing_record> batch;
    auto now = cms::utc_ms();
    for (int i = 0; i < 35; ++i) {
      auto r = record("call-" + std::to_string(i));
      r.timestamp_ms = i < 30 ? now - 48 * 3600 * 1000LL : now;
      batch.push_back(r);
    }
    writer->append(batch);
    auto db = persistence::database::open(file);
    persistence::outbox{db}.mark_sent(32);
  }
  actors::call_settings s;
  s.billing_retention = std::chrono::hours{24};
  s.billing_prune_interval = std::chrono::minutes{1};
  s.billing_prune_chunk = 20;
  auto ctx = std::make_shared<actors::call_context>(s, registry, actors::dial_plan{});
  auto owner = sys.spawn(actors::billing_outbox, ctx, actors::billing_writer_factory{[f = file] {
                           return actors::make_sqlite_billing_writer(f);
                         }});
  sched.run();
  EXPECT_EQ(rows("1"), 35) << "nothing before the first interval";
  sched.advance_time(std::chrono::minutes{1});
  sched.run();
  EXPECT_EQ(rows("1"), 15) << "one chunk of 20";
  // A full chunk: the next follows after a second, not a whole interval.
  sched.advance_time(std::chrono::seconds{1});
  sched.run();
  EXPECT_EQ(rows("1"), 5) << "the other 10 old ones";
  EXPECT_EQ(rows("sent = 0"), 3) << "undelivered records are never pruned";
  EXPECT_EQ(registry.get_counter("cms_billing_pruned_total", "").value(), 30u);
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  sched.run();
}

/// A store that refuses writes while `full` (disk full) and keeps what it got.
struct refusing_writer final : actors::billing_writer {
  std::shared_ptr<std::atomic<bool>> full;
  std::shared_ptr<std::vector<billing::billing_record>> stored;
  std::vector<std::uint64_t> append(const std::vector<billing::billing_record>& batch) override {
    if (*full)
      throw std::runtime_error("database or disk is full");
    std::vector<std::uint64_t> seqs;
    for (auto& r : batch) {
      stored->push_back(r);
      seqs.push_back(stored->size());
    }
    return seqs;
  }
};

TEST_F(billing_retention, a_full_in_memory_queue_refuses_new_calls_and_drops_no_record) {
  auto full = std::make_shared<std::atomic<bool>>(true);
  auto stored = std::make_shared<std::vector<billing::billing_record>>();
  actors::call_settings s;
  s.billing_queue_max = 10;
  s.billing_batch_max = 1000;
  auto ctx = std::make_shared<actors::call_context>(s, registry, actors::dial_plan{});
  auto owner =
    sys.spawn(actors::billing_outbox, ctx, actors::billing_writer_factory{[full, stored] {
                auto w = std::make_unique<refusing_writer>();
                w->full = full;
                w->stored = stored;
                return w;
              }});
  sched.run();
  for (int i = 0; i < 9; ++i)
    caf::anon_send(owner, record("call-" + std::to_string(i)));
  sched.run();
  sched.advance_time(std::chrono::milliseconds{10});
  sched.run();
  EXPECT_EQ(ctx->admission.admit(), actors::call_admission::verdict::admitted);
  // The tenth record reaches the bound: new calls are refused, counted by reason.
  caf::anon_send(owner, record("call-9"));
  sched.run();
  EXPECT_TRUE(ctx->admission.billing_backlog());
  EXPECT_EQ(ctx->admission.admit(), actors::call_admission::verdict::shed_billing_backlog);
  EXPECT_EQ(
    registry.get_counter("cms_calls_shed_total", "", {{"reason", "billing_backlog"}}).value(), 1u);
  EXPECT_EQ(registry.get_gauge("cms_billing_queue_full", "").value(), 1);
  // Records of calls already up are still taken.
  for (int i = 10; i < 15; ++i)
    caf::anon_send(owner, record("call-" + std::to_string(i)));
  sched.run();
  // Space comes back: every record is written, in order, and calls are admitted again.
  *full = false;
  sched.advance_time(std::chrono::seconds{1});
  sched.run();
  ASSERT_EQ(stored->size(), 15u);
  for (int i = 0; i < 15; ++i)
    EXPECT_EQ((*stored)[i].call_id, "call-" + std::to_string(i));
  EXPECT_FALSE(ctx->admission.billing_backlog());
  EXPECT_EQ(ctx->admission.admit(), actors::call_admission::verdict::admitted);
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  sched.run();
}

} // namespace
