// The pair's UDP control plane against strangers, and liveness tied to the HA actor's health, on
// real processes and sockets (docs/security.md "Pair control plane", docs/ha.md "Liveness"):
// forged heartbeats and witness requests are dropped and counted; a stuck HA actor on the active
// stops its heartbeats and its systemd watchdog pings, and the standby takes over within the
// failover objective; a node whose root supervisor gave up exits non-zero.

#include "runtime/base/key_file.hpp"
#include "runtime/transport/ha_auth.hpp"
#include "runtime/transport/ha_wire.hpp"
#include "support/pair_harness.hpp"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <limits>
#include <sstream>
#include <thread>

using namespace cms::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

bool roles_are(pair_harness& p, const std::string& a, const std::string& b) {
  return p.role(0) == a && p.role(1) == b;
}

/// Sum of every sample of a metric family of node i (all label sets).
double metric_sum(pair_harness& p, int i, const std::string& name) {
  auto raw = http_get(p.ports[i].http, "/metrics");
  std::istringstream in{http_body(raw)};
  double sum = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name, 0) == 0 && (line[name.size()] == '{' || line[name.size()] == ' '))
      sum += std::stod(line.substr(line.rfind(' ') + 1));
  return sum;
}

/// What a forger who knows the cluster name sends: the plaintext format of old, and the sealed
/// format with a key of its own.
std::vector<std::string> forged_heartbeats(std::uint64_t epoch) {
  auto plain = boost::json::serialize(boost::json::object{{"t", "hb"},
                                                          {"cluster", "it-pair"},
                                                          {"node", "cms-x"},
                                                          {"role", "active"},
                                                          {"epoch", epoch},
                                                          {"prio", 1000},
                                                          {"applied", 0},
                                                          {"seq", 1}});
  cms::ha::heartbeat_datagram d;
  d.origin = {"cms-x", cms::ha::sequence_counter{}.next(), cms::ha::wall_ms()};
  d.info = {"cms-x", cms::ha::role::active, epoch, 1000, 0};
  return {plain, cms::ha::encode(std::string(64, 'x'), "it-pair", d)};
}

/// Sends forged datagrams from a socket of its own until destroyed.
class forger {
public:
  forger(std::vector<std::uint16_t> ports, std::vector<std::string> datagrams,
         std::chrono::milliseconds every)
    : thread_([this, ports, datagrams, every] {
        asio::io_context io;
        asio::ip::udp::socket s{io, asio::ip::udp::v4()};
        while (!stop_) {
          for (auto port : ports)
            for (auto& d : datagrams) {
              boost::system::error_code ec;
              s.send_to(asio::buffer(d), {asio::ip::make_address("127.0.0.1"), port}, 0, ec);
              ++sent_;
            }
          std::this_thread::sleep_for(every);
        }
      }) {}
  ~forger() {
    stop_ = true;
    thread_.join();
  }
  int sent() const { return sent_; }

private:
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

TEST(pair_control_plane, forged_heartbeats_with_higher_epochs_do_not_demote_the_active) {
  pair_harness p;
  p.start(0);
  p.start(1);
  ASSERT_TRUE(eventually([&] { return roles_are(p, "active", "standby"); }, 15s))
    << p.output(0) << "\n----\n"
    << p.output(1);
  auto epoch = p.epoch(0);
  {
    auto forged = forged_heartbeats(std::numeric_limits<std::uint64_t>::max());
    for (auto& d : forged_heartbeats(epoch + 1))
      forged.push_back(d);
    forger f{{p.ports[0].udp, p.ports[1].udp}, forged, 50ms};
    std::this_thread::sleep_for(1500ms);
    ASSERT_GT(f.sent(), 10);
  }
  EXPECT_TRUE(roles_are(p, "active", "standby")) << p.output(0);
  EXPECT_EQ(p.epoch(0), epoch);
  EXPECT_EQ(p.epoch(1), epoch);
  EXPECT_EQ(p.output(0).find("higher epoch"), std::string::npos) << p.output(0);
  EXPECT_GT(metric_sum(p, 0, "cms_ha_udp_dropped_total"), 10.0);
  // Both paths stay up: the genuine heartbeats still count.
  auto paths = p.status(1).at("cluster").as_object().at("heartbeat_paths").as_object();
  EXPECT_EQ(paths.at("udp"), "up");
}

TEST(pair_control_plane, a_forged_active_every_50_ms_does_not_keep_the_standby_from_taking_over) {
  pair_harness p{3};
  p.start(0);
  p.start(1);
  ASSERT_TRUE(eventually([&] { return roles_are(p, "active", "standby"); }, 15s))
    << p.output(0) << "\n----\n"
    << p.output(1);
  auto epoch = p.epoch(1);
  forger f{{p.ports[1].udp}, forged_heartbeats(epoch), 50ms};
  p.nodes[0]->signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << p.output(1);
  EXPECT_EQ(p.epoch(1), epoch + 1);
}

/// A client of one witness over its own UDP socket, holding (or not) the cluster key.
struct witness_probe {
  asio::io_context io;
  asio::ip::udp::socket socket{io, {asio::ip::make_address("127.0.0.1"), 0}};
  asio::ip::udp::endpoint witness;
  std::string key;
  cms::ha::sequence_counter seq;

