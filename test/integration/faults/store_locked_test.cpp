// Another process holds the node's SQLite file locked (item 4): an operator's sqlite3
// shell in a long transaction, a backup tool. Here the test process itself takes the lock with
// BEGIN EXCLUSIVE on a connection of its own, which is a second process as far as SQLite's file
// locks go (cmsd runs in a child process).
//
// At start-up: cmsd refuses to run on a store it cannot write, with one clear log line naming the
// file and the cause, and a non-zero exit; started again once the lock is gone, it runs.
// While running: billing writes fail (counted, alarm raised, records kept in memory), calls go on,
// and when the lock is released everything held is written. Nothing stored is lost.

#include "fault_rig.hpp"

#include <gtest/gtest.h>

using namespace cms::test;
using namespace cms::test::faults;

namespace {

/// A second connection holding the write lock of the database until released.
class lock_holder {
public:
  explicit lock_holder(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
      return;
    sqlite3_busy_timeout(db_, 10000); // wait for a write the node may be doing right now
    locked_ = exec("BEGIN EXCLUSIVE");
  }
  ~lock_holder() { release(), sqlite3_close(db_); }
  bool locked() const { return locked_; }
  void release() {
    if (locked_)
      exec("ROLLBACK");
    locked_ = false;
  }
  std::string error() const { return db_ ? sqlite3_errmsg(db_) : "no connection"; }

private:
  bool exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  sqlite3* db_ = nullptr;
  bool locked_ = false;
};

} // namespace

TEST(store_locked, at_start_up_the_node_refuses_clearly_and_starts_once_the_lock_is_gone) {
  fault_rig rig;
  ASSERT_EQ(rig.provision(), "");
  {
    lock_holder lock{rig.db_file()};
    ASSERT_TRUE(lock.locked()) << lock.error();
    rig.start_node();
    auto code = rig.node->wait_exit(60s);
    ASSERT_TRUE(code.has_value()) << "cmsd kept running on a locked store\n" << rig.diagnostics();
    EXPECT_EQ(*code, 1);
    auto log = rig.node->output();
    EXPECT_NE(log.find("event=store_unusable"), std::string::npos) << log;
    EXPECT_NE(log.find(rig.db_file().string()), std::string::npos) << log;
    EXPECT_NE(log.find("locked"), std::string::npos) << log;
  }
  // The lock is gone: the same store, untouched, serves.
  rig.start_node();
  ASSERT_TRUE(rig.wait_active()) << rig.diagnostics();
  ASSERT_TRUE(rig.start_sim()) << rig.diagnostics();
  ASSERT_EQ(rig.complete_call(1, 3), "") << rig.diagnostics();
  ASSERT_TRUE(eventually([&] { return rig.billed() == 3; }, 20s)) << rig.billed();
  rig.stop();
  auto store = read_store(rig.db_file());
  ASSERT_EQ(store.error, "");
  EXPECT_EQ(store.integrity, "ok");
  EXPECT_EQ(store.subscribers, lines);
  EXPECT_EQ(billing_problems(store.billing), "");
}

TEST(store_locked, while_running_billing_counts_alarms_and_catches_up_when_released) {
  fault_rig rig;
  ASSERT_EQ(rig.provision(), "");
  rig.start_node();
  ASSERT_TRUE(rig.wait_active()) << rig.diagnostics();
  ASSERT_TRUE(rig.start_sim()) << rig.diagnostics();
  ASSERT_EQ(rig.complete_call(1, 3), "") << rig.diagnostics();
  ASSERT_TRUE(eventually([&] { return rig.billed() == 3; }, 20s)) << rig.billed();
  auto errors_before = status_counter(rig.http_port, "cms_billing_write_errors_total");

  int calls = 1;
  {
    lock_holder lock{rig.db_file()};
    ASSERT_TRUE(lock.locked()) << lock.error();
    // Calls go on; the outbox's writes time out on the lock and raise the alarm.
    ASSERT_EQ(rig.complete_call(2, 4), "") << rig.diagnostics();
    ++calls;
    ASSERT_TRUE(eventually(
      [&] { return status_counter(rig.http_port, "cms_billing_store_alarm") == 1; }, 30s))
      << rig.diagnostics();
    EXPECT_GT(status_counter(rig.http_port, "cms_billing_write_errors_total"), errors_before);
    ASSERT_EQ(rig.complete_call(1, 4), "") << rig.diagnostics();
    ++calls;
    EXPECT_EQ(rig.role(), "active");
    // Readers are not blocked by a writer under WAL: the operator still sees the stored backlog.
    EXPECT_EQ(rig.billed(), 3);
  }
  ASSERT_TRUE(
    eventually([&] { return status_counter(rig.http_port, "cms_billing_store_alarm") == 0; }, 30s))
    << rig.diagnostics();
  ASSERT_TRUE(eventually([&] { return rig.billed() == 3 * calls; }, 20s)) << rig.billed();

  rig.stop();
  auto store = read_store(rig.db_file());
  ASSERT_EQ(store.error, "");
  EXPECT_EQ(store.integrity, "ok");
  EXPECT_EQ(static_cast<int>(store.billing.size()), 3 * calls);
  EXPECT_EQ(billing_problems(store.billing), "");
  auto log = rig.node->output();
  EXPECT_NE(log.find("event=outbox_write_failed"), std::string::npos) << log;
  EXPECT_NE(log.find("locked"), std::string::npos) << log;
}
