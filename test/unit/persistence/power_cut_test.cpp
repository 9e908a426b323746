// Power cut against the billing path of a pair, on real SQLite files through a VFS that loses every
// write not yet synced (support/power_cut_vfs.hpp). The active appends each call's records with
// the billing writer's transaction (group commit), the standby applies them as the replicator does
// (actor state + outbox.store_replicated in one transaction) and acknowledges; the active then
// marks them replicated. A record counts as acknowledged once the standby's commit returned. After
// the cut, every acknowledged record must be in both stores.
//
// With the options the product uses for these writers (acknowledged_writer(): synchronous=FULL)
// nothing acknowledged is lost. The same scenario with synchronous=NORMAL loses records: the test
// can fail, and did before the writers asked for FULL.

#include "persistence/database.hpp"
#include "persistence/ha_store.hpp"
#include "persistence/outbox.hpp"
#include "store_fixture.hpp"
#include "support/power_cut_vfs.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace cms::persistence;
using cms::billing::billing_record;

namespace {

billing_record record(int call, const std::string& event) {
  billing_record r;
  r.call_id = "call-" + std::to_string(call);
  r.event = event;
  r.record_id = r.call_id + ":" + event;
  r.calling_number = "5551001";
  r.called_number = "5551002";
  r.originating = "aaln/1@mta-0001.cable.example";
  r.terminating = "aaln/1@mta-0002.cable.example";
  r.timestamp_ms = 1'700'000'000'000 + call;
  return r;
}

struct outcome {
  std::set<std::string> acknowledged; ///< record ids whose standby commit returned
  std::set<std::string> on_active;    ///< found after the cut
  std::set<std::string> on_standby;
  std::size_t states_on_standby = 0;
  std::uint64_t syncs = 0;
};

std::set<std::string> stored_ids(database& db) {
  std::set<std::string> ids;
  auto st = db.prepare("SELECT record_id FROM billing_outbox");
  while (st.step())
    ids.insert(st.column_text(0));
  return ids;
}

bool has_outbox(database& db) {
  auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'billing_outbox'");
  return st.step() && st.column_int(0) == 1;
}

/// Runs `calls` calls of three records each (the middle one alone, the others in pairs of calls:
/// group commit), cuts the power, and reads both stores back.
outcome run_pair(const std::filesystem::path& dir, open_options writer, int calls) {
  auto& vfs = cms::test::power_cut_vfs::instance();
  writer.vfs = cms::test::power_cut_vfs::name;
  const auto active_file = dir / "active.db";
  const auto standby_file = dir / "standby.db";
  outcome out;
  const auto syncs_before = vfs.syncs();
  {
    auto active = database::open(active_file, writer);
    auto standby = database::open(standby_file, writer);
    outbox active_box{active};
    std::vector<billing_record> batch;
    auto commit_batch = [&] {
      // Active: the billing writer's group commit.
      std::vector<std::uint64_t> seqs;
      {
        transaction tx{active, transaction::mode::immediate};
        seqs = active_box.append(batch);
        tx.commit();
      }
      for (std::size_t i = 0; i < batch.size(); ++i)
        batch[i].sequence = seqs[i];
      // Standby: the replicator's apply, then its ack.
      {
        transaction tx{standby};
        ha_store states{standby};
        outbox box{standby};
        for (auto& r : batch)
          states.save_state({"call", r.call_id, blob{1, 2, 3}, 1, r.sequence});
        box.store_replicated(batch);
        tx.commit();
      }
      for (auto& r : batch)
        out.acknowledged.insert(r.record_id);
      // Active: the ack marks the rows replicated.
      {
        transaction tx{active, transaction::mode::immediate};
        active_box.mark_replicated(seqs.back());
        tx.commit();
      }
      batch.clear();
    };
    for (int c = 0; c < calls; ++c) {
      batch.push_back(record(c, "signaling_start"));
      if (c % 2 == 1)
        commit_batch();
    }
    if (!batch.empty())
      commit_batch();
    for (int c = 0; c < calls; ++c) {
      batch.push_back(record(c, "signaling_stop"));
      commit_batch();
    }
    vfs.power_cut(); // the machine loses power with both connections still open
  }
  out.syncs = vfs.syncs() - syncs_before;
  vfs.recover({active_file, standby_file});

  // Reboot: read what is on disk with the plain VFS.
  open_options plain;
  for (auto* file : {&active_file, &standby_file}) {
    auto db = database::open(*file, plain); // quick_check passes, migrations re-run if lost
    auto check = db.prepare("PRAGMA integrity_check");
    EXPECT_TRUE(check.step());
    EXPECT_EQ(check.column_text(0), "ok") << *file;
    if (!has_outbox(db))
      continue;
    if (file == &active_file) {
      out.on_active = stored_ids(db);
    } else {
      out.on_standby = stored_ids(db);
      out.states_on_standby = ha_store{db}.load_states("call").size();
    }
  }
  return out;
}

std::size_t missing(const std::set<std::string>& acknowledged, const std::set<std::string>& found) {
  std::size_t n = 0;
  for (auto& id : acknowledged)
    n += found.count(id) == 0 ? 1 : 0;
  return n;
}

using power_cut_test = cms::test::store_fixture;

} // namespace

TEST_F(power_cut_test, every_record_acknowledged_by_the_pair_survives_with_the_writers_options) {
  auto r = run_pair(dir_, acknowledged_writer(), 60);
  ASSERT_EQ(r.acknowledged.size(), 120u);
  EXPECT_EQ(missing(r.acknowledged, r.on_active), 0u);
  EXPECT_EQ(missing(r.acknowledged, r.on_standby), 0u);
  EXPECT_EQ(r.states_on_standby, 60u);
  EXPECT_GT(r.syncs, 0u);
}

TEST_F(power_cut_test, with_synchronous_normal_acknowledged_records_are_lost_so_the_test_can_fail) {
  open_options normal;
  normal.sync = open_options::durability::normal;
  auto r = run_pair(dir_, normal, 60);
  ASSERT_EQ(r.acknowledged.size(), 120u);
  // WAL commits under NORMAL reach the disk at a checkpoint only: the cut takes them.
  EXPECT_GT(missing(r.acknowledged, r.on_active) + missing(r.acknowledged, r.on_standby), 0u)
    << "the power-cut VFS no longer loses unsynced writes: the durability test proves nothing";
}

TEST(power_cut_vfs, unsynced_writes_are_lost_and_synced_ones_kept) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cms-vfs-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  std::filesystem::path dir = tmpl;
  auto& vfs = cms::test::power_cut_vfs::instance();
  const auto file = dir / "plain.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                              cms::test::power_cut_vfs::name),
              SQLITE_OK);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr,
                 nullptr);
    sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr);
    sqlite3_exec(db, "PRAGMA synchronous=OFF; INSERT INTO t VALUES (2);", nullptr, nullptr,
                 nullptr);
    // Both rows are visible before the cut (reads see the buffered writes).
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    vfs.power_cut();
    sqlite3_close_v2(db);
  }
  vfs.recover({file});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1); // the synced commit only
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
