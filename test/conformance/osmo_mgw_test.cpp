// Our MGCP stack against a real media gateway: osmo-mgw (Osmocom), started here on free loopback
// ports with a minimal configuration, killed afterwards.

#include "conformance_support.hpp"

#include "runtime/mgcp/sdp.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <regex>

namespace cms::mgcp {
namespace {

using namespace std::chrono_literals;
using cms::test::child_process;
using cms::test::temp_dir;
using test::raw_peer;
using test::running_agent;

/// `count` consecutive UDP ports on 127.0.0.1, the first even, all free a moment ago.
std::uint16_t free_udp_range(int count) {
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(20000, 60000 - count);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int base = pick(rng) & ~1;
    bool ok = true;
    std::vector<int> fds;
    for (int p = base; p < base + count && ok; ++p) {
      int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<std::uint16_t>(p));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      fds.push_back(fd);
    }
    for (int fd : fds)
      ::close(fd);
    if (ok)
      return static_cast<std::uint16_t>(base);
  }
  throw std::runtime_error("no free UDP port range");
}

/// osmo-mgw with `rtpbridge/*@mgw` endpoints on 127.0.0.1. Its VTY (4243) and CTRL (4267) ports
/// are fixed by the program, so a start that collides with another instance is retried.
class osmo_mgw {
public:
  osmo_mgw() {
    binary_ = test::find_program("osmo-mgw");
    if (binary_.empty())
      return;
    for (int attempt = 0; attempt < 20; ++attempt) {
      mgcp_port_ = cms::test::free_port(SOCK_DGRAM);
      rtp_base_ = free_udp_range(rtp_ports);
      auto cfg = dir_.path() / "osmo-mgw.cfg";
      std::ofstream{cfg} << "log stderr\n"
                            " logging filter all 1\n"
                            " logging color 0\n"
                            " logging print category 1\n"
                            " logging level set-all info\n"
                            "line vty\n"
                            " bind 127.0.0.1\n"
                            "mgcp\n"
                            " domain mgw\n"
                            " bind ip 127.0.0.1\n"
                            " bind port "
                         << mgcp_port_
                         << "\n"
                            " rtp port-range "
                         << rtp_base_ << " " << rtp_base_ + rtp_ports - 1
                         << "\n"
                            " rtp bind-ip 127.0.0.1\n"
                            " number endpoints 8\n";
      process_.emplace(std::vector<std::string>{binary_, "-c", cfg.string()},
                       dir_.path() / "osmo-mgw.log");
      bool ready = cms::test::eventually(
        [&] {
          return !process_->running() ||
                 process_->output().find("Configured for MGCP") != std::string::npos;
        },
        5s);
      if (ready && process_->running()) {
        std::this_thread::sleep_for(100ms); // the line is logged just before the select loop starts
        if (process_->running())
          return;
      }
      log_ = process_->output();
      process_.reset();
      std::this_thread::sleep_for(500ms); // another instance holds the VTY port: wait for it
    }
  }
  ~osmo_mgw() {
    if (process_ && process_->running()) {
      process_->signal(SIGTERM);
      if (!process_->wait_exit(3s))
        process_->signal(SIGKILL);
    }
  }

  bool installed() const { return !binary_.empty(); }
  bool running() { return process_ && process_->running(); }
  std::string log() { return process_ ? process_->output() : log_; }
  udp_endpoint endpoint() const { return {test::loopback, mgcp_port_}; }
  std::uint16_t rtp_base() const { return rtp_base_; }
  static constexpr int rtp_ports = 32;

private:
  temp_dir dir_;
  std::string binary_;
  std::uint16_t mgcp_port_ = 0;
  std::uint16_t rtp_base_ = 0;
  std::optional<child_process> process_;
  std::string log_;
};

agent_config osmo_config() {
  agent_config cfg;
  cfg.seed = 77;
  // osmo-mgw 1.10 answers a CRCX carrying K: with "539 unhandled option"; it keeps no response
  // cache to release anyway.
  cfg.send_response_acks = false;
  return cfg;
}

