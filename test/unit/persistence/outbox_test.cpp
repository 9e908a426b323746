#include "persistence/outbox.hpp"

#include "persistence/database.hpp"
#include "store_fixture.hpp"

#include <gtest/gtest.h>

using namespace cms::persistence;
using cms::billing::billing_record;

namespace {

billing_record record(const std::string& call, const std::string& event, std::int64_t ts) {
  billing_record r;
  r.call_id = call;
  r.event = event;
  r.record_id = call + ":" + event;
  r.calling_number = "5551001";
  r.called_number = "18005550199";
  r.originating = "aaln/1@mta-0001.cable.example";
  r.terminating = "ds/ds1-1/7@tgw-p1.partner.example";
  r.route = "tg-ld-northtel";
  r.carrier = "northtel";
  r.timestamp_ms = ts;
  r.release_cause = event == "signaling_stop" ? 16 : 0;
  r.connection_stats =
    event == "signaling_stop" ? "PS=1000, OS=160000, PR=990, OR=158400, PL=10" : "";
  return r;
}

using outbox_test = cms::test::store_fixture;

TEST_F(outbox_test, append_assigns_increasing_sequences_and_round_trips) {
  auto db = database::open(db_path_);
  outbox box(db);
  EXPECT_EQ(box.count(), 0u);
  EXPECT_EQ(box.last_sequence(), 0u);
  std::vector<billing_record> batch = {record("c1", "signaling_start", 1000),
                                       record("c2", "signaling_start", 1001),
                                       record("c1", "call_answer", 1500)};
  auto seqs = box.append(batch, 42);
  ASSERT_EQ(seqs.size(), 3u);
  EXPECT_EQ(seqs[0], 1u);
  EXPECT_EQ(seqs[1], 2u);
  EXPECT_EQ(seqs[2], 3u);
  auto more = box.append({record("c1", "signaling_stop", 9000)});
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0], 4u);
  EXPECT_EQ(box.count(), 4u);

  auto pending = box.pending(10);
  ASSERT_EQ(pending.size(), 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    auto expected = batch[i];
    expected.sequence = seqs[i];
    EXPECT_EQ(pending[i], expected) << i;
  }
  EXPECT_EQ(pending[3].release_cause, 16);
  EXPECT_EQ(pending[3].connection_stats, "PS=1000, OS=160000, PR=990, OR=158400, PL=10");
  auto created = db.prepare("SELECT created_ms FROM billing_outbox WHERE sequence = 1");
  ASSERT_TRUE(created.step());
  EXPECT_EQ(created.column_int64(0), 42);
}

TEST_F(outbox_test, duplicate_record_id_is_billed_once) {
  auto db = database::open(db_path_);
  outbox box(db);
  auto first = box.append({record("c1", "signaling_start", 1)});
  auto again = box.append({record("c2", "signaling_start", 2), record("c1", "signaling_start", 1)});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1], first[0]);
  EXPECT_EQ(box.count(), 2u);
}

TEST_F(outbox_test, pending_and_mark_sent_follow_sequence_order) {
  auto db = database::open(db_path_);
  outbox box(db);
  std::vector<billing_record> batch;
  for (int i = 0; i < 10; ++i)
    batch.push_back(record("call-" + std::to_string(i), "signaling_start", i));
  box.append(batch);

  auto first = box.pending(3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].sequence, 1u);
  EXPECT_EQ(first[2].sequence, 3u);
  EXPECT_EQ(box.mark_sent(first.back().sequence), 3);
  EXPECT_EQ(box.mark_sent(first.back().sequence), 0); // acknowledging twice is harmless
  EXPECT_EQ(box.pending_count(), 7u);
  auto next = box.pending(100);
  ASSERT_EQ(next.size(), 7u);
  EXPECT_EQ(next.front().sequence, 4u);
  EXPECT_EQ(next.back().sequence, 10u);
  EXPECT_EQ(box.mark_sent(10), 7);
  EXPECT_TRUE(box.pending(100).empty());
  EXPECT_EQ(box.count(), 10u); // sent records stay until purged
}

// mark_replicated runs on every standby acknowledgement: it must reach the unacknowledged tail
// through the partial index, not scan the outbox from sequence 1 under the write lock.
TEST_F(outbox_test, marking_replicated_uses_the_index_of_the_unreplicated_tail) {
  auto db = database::open(db_path_);
  outbox box(db);
  std::vector<billing_record> batch;
  for (int i = 0; i < 10; ++i)
    batch.push_back(record("call-" + std::to_string(i), "signaling_start", i));
  box.append(batch);
  EXPECT_EQ(box.mark_replicated(4), 4);
  EXPECT_EQ(box.mark_replicated(4), 0);
  EXPECT_EQ(box.mark_replicated(10), 6);
  auto plan = db.prepare("EXPLAIN QUERY PLAN UPDATE billing_outbox SET replicated = 1 "
                         "WHERE replicated = 0 AND sequence <= ?");
  plan.bind(1, 10);
  std::string steps;
  while (plan.step())
    steps += plan.column_text(3) + "\n";
  EXPECT_NE(steps.find("billing_outbox_unreplicated"), std::string::npos) << steps;
}

