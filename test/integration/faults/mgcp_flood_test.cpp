// A flood of malformed MGCP from one address (item 4). The attacker sends from
// 127.0.0.2, the simulated MTAs from 127.0.0.1. Its datagrams are decoded and answered with an
// error only within its budget (runtime/mgcp/flood_guard.hpp), then dropped unparsed and counted
// as cms_mgcp_errors_total{reason="rate_limited"}; the registered lines meanwhile complete calls
// and are never rate-limited.

#include "fault_rig.hpp"

#include "runtime/mgcp/flood_guard.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace cms::test;
using namespace cms::test::faults;

namespace {

/// Sends malformed commands (each with a transaction id, so each could earn an error answer) to
/// the node from 127.0.0.2 until stopped, and counts the answers.
class flooder {
public:
  explicit flooder(std::uint16_t target_port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(0x7f000002); // 127.0.0.2
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0;
    target_.sin_family = AF_INET;
    target_.sin_port = htons(target_port);
    target_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{0, 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~flooder() {
    stop();
    ::close(fd_);
  }
  bool bound() const { return bound_; }

  void start() {
    started_ = std::chrono::steady_clock::now();
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    running_ = false;
    if (thread_.joinable())
      thread_.join();
  }
  /// One bad command after the flood: true when the node answers it (the source is heard again).
  bool probe() {
    static const char bad[] = "XYZZ 4242 aaln/1@mta-0001.cable.example MGCP 1.0\r\n";
    ::sendto(fd_, bad, sizeof bad - 1, 0, reinterpret_cast<sockaddr*>(&target_), sizeof target_);
    char answer[2048];
    for (int i = 0; i < 200; ++i) { // 1 ms receive timeout each
      auto n = ::recv(fd_, answer, sizeof answer, 0);
      if (n > 0 && std::string_view(answer, static_cast<std::size_t>(n)).find(" 4242") !=
                     std::string_view::npos)
        return true;
    }
    return false;
  }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t answers() const { return answers_; }
  double seconds() const { return std::chrono::duration<double>(stopped_ - started_).count(); }

private:
  void run() {
    static const char* const shapes[] = {
      "XYZZ %u aaln/1@mta-0001.cable.example MGCP 1.0\r\n", // unknown verb: 504
      "CRCX %u aaln/1@mta-0001.cable.example MGCP 9.9\r\n", // bad version: 528
      "NTFY %u aaln/1@mta-0001.cable.example MGCP 1.0\r\nX: \x01\x02\r\nO: ;;;\r\n", // bad parameter
      "MDCX %u \r\n\r\n\r\n",                                                        // malformed
    };
    char buf[256];
    unsigned tid = 1;
    char answer[2048];
    while (running_) {
      for (int i = 0; i < 100; ++i, ++tid) {
        int n = std::snprintf(buf, sizeof buf, shapes[tid % 4], tid % 999999999);
        if (::sendto(fd_, buf, static_cast<std::size_t>(n), 0,
                     reinterpret_cast<sockaddr*>(&target_), sizeof target_) > 0)
          ++sent_;
      }
      while (::recv(fd_, answer, sizeof answer, MSG_DONTWAIT) > 0)
        ++answers_;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    stopped_ = std::chrono::steady_clock::now();
    // Answers still in flight for what was sent.
    while (::recv(fd_, answer, sizeof answer, 0) > 0)
      ++answers_;
  }

  int fd_ = -1;
  bool bound_ = false;
  sockaddr_in target_{};
  std::thread thread_;
  std::atomic<bool> running_{true};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> answers_{0};
  std::chrono::steady_clock::time_point started_, stopped_;
};

} // namespace

TEST(mgcp_flood, one_address_is_rate_limited_and_counted_while_lines_complete_calls) {
  fault_rig rig;
  ASSERT_EQ(rig.provision(), "");
  rig.start_node();
  ASSERT_TRUE(rig.wait_active()) << rig.diagnostics();
  ASSERT_TRUE(rig.start_sim()) << rig.diagnostics();

  flooder flood{rig.mgcp_port};
  ASSERT_TRUE(flood.bound()) << "cannot bind 127.0.0.2";
  flood.start();
  // Let the flood run into its limit first, then place calls through it.
  ASSERT_TRUE(eventually(
    [&] {
      return status_counter(rig.http_port, "cms_mgcp_errors_total", {"127.0.0.2", "rate_limited"}) >
             0;
    },
    30s))
    << rig.diagnostics();
  ASSERT_EQ(rig.complete_call(1, 3), "") << rig.diagnostics();
  ASSERT_EQ(rig.complete_call(4, 2), "") << rig.diagnostics();
  flood.stop();

  const cms::mgcp::flood_limits limits;
  const double bound = limits.burst + limits.per_second * flood.seconds() + 10;
  EXPECT_LE(static_cast<double>(flood.answers()), bound)
    << flood.answers() << " error answers for " << flood.sent() << " datagrams in "
    << flood.seconds() << " s";
  EXPECT_GT(static_cast<double>(flood.sent()), 2 * bound)
    << "the flood was too weak to prove anything";
  EXPECT_GE(status_counter(rig.http_port, "cms_mgcp_flood_sources_limited_total"), 1);
  auto limited =
    status_counter(rig.http_port, "cms_mgcp_errors_total", {"127.0.0.2", "rate_limited"});
  std::printf("flood: %llu datagrams in %.1f s, %llu error answers, %.0f dropped unparsed\n",
              static_cast<unsigned long long>(flood.sent()), flood.seconds(),
              static_cast<unsigned long long>(flood.answers()), limited);
  // Of the flood's datagrams the node read (the kernel drops the rest when the socket buffer is
  // full, which depends on the machine's load), nearly all were dropped unparsed: only the parsed
  // ones get an error answer.
  EXPECT_GT(limited, 9.0 * static_cast<double>(flood.answers()))
    << "most of the flood the node read should be dropped unparsed";
  EXPECT_GT(limited, 0.0);
  // The MTAs' address was never limited.
  EXPECT_EQ(status_counter(rig.http_port, "cms_mgcp_errors_total", {"127.0.0.1", "rate_limited"}),
            -1);
  EXPECT_EQ(rig.role(), "active");

  // Once the flood stops, the budget refills: the same address is heard again.
  EXPECT_TRUE(eventually([&] { return flood.probe(); }, 30s));
  ASSERT_EQ(rig.complete_call(3, 1), "") << rig.diagnostics();
}