response expect_response(const command_outcome& o) {
  if (auto* r = std::get_if<response>(&o))
    return *r;
  throw std::runtime_error("osmo-mgw did not answer (transaction failed)");
}

class OsmoMgw : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(mgw_.installed()) << test::missing_program("osmo-mgw", "osmo-mgw");
    ASSERT_TRUE(mgw_.running()) << "osmo-mgw did not start:\n" << mgw_.log();
    ca_.run();
  }

  response exchange(command cmd) {
    return expect_response(test::send_and_wait(ca_.agent(), mgw_.endpoint(), std::move(cmd)));
  }

  /// CRCX with our RTP address in the SDP; returns the response.
  response create_connection(const std::string& endpoint, std::uint16_t our_rtp_port,
                             const std::string& call_id, const std::string& mode) {
    return exchange(test::make_command(verb::crcx, endpoint,
                                       {{"C", call_id}, {"L", "p:20, a:PCMU"}, {"M", mode}},
                                       test::audio_sdp(our_rtp_port), "MGCP 1.0"));
  }

  /// The RTP port osmo-mgw allocated, from the SDP of a CRCX/MDCX response.
  std::uint16_t gateway_rtp_port(const response& r) {
    EXPECT_TRUE(r.sdp.has_value());
    std::string why;
    auto sd = parse_sdp(r.sdp.value_or(""), &why);
    EXPECT_TRUE(sd) << why << "\n" << r.sdp.value_or("");
    if (!sd || !sd->first_audio())
      return 0;
    const auto* c = sd->audio_connection();
    EXPECT_NE(c, nullptr);
    if (c) {
      EXPECT_EQ(c->address, "127.0.0.1");
    }
    auto port = sd->first_audio()->port;
    EXPECT_GE(port, mgw_.rtp_base());
    EXPECT_LT(port, mgw_.rtp_base() + osmo_mgw::rtp_ports);
    return port;
  }

  osmo_mgw mgw_;
  running_agent ca_{osmo_config()};
};

TEST_F(OsmoMgw, AuditCreateModifyDelete) {
  auto audit =
    exchange(test::make_command(verb::auep, "rtpbridge/1@mgw", {}, std::nullopt, "MGCP 1.0"));
  EXPECT_EQ(audit.code, 200) << audit.comment;

  raw_peer rtp;
  auto crcx = create_connection("rtpbridge/*@mgw", rtp.endpoint().port(), "1234ABCD", "recvonly");
  ASSERT_EQ(crcx.code, 200) << crcx.comment << "\n" << mgw_.log();
  const std::string* conn_id = crcx.param("I");
  const std::string* specific = crcx.param("Z");
  ASSERT_NE(conn_id, nullptr);
  ASSERT_NE(specific, nullptr);
  EXPECT_TRUE(std::regex_match(*conn_id, std::regex{"[0-9A-Fa-f]{1,32}"})) << *conn_id;
  EXPECT_TRUE(std::regex_match(*specific, std::regex{"rtpbridge/[0-9]+@mgw"})) << *specific;
  auto port = gateway_rtp_port(crcx);
  EXPECT_NE(port, 0);

  auto mdcx = exchange(test::make_command(verb::mdcx, *specific,
                                          {{"C", "1234ABCD"}, {"I", *conn_id}, {"M", "sendrecv"}},
                                          test::audio_sdp(rtp.endpoint().port() + 2), "MGCP 1.0"));
  EXPECT_EQ(mdcx.code, 200) << mdcx.comment << "\n" << mgw_.log();
  EXPECT_EQ(gateway_rtp_port(mdcx), port); // same connection, same local port

  // A connection id osmo-mgw never issued is refused (and the answer still parses).
  auto wrong = exchange(test::make_command(
    verb::mdcx, *specific, {{"C", "1234ABCD"}, {"I", "DEADBEEF"}, {"M", "sendrecv"}}, std::nullopt,
    "MGCP 1.0"));
  EXPECT_GE(wrong.code, 400);

  auto dlcx = exchange(test::make_command(
    verb::dlcx, *specific, {{"C", "1234ABCD"}, {"I", *conn_id}}, std::nullopt, "MGCP 1.0"));
  EXPECT_EQ(dlcx.code, 250) << dlcx.comment;
  // Deleting it twice: the connection is gone.
  auto again = exchange(test::make_command(
    verb::dlcx, *specific, {{"C", "1234ABCD"}, {"I", *conn_id}}, std::nullopt, "MGCP 1.0"));
  EXPECT_GE(again.code, 400);
}

