// The data directory's file system fills up under a running node (item 4). The node runs
// on a small tmpfs mounted over its data directory (we run as root; without the privilege to mount
// the test is skipped with a message). Calls must go on while the disk is full, billing must raise
// its store alarm (gauge cms_billing_store_alarm, in /status and /metrics) and keep the records in
// memory, and when space returns the records are written and the alarm clears. The SQLite file is
// opened after the node stopped: every record of every call is there, with sequences 1..N.

#include "fault_rig.hpp"

#include <gtest/gtest.h>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

using namespace cms::test;
using namespace cms::test::faults;

namespace {

/// A tmpfs of `size` over `where` for the lifetime of the object.
class tmpfs_mount {
public:
  tmpfs_mount(const std::filesystem::path& where, const std::string& size) : where_(where) {
    std::string options = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", where.c_str(), "tmpfs", 0, options.c_str()) != 0)
      error_ = std::strerror(errno);
    else
      mounted_ = true;
  }
  ~tmpfs_mount() {
    if (mounted_)
      ::umount2(where_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

private:
  std::filesystem::path where_;
  bool mounted_ = false;
  std::string error_;
};

/// Writes `file` until the file system refuses more (ENOSPC), down to single bytes.
std::uintmax_t fill(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return 0;
  std::vector<char> chunk(1 << 20, 'x');
  std::uintmax_t total = 0;
  for (std::size_t size = chunk.size(); size >= 1; size /= 2) {
    for (;;) {
      auto n = ::write(fd, chunk.data(), size);
      if (n <= 0)
        break;
      total += static_cast<std::uintmax_t>(n);
    }
  }
  ::fsync(fd);
  ::close(fd);
  return total;
}

double store_alarm(fault_rig& rig) {
  return status_counter(rig.http_port, "cms_billing_store_alarm");
}
double write_errors(fault_rig& rig) {
  return status_counter(rig.http_port, "cms_billing_write_errors_total");
}

} // namespace

TEST(disk_full, calls_continue_billing_alarms_and_recovers_without_losing_a_record) {
  fault_rig rig;
  tmpfs_mount disk{rig.data_dir, "16m"};
  if (!disk.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs over the data directory (" << disk.error()
                 << "): the disk-full test needs root or CAP_SYS_ADMIN";
  ASSERT_EQ(rig.provision(), "");
  rig.start_node();
  ASSERT_TRUE(rig.wait_active()) << rig.diagnostics();
  ASSERT_TRUE(rig.start_sim()) << rig.diagnostics();

  // Before the fault: two calls, billed and stored.
  ASSERT_EQ(rig.complete_call(1, 3), "") << rig.diagnostics();
  ASSERT_EQ(rig.complete_call(2, 4), "") << rig.diagnostics();
  ASSERT_TRUE(eventually([&] { return rig.billed() == 6; }, 20s)) << rig.billed();
  EXPECT_EQ(store_alarm(rig), 0);

  // The disk fills up. Calls still go through; within a few calls the outbox cannot append (the
  // WAL must grow) and the alarm is raised, counted as write errors.
  auto filler = rig.data_dir / "filler";
  ASSERT_GT(fill(filler), 0u);
  int calls_during = 0;
  for (; calls_during < 6 && store_alarm(rig) != 1; ++calls_during) {
    ASSERT_EQ(rig.complete_call(1 + calls_during % 2, 3 + calls_during % 2), "")
      << "call " << calls_during << " while the disk is full\n"
      << rig.diagnostics();
    eventually([&] { return store_alarm(rig) == 1; }, 3s);
  }
  ASSERT_EQ(store_alarm(rig), 1) << "no billing store alarm with a full disk\n"
                                 << rig.diagnostics();
  EXPECT_GT(write_errors(rig), 0);
  // One more call with the alarm raised: the node keeps serving.
  ASSERT_EQ(rig.complete_call(2, 4), "") << rig.diagnostics();
  ++calls_during;
  EXPECT_EQ(store_alarm(rig), 1);
  EXPECT_EQ(rig.role(), "active");
  std::printf("disk full: %d calls completed while full, %.0f billing write errors, %lld records "
              "stored before\n",
              calls_during, write_errors(rig), static_cast<long long>(rig.billed()));

  // Space returns: the retry writes what was held, the alarm clears.
  std::filesystem::remove(filler);
  ASSERT_TRUE(eventually([&] { return store_alarm(rig) == 0; }, 20s)) << rig.diagnostics();
  const auto expected = 3 * (2 + calls_during);
  ASSERT_TRUE(eventually([&] { return rig.billed() == expected; }, 20s))
    << rig.billed() << " of " << expected;
  // And the node goes on billing normally.
  ASSERT_EQ(rig.complete_call(1, 3), "") << rig.diagnostics();
  ASSERT_TRUE(eventually([&] { return rig.billed() == expected + 3; }, 20s)) << rig.billed();

  rig.stop();
  auto store = read_store(rig.db_file());
  ASSERT_EQ(store.error, "");
  EXPECT_EQ(store.integrity, "ok");
  EXPECT_EQ(store.subscribers, lines);
  EXPECT_EQ(static_cast<int>(store.billing.size()), expected + 3);
  EXPECT_EQ(billing_problems(store.billing), "");
  auto log = rig.node->output();
  auto raised = log.find("event=billing_store_alarm state=raised");
  ASSERT_NE(raised, std::string::npos) << log;
  std::printf("%s\n", log.substr(raised, log.find('\n', raised) - raised).c_str());
  EXPECT_NE(log.find("event=billing_store_alarm state=cleared"), std::string::npos) << log;
}