  witness_probe(std::uint16_t port, std::string key)
    : witness(asio::ip::make_address("127.0.0.1"), port),
      key(std::move(key)) {}

  /// The answer to `datagram`, or nullopt when none came within 500 ms.
  std::optional<std::string> exchange(const std::string& datagram) {
    socket.send_to(asio::buffer(datagram), witness);
    socket.non_blocking(true);
    auto end = std::chrono::steady_clock::now() + 500ms;
    std::array<char, 2048> buf{};
    while (std::chrono::steady_clock::now() < end) {
      asio::ip::udp::endpoint from;
      boost::system::error_code ec;
      auto n = socket.receive_from(asio::buffer(buf), from, 0, ec);
      if (!ec)
        return std::string(buf.data(), n);
      std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
  }

  std::optional<cms::ha::witness_answer> ask(cms::ha::witness_op op, const std::string& node,
                                             std::uint64_t epoch, std::int64_t lease_ms) {
    cms::ha::witness_request r;
    r.origin = {node, seq.next(), cms::ha::wall_ms()};
    r.op = op;
    r.id = cms::ha::random_u64();
    r.epoch = epoch;
    r.lease_ms = lease_ms;
    auto answer = exchange(cms::ha::encode(key, "it-pair", r));
    if (!answer)
      return std::nullopt;
    cms::ha::witness_answer a;
    if (cms::ha::decode(key, "it-pair", *answer, a) != cms::ha::drop_reason::none || a.id != r.id)
      return std::nullopt;
    return a;
  }

  std::optional<std::string> ask_plain(const std::string& op, const std::string& node,
                                       std::uint64_t epoch, std::int64_t lease_ms) {
    return exchange(boost::json::serialize(boost::json::object{{"t", op},
                                                               {"cluster", "it-pair"},
                                                               {"id", 1},
                                                               {"node", node},
                                                               {"epoch", epoch},
                                                               {"lease_ms", lease_ms}}));
  }
};

TEST(pair_control_plane, a_witness_obeys_only_sealed_requests_and_bounds_the_lease) {
  pair_harness p{1};
  auto key = cms::config::read_key_file(p.key_file());
  witness_probe good{p.witness_ports[0], key};
  ASSERT_TRUE(eventually(
    [&] { return p.witnesses[0]->output().find("event=started") != std::string::npos; }, 10s))
    << p.witnesses[0]->output();
  // Whoever knows only the cluster name: a claim for years, then a release, get no answer.
  EXPECT_FALSE(good.ask_plain("claim", "cms-x", 5, 10LL * 365 * 24 * 3600 * 1000));
  EXPECT_FALSE(good.ask_plain("release", "cms-x", 5, 0));
  // A key of its own does not help either.
  witness_probe rogue{p.witness_ports[0], std::string(64, 'r')};
  EXPECT_FALSE(rogue.ask(cms::ha::witness_op::claim, "cms-x", 5, 500));
  // With the key: a lease longer than the witness grants is refused, not shortened.
  auto years = good.ask(cms::ha::witness_op::claim, "cms-a", 5, 10LL * 365 * 24 * 3600 * 1000);
  ASSERT_TRUE(years) << p.witnesses[0]->output();
  EXPECT_FALSE(years->granted);
  auto ok = good.ask(cms::ha::witness_op::claim, "cms-a", 5, 500);
  ASSERT_TRUE(ok) << p.witnesses[0]->output();
  EXPECT_TRUE(ok->granted);
  // The grant was durable before the answer: it is in the state file.
  std::ifstream state{p.dir.path() / "witness0.json"};
  std::string text((std::istreambuf_iterator<char>(state)), {});
  EXPECT_NE(text.find("\"epoch\":5"), std::string::npos) << text;
  // A replayed request is not served twice.
  cms::ha::witness_request r;
  r.origin = {"cms-a", good.seq.next(), cms::ha::wall_ms()};
  r.op = cms::ha::witness_op::renew;
  r.id = cms::ha::random_u64();
  r.epoch = 5;
  r.lease_ms = 500;
  auto sealed = cms::ha::encode(key, "it-pair", r);
  EXPECT_TRUE(good.exchange(sealed));
  EXPECT_FALSE(good.exchange(sealed));
  EXPECT_NE(p.witnesses[0]->output().find("event=request_dropped"), std::string::npos);
}

/// A unix datagram socket standing in for systemd's NOTIFY_SOCKET.
class notify_socket {
public:
  explicit notify_socket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot bind " + path.string());
  }
  ~notify_socket() { ::close(fd_); }
  /// Every message received since the last call.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    char buf[512];
    for (;;) {
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        return out;
      out.emplace_back(buf, static_cast<std::size_t>(n));
    }
  }
  static int count(const std::vector<std::string>& v, const std::string& what) {
    int n = 0;
    for (auto& m : v)
      n += m.find(what) != std::string::npos;
    return n;
  }

private:
  std::filesystem::path path_;
  int fd_ = -1;
};