std::string rtp_packet(std::uint16_t seq, std::uint32_t timestamp, std::uint32_t ssrc, char fill) {
  std::string p(12 + 160, fill);
  p[0] = static_cast<char>(0x80); // version 2
  p[1] = 0;                       // PCMU
  p[2] = static_cast<char>(seq >> 8);
  p[3] = static_cast<char>(seq);
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<char>(timestamp >> (24 - 8 * i));
    p[8 + i] = static_cast<char>(ssrc >> (24 - 8 * i));
  }
  return p;
}

/// Sends RTP from `from` to `to` every 20 ms until `sink` receives an RTP packet; returns it.
/// osmo-mgw's one-byte keep-alive "dummy packets" (sent when a connection opens) are skipped.
std::optional<raw_peer::datagram> pass_rtp(raw_peer& from, const udp_endpoint& to, raw_peer& sink,
                                           char fill) {
  for (std::uint16_t seq = 1; seq <= 100; ++seq) {
    from.send(to, rtp_packet(seq, seq * 160u, 0x11223344, fill));
    while (auto d = sink.receive(20ms))
      if (d->text.size() >= 12)
        return d;
  }
  return std::nullopt;
}

TEST_F(OsmoMgw, BridgesRtpBetweenTwoConnections) {
  raw_peer leg_a, leg_b; // our two RTP "phones"
  auto first =
    create_connection("rtpbridge/*@mgw", leg_a.endpoint().port(), "C0FFEE01", "sendrecv");
  ASSERT_EQ(first.code, 200) << first.comment << "\n" << mgw_.log();
  ASSERT_NE(first.param("Z"), nullptr);
  ASSERT_NE(first.param("I"), nullptr);
  const std::string endpoint = *first.param("Z");
  auto second = create_connection(endpoint, leg_b.endpoint().port(), "C0FFEE01", "sendrecv");
  ASSERT_EQ(second.code, 200) << second.comment << "\n" << mgw_.log();
  ASSERT_NE(second.param("I"), nullptr);
  EXPECT_NE(*first.param("I"), *second.param("I"));
  auto port_a = gateway_rtp_port(first);
  auto port_b = gateway_rtp_port(second);
  ASSERT_NE(port_a, 0);
  ASSERT_NE(port_b, 0);
  ASSERT_NE(port_a, port_b);

  // A -> gateway port of connection 1 -> out of connection 2 -> B.
  auto at_b = pass_rtp(leg_a, {test::loopback, port_a}, leg_b, 'a');
  ASSERT_TRUE(at_b) << "no RTP came out of the second connection\n" << mgw_.log();
  EXPECT_EQ(at_b->from.port(), port_b);
  ASSERT_EQ(at_b->text.size(), 172u);
  EXPECT_EQ(static_cast<unsigned char>(at_b->text[0]) >> 6, 2); // RTP version 2
  EXPECT_EQ(at_b->text.substr(12), std::string(160, 'a'));

  // And back: B -> connection 2 -> connection 1 -> A.
  while (leg_a.receive(50ms)) {}
  auto at_a = pass_rtp(leg_b, {test::loopback, port_b}, leg_a, 'b');
  ASSERT_TRUE(at_a) << "no RTP came back through the first connection\n" << mgw_.log();
  EXPECT_EQ(at_a->from.port(), port_a);
  EXPECT_EQ(at_a->text.substr(12), std::string(160, 'b'));

  for (const auto* id : {first.param("I"), second.param("I")}) {
    auto dlcx = exchange(test::make_command(verb::dlcx, endpoint, {{"C", "C0FFEE01"}, {"I", *id}},
                                            std::nullopt, "MGCP 1.0"));
    EXPECT_EQ(dlcx.code, 250) << dlcx.comment;
  }
}

} // namespace
} // namespace cms::mgcp
