// The pair's UDP control plane over real loopback sockets: sealed datagrams, the source check,
// replay and time windows, drop counts by reason, and heartbeats that stop when the HA actor
// stops showing signs of life.

#include "runtime/transport/ha_auth.hpp"
#include "runtime/transport/ha_udp.hpp"
#include "runtime/transport/ha_wire.hpp"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <set>
#include <thread>

using namespace cms::ha;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

const std::string key(64, 'k');
const std::string other_key(64, 'o');

TEST(ha_auth, a_sealed_datagram_opens_only_with_its_key_and_unaltered) {
  auto d = seal(key, "{\"x\":1}");
  std::string_view body;
  EXPECT_EQ(unseal(key, d, body), drop_reason::none);
  EXPECT_EQ(body, "{\"x\":1}");
  EXPECT_EQ(unseal(other_key, d, body), drop_reason::bad_mac);
  auto altered = d;
  altered.back() = '2';
  EXPECT_EQ(unseal(key, altered, body), drop_reason::bad_mac);
  EXPECT_EQ(unseal(key, "{\"t\":\"hb\"}", body), drop_reason::malformed);
}

TEST(ha_auth, the_replay_guard_takes_each_sequence_once_and_only_within_the_window) {
  replay_guard g{5000ms};
  const std::int64_t now = 1'700'000'000'000;
  EXPECT_EQ(g.check("a", 10, now, now), drop_reason::none);
  EXPECT_EQ(g.check("a", 10, now, now + 1), drop_reason::replayed);
  EXPECT_EQ(g.check("a", 9, now, now + 2), drop_reason::replayed);
  EXPECT_EQ(g.check("a", 11, now - 6000, now + 3), drop_reason::stale);
  EXPECT_EQ(g.check("a", 11, now + 6000, now + 3), drop_reason::stale);
  EXPECT_EQ(g.check("b", 1, now, now + 4), drop_reason::none) << "senders are counted apart";
  // A sender silent for two windows starts afresh (a restart whose clock stepped back).
  EXPECT_EQ(g.check("a", 5, now + 11'000, now + 11'000), drop_reason::none);
}

TEST(ha_auth, sequence_numbers_grow_and_request_ids_are_random) {
  sequence_counter c;
  auto a = c.next();
  auto b = c.next();
  EXPECT_GT(b, a);
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 100; ++i)
    ids.insert(random_u64());
  EXPECT_EQ(ids.size(), 100u);
}

TEST(ha_wire, epochs_above_int64_max_are_refused_by_every_decoder) {
  heartbeat_datagram hb;
  hb.origin = {"cms-x", 1, wall_ms()};
  hb.info = {"cms-x", role::active, std::numeric_limits<std::uint64_t>::max(), 1, 0};
  heartbeat_datagram hb_out;
  EXPECT_EQ(decode(key, "c", encode(key, "c", hb), hb_out), drop_reason::epoch_out_of_range);
  witness_request r;
  r.origin = {"cms-x", 1, wall_ms()};
  r.epoch = std::numeric_limits<std::uint64_t>::max();
  witness_request r_out;
  EXPECT_EQ(decode(key, "c", encode(key, "c", r), r_out), drop_reason::epoch_out_of_range);
  hb.info.epoch = 7;
  EXPECT_EQ(decode(key, "other", encode(key, "c", hb), hb_out), drop_reason::wrong_cluster);
  EXPECT_EQ(decode(key, "c", encode(key, "c", hb), hb_out), drop_reason::none);
  EXPECT_EQ(hb_out.info.epoch, 7u);
  EXPECT_EQ(hb_out.info.node_id, "cms-x");
}

/// An io_context on its own thread, as the node runs the UDP paths.
struct io_runner {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~io_runner() {
    guard.reset();
    io.stop();
    thread.join();
  }
};

double dropped(cms::metrics::registry& m, const char* reason) {
  return m.value("cms_ha_udp_dropped_total", {{"path", "heartbeat"}, {"reason", reason}});
}

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit = 3s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