TEST(pair_control_plane, a_stuck_ha_actor_on_the_active_goes_silent_and_the_standby_takes_over) {
  pair_harness p{3};
  p.lease_ms = 500; // cmsd's default lease: the failover objective of docs/ha.md holds with it
  auto freeze = p.dir.path() / "freeze-ha-of-a";
  notify_socket systemd{p.dir.path() / "notify.sock"};
  // Node A runs as under systemd (Type=notify, WatchdogSec=1s) with the test-only freeze switch.
  ::setenv("NOTIFY_SOCKET", (p.dir.path() / "notify.sock").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "1000000", 1);
  p.extra_config = "[test_faults]\nfreeze_ha_actor_file = \"" + freeze.string() + "\"\n";
  p.start(0);
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  p.extra_config.clear();
  p.start(1);
  ASSERT_TRUE(eventually([&] { return roles_are(p, "active", "standby"); }, 15s))
    << p.output(0) << "\n----\n"
    << p.output(1);
  ASSERT_TRUE(eventually([&] {
    return p.status(1).at("cluster").as_object().at("heartbeat_paths").as_object().at("udp") ==
           "up";
  }));
  std::this_thread::sleep_for(600ms);
  auto before = systemd.drain();
  EXPECT_EQ(notify_socket::count(before, "READY=1"), 1);
  EXPECT_GE(notify_socket::count(before, "WATCHDOG=1"), 1) << "no watchdog pings while healthy";

  std::ofstream{freeze} << "freeze\n";
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s, 5ms)) << p.output(1);
  auto took =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << "takeover after the HA actor of the active froze: " << took.count() << " ms\n";
  // docs/ha.md: a new call admitted within 1 s of the failure.
  EXPECT_LE(took.count(), 1000) << p.output(1);
  EXPECT_NE(p.output(0).find("event=udp_heartbeat_withheld"), std::string::npos) << p.output(0);
  // The watchdog pings stopped: systemd would kill and restart the zombie.
  std::this_thread::sleep_for(600ms);
  systemd.drain();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(notify_socket::count(systemd.drain(), "WATCHDOG=1"), 0);
}

TEST(pair_control_plane, when_the_root_supervisor_gives_up_cmsd_exits_non_zero) {
  pair_harness p;
  p.extra_config = "[test_faults]\ncrash_ha_actor = true\n";
  p.start(0);
  auto code = p.nodes[0]->wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << "cmsd kept running without its actors\n" << p.output(0);
  EXPECT_NE(*code, 0) << p.output(0);
  EXPECT_NE(p.output(0).find("event=root_supervisor_exited"), std::string::npos) << p.output(0);
}

} // namespace
