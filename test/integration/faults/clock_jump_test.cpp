// The wall clock steps under a running node (item 4): NTP stepping after a bad start, an
// operator setting the date. The node keeps wall-clock time only for what people read (billing
// timestamps, registered_ms, logs); every timer, the HA heartbeat and leases run on the steady
// clock (CAF's actor clock, asio steady timers), and billing order is the outbox sequence, not the
// timestamp. Proved here on the real process: libfaketime (Debian package faketime) moves
// CLOCK_REALTIME of cmsd alone, backwards by 2 h and then forwards by 3 h, while the monotonic
// clock stays real. Skipped with a message when libfaketime is not installed.

#include "fault_rig.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace cms::test;
using namespace cms::test::faults;

namespace {

const char* const libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

/// Moves cmsd's wall clock. libfaketime re-reads the file on every clock call
/// (FAKETIME_NO_CACHE=1; its once-a-second cache mixed offsets across threads here); the pause
/// lets the node's pending work finish on the old time.
void set_offset(const std::filesystem::path& file, const std::string& offset) {
  auto tmp = file.string() + ".tmp";
  std::ofstream{tmp} << offset << "\n";
  std::filesystem::rename(tmp, file); // atomic: libfaketime never reads half a line
  std::this_thread::sleep_for(1500ms);
}

/// Starts cmsd under libfaketime with its wall clock read from `offset_file`.
void start_faked(fault_rig& rig, const std::filesystem::path& offset_file) {
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  rig.start_node({"/usr/bin/env", std::string("LD_PRELOAD=") + libfaketime,
                  "FAKETIME_TIMESTAMP_FILE=" + offset_file.string(), "FAKETIME_NO_CACHE=1",
                  "FAKETIME_DONT_FAKE_MONOTONIC=1",
                  // libfaketime is preloaded ahead of the sanitizer runtime in ASan builds.
                  "ASAN_OPTIONS=" + asan + (asan.empty() ? "" : ":") + "verify_asan_link_order=0"});
}

/// A node under libfaketime, active, with its simulated MTAs registered; `offset_file` moves its
/// wall clock (set_offset).
class clock_jump : public ::testing::Test {
protected:
  void SetUp() override {
    if (!std::filesystem::exists(libfaketime))
      GTEST_SKIP() << libfaketime << " not found: install Debian's faketime package "
                   << "(scripts/install-deps.sh) to run the clock-jump test";
    ASSERT_EQ(rig.provision(), "");
    offset_file = rig.dir.path() / "faketime";
    set_offset(offset_file, "+0");
    start_faked(rig, offset_file);
    ASSERT_TRUE(rig.wait_active()) << rig.diagnostics();
    ASSERT_TRUE(rig.start_sim()) << rig.diagnostics();
  }

  fault_rig rig;
  std::filesystem::path offset_file;
};

struct call_times {
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
  std::uint64_t first_sequence = 0;
};

} // namespace

TEST_F(clock_jump, wall_clock_steps_break_neither_timers_nor_ha_nor_billing_order) {
  const auto epoch = rig.epoch();
  ASSERT_GT(epoch, 0);

  ASSERT_EQ(rig.complete_call(1, 3), "") << rig.diagnostics();

  // Two hours back. Calls (digit timers, answer, release) go on; the node stays active in the same
  // epoch: nothing that guards the pair reads the wall clock.
  set_offset(offset_file, "-2h");
  ASSERT_EQ(rig.complete_call(2, 4), "") << rig.diagnostics();
  EXPECT_EQ(rig.role(), "active");
  EXPECT_EQ(rig.epoch(), epoch);

  // Three hours forward (one hour ahead of the real time).
  set_offset(offset_file, "+1h");
  ASSERT_EQ(rig.complete_call(3, 1), "") << rig.diagnostics();
  EXPECT_EQ(rig.role(), "active");
  EXPECT_EQ(rig.epoch(), epoch);
  auto status = get_json(rig.http_port, "/status");
  auto uptime = status["uptime_s"].to_number<double>();
  EXPECT_GT(uptime, 0.0);
  EXPECT_LT(uptime, 3600.0) << "uptime follows the wall clock";
  // Every line still registered and idle: no audit or liveness timer fired on the jumps.
  auto endpoints = get_json(rig.http_port, "/endpoints?state=idle&limit=1");
  EXPECT_EQ(endpoints["total"].to_number<std::int64_t>(), lines);

  ASSERT_TRUE(eventually([&] { return rig.billed() == 9; }, 20s)) << rig.billed();
  rig.stop();
  auto store = read_store(rig.db_file());
  ASSERT_EQ(store.error, "");
  ASSERT_EQ(store.billing.size(), 9u);
  EXPECT_EQ(billing_problems(store.billing), "");
  // Calls in the order they happened, by sequence; their timestamps show the jumps (which proves
  // the node did see them), yet sequence order is the order of events.
  std::vector<std::string> order;
  std::map<std::string, call_times> calls;
  for (auto& r : store.billing) {
    auto [it, fresh] = calls.try_emplace(r.call_id);
    if (fresh) {
      order.push_back(r.call_id);
      it->second = {r.timestamp_ms, r.timestamp_ms, r.sequence};
    }
    it->second.first_ms = std::min(it->second.first_ms, r.timestamp_ms);
    it->second.last_ms = std::max(it->second.last_ms, r.timestamp_ms);
  }
  std::string rows;
  for (auto& r : store.billing)
    rows += std::to_string(r.sequence) + " " + r.call_id + " " + r.event + " " +
            std::to_string(r.timestamp_ms) + "\n";
  SCOPED_TRACE(rows);
  ASSERT_EQ(order.size(), 3u);
  auto& before = calls[order[0]];
  auto& back = calls[order[1]];
  auto& ahead = calls[order[2]];
  EXPECT_LT(before.first_sequence, back.first_sequence);
  EXPECT_LT(back.first_sequence, ahead.first_sequence);
  EXPECT_LT(back.last_ms, before.first_ms - 3'000'000) << "the 2 h step back was not seen";
  EXPECT_GT(ahead.first_ms, before.last_ms + 3'000'000) << "the step forward was not seen";
}

// PacketCable elements report a step of their clock during a call with a Time_Change event
// message on each half-call (docs/billing.md). A call up while the clock is set back 2 h bills
// one time_change record with the step; a call that ended before the step bills none.
TEST_F(clock_jump, a_call_up_across_a_step_bills_a_time_change_with_the_step) {
  ASSERT_EQ(rig.complete_call(1, 3), "") << rig.diagnostics();
  ASSERT_EQ(rig.connect_call(2, 4), "") << rig.diagnostics();
  set_offset(offset_file, "-2h"); // waits 1.5 s: the call manager looks every second
  ASSERT_EQ(rig.hang_up(2, 4), "") << rig.diagnostics();
  ASSERT_TRUE(eventually([&] { return rig.billed() == 7; }, 20s)) << rig.billed();
  rig.stop();
  auto store = read_store(rig.db_file());
  ASSERT_EQ(store.error, "");
  std::string rows;
  std::vector<billing_row> steps;
  for (auto& r : store.billing) {
    rows += std::to_string(r.sequence) + " " + r.record_id + " " +
            std::to_string(r.time_adjustment_ms) + "\n";
    if (r.event == "time_change")
      steps.push_back(r);
  }
  SCOPED_TRACE(rows);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].call_id, store.billing.back().call_id) << "the call that was up";
  EXPECT_NEAR(static_cast<double>(steps[0].time_adjustment_ms), -7'200'000.0, 5'000.0);
}