/// A heartbeat path on loopback whose configured peer is a plain socket the test drives.
struct heartbeat_rig {
  io_runner runner;
  cms::metrics::registry metrics;
  asio::io_context test_io;
  asio::ip::udp::socket peer{test_io, {asio::ip::make_address("127.0.0.1"), 0}};
  asio::ip::udp::socket stranger{test_io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::unique_ptr<udp_heartbeat> node;
  udp_endpoint node_at;
  std::atomic<int> heard{0};
  std::atomic<std::uint64_t> last_epoch{0};

  explicit heartbeat_rig(std::chrono::milliseconds stale_after = 10s) {
    asio::ip::udp::socket probe{test_io, {asio::ip::make_address("127.0.0.1"), 0}};
    node_at = probe.local_endpoint();
    probe.close();
    node = std::make_unique<udp_heartbeat>(runner.io, udp_trust{"c", key, 5000ms}, node_at,
                                           peer.local_endpoint(), 20ms, stale_after, 0, metrics);
    node->on_receive([this](const peer_info& p) {
      last_epoch = p.epoch;
      ++heard;
    });
    node->start();
  }
  ~heartbeat_rig() { node->stop(); }

  std::string beat(std::uint64_t seq, std::uint64_t epoch, const std::string& with_key = key,
                   std::int64_t sent_ms = wall_ms()) {
    heartbeat_datagram d;
    d.origin = {"cms-b", seq, sent_ms};
    d.info = {"cms-b", role::active, epoch, 50, 0};
    return encode(with_key, "c", d);
  }
  void send(asio::ip::udp::socket& from, const std::string& datagram) {
    from.send_to(asio::buffer(datagram), node_at);
  }
};

TEST(ha_udp, forged_stale_replayed_and_foreign_heartbeats_are_dropped_and_counted) {
  heartbeat_rig rig;
  // The old plaintext format, as a forger who knows only the cluster name would send it.
  rig.send(rig.peer, boost::json::serialize(boost::json::object{{"t", "hb"},
                                                                {"cluster", "c"},
                                                                {"node", "cms-b"},
                                                                {"role", "active"},
                                                                {"epoch", 99},
                                                                {"prio", 1000},
                                                                {"applied", 0},
                                                                {"seq", 1}}));
  rig.send(rig.peer, rig.beat(100, 99, other_key));               // sealed with another key
  rig.send(rig.stranger, rig.beat(101, 99));                      // right key, wrong source
  rig.send(rig.peer, rig.beat(102, 98, key, wall_ms() - 60'000)); // out of the time window
  ASSERT_TRUE(eventually([&] {
    return dropped(rig.metrics, "malformed") >= 1 && dropped(rig.metrics, "bad_mac") >= 1 &&
           dropped(rig.metrics, "wrong_source") >= 1 && dropped(rig.metrics, "stale") >= 1;
  }))
    << rig.metrics.render_prometheus();
  EXPECT_EQ(rig.heard, 0) << "a forged heartbeat reached the HA actor";

  auto genuine = rig.beat(200, 7);
  rig.send(rig.peer, genuine);
  ASSERT_TRUE(eventually([&] { return rig.heard == 1; }));
  EXPECT_EQ(rig.last_epoch, 7u);
  rig.send(rig.peer, genuine); // captured and sent again
  ASSERT_TRUE(eventually([&] { return dropped(rig.metrics, "replayed") >= 1; }));
  EXPECT_EQ(rig.heard, 1);
}

TEST(ha_udp, heartbeats_stop_when_the_ha_actor_stops_publishing) {
  heartbeat_rig rig{150ms};
  rig.peer.non_blocking(true);
  auto count_beats = [&] {
    int n = 0;
    std::array<char, 2048> buf{};
    udp_endpoint from;
    boost::system::error_code ec;
    for (;;) {
      auto len = rig.peer.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec)
        return n;
      heartbeat_datagram d;
      if (decode(key, "c", std::string_view(buf.data(), len), d) == drop_reason::none)
        ++n;
    }
  };
  // The HA actor publishes every 20 ms for a while: beats flow.
  for (int i = 0; i < 15; ++i) {
    rig.node->set_self({"cms-a", role::active, 3, 100, 0});
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GT(count_beats(), 5);
  // Then it goes silent (dead or stuck): within the staleness limit the beats stop.
  std::this_thread::sleep_for(300ms);
  count_beats();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count_beats(), 0) << "the I/O thread kept beating for a silent HA actor";
  EXPECT_GT(rig.metrics.value("cms_ha_udp_heartbeats_withheld_total"), 0.0);
}

} // namespace