TEST_F(outbox_test, sequences_continue_after_reopen_and_purge) {
  {
    auto db = database::open(db_path_);
    outbox box(db);
    box.append({record("a", "signaling_start", 1), record("b", "signaling_start", 2)});
    box.mark_sent(2);
    db.exec("DELETE FROM billing_outbox WHERE sent = 1");
  }
  auto db = database::open(db_path_);
  outbox box(db);
  EXPECT_EQ(box.last_sequence(), 2u);
  auto seqs = box.append({record("c", "signaling_start", 3)});
  EXPECT_EQ(seqs.at(0), 3u); // never reuses a sequence the RKS may already have seen
}

TEST_F(outbox_test, retention_prunes_only_old_delivered_records_and_keeps_the_newest_delivered) {
  auto db = database::open(db_path_);
  outbox box(db);
  std::vector<billing_record> batch;
  for (int i = 1; i <= 10; ++i) // events at t = 100 .. 1000
    batch.push_back(record("call-" + std::to_string(i), "signaling_start", i * 100));
  box.append(batch);
  box.mark_sent(6); // the RKS holds 1..6; 7..10 are still to be sent
  // Older than t = 450: records 1..4, all delivered; in chunks of 3.
  EXPECT_EQ(box.prune_delivered(450, 3), 3u);
  EXPECT_EQ(box.prune_delivered(450, 3), 1u);
  EXPECT_EQ(box.prune_delivered(450, 3), 0u);
  EXPECT_EQ(box.count(), 6u);
  // Everything is old now: undelivered 7..10 stay, and so does 6, where forwarding resumes.
  EXPECT_EQ(box.prune_delivered(1'000'000, 100), 1u);
  EXPECT_EQ(box.pending_count(), 4u);
  EXPECT_EQ(box.count(), 5u);
  auto q = db.prepare("SELECT max(sequence) FROM billing_outbox WHERE sent = 1");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_int64(0), 6);
  // New records continue the numbering.
  EXPECT_EQ(box.append({record("call-11", "signaling_start", 1100)}).at(0), 11u);
}

TEST_F(outbox_test, append_joins_callers_transaction) {
  auto db = database::open(db_path_);
  outbox box(db);
  {
    transaction tx(db);
    box.append({record("c1", "signaling_start", 1)});
    // no commit: the call's state change failed, the billing record must go with it
  }
  EXPECT_EQ(box.count(), 0u);
  {
    transaction tx(db);
    box.append({record("c1", "signaling_start", 1)});
    tx.commit();
  }
  EXPECT_EQ(box.count(), 1u);
}

TEST_F(outbox_test, standby_stores_the_actives_sequences) {
  auto active_path = dir_ / "active.db";
  auto active_db = database::open(active_path);
  auto standby_db = database::open(db_path_);
  outbox active(active_db), standby(standby_db);
  active.append({record("c1", "signaling_start", 1), record("c1", "call_answer", 2),
                 record("c1", "signaling_stop", 3)});

  auto unreplicated = active.unreplicated(10);
  ASSERT_EQ(unreplicated.size(), 3u);
  standby.store_replicated(unreplicated);
  standby.store_replicated(unreplicated); // a resent batch after reconnect is harmless
  EXPECT_EQ(active.mark_replicated(unreplicated.back().sequence), 3);
  EXPECT_TRUE(active.unreplicated(10).empty());
  EXPECT_EQ(standby.count(), 3u);
  EXPECT_TRUE(standby.unreplicated(10).empty());
  EXPECT_EQ(standby.pending(10), unreplicated);

  // After failover the standby continues the pair's numbering.
  auto next = standby.append({record("c2", "signaling_start", 4)});
  EXPECT_EQ(next.at(0), 4u);

  // A diverged numbering is refused, not merged.
  auto clash = record("c9", "signaling_start", 5);
  clash.sequence = 2;
  EXPECT_THROW(standby.store_replicated({clash}), store_error);
  auto moved = unreplicated[0];
  moved.sequence = 99;
  EXPECT_THROW(standby.store_replicated({moved}), store_error);
  auto unnumbered = record("c8", "signaling_start", 6);
  EXPECT_THROW(standby.store_replicated({unnumbered}), store_error);
  EXPECT_EQ(standby.count(), 4u);
}

} // namespace
