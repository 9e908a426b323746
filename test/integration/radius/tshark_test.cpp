// Conformance against an independent decoder: EMs captured on loopback on their way to the real
// RKS, decoded by tshark's RADIUS + PacketCable dissector. No malformed or expert items, and the
// BCID / EM type / sequence / header fields tshark reads are the ones we sent.

#include "support/rks_rig.hpp"

#include "runtime/radius/secret.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <set>
#include <sstream>

using namespace cms::radius;
using namespace cms::radius::itest;
using namespace std::chrono_literals;

namespace {

std::vector<std::vector<std::string>> rows(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("Running as user", 0) == 0)
      continue;
    std::vector<std::string> cols;
    std::string col;
    std::istringstream ls{line};
    while (std::getline(ls, col, '\t'))
      cols.push_back(col);
    out.push_back(cols);
  }
  return out;
}

class capture {
public:
  capture(const std::filesystem::path& dir, std::uint16_t port)
    : file_((dir / "em.pcapng").string()),
      log_((dir / "tshark.log").string()) {
    int rc = 0;
    auto pid = shell("tshark -i lo -f 'udp port " + std::to_string(port) + "' -w " + quote(file_) +
                       " >" + quote(log_) + " 2>&1 & echo $!",
                     &rc);
    pid_ = std::atoi(pid.c_str());
    // tshark says so on stderr once the capture is running (seconds on a loaded machine).
    shell("for i in $(seq 600); do grep -q 'Capturing on' " + quote(log_) +
            " && exit 0; sleep 0.05; done; exit 1",
          &rc);
    started_ = rc == 0 && pid_ > 0;
  }
  ~capture() { stop(); }
  bool started() const { return started_; }
  std::string log() const { return shell("cat " + quote(log_)); }
  const std::string& file() const { return file_; }
  /// Frames matching `filter` in the (possibly still growing) capture file.
  /// *rc: tshark's exit status (a bad filter must not read as "nothing matched").
  std::string read(const std::string& args, int* rc = nullptr) const {
    return shell("tshark -r " + quote(file_) + " " + args + " 2>/dev/null", rc);
  }
  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGINT);
    shell("for i in $(seq 200); do kill -0 " + std::to_string(pid_) +
          " 2>/dev/null || exit 0; sleep 0.05; done; kill -9 " + std::to_string(pid_));
    pid_ = 0;
  }

private:
  std::string file_, log_;
  int pid_ = 0;
  bool started_ = false;
};

} // namespace

TEST(TsharkConformance, EmsDecodeCleanlyWithTheFieldsWeSent) {
  for (auto tool : {"freeradius", "radclient", "sqlite3", "tshark"})
    ASSERT_NO_FATAL_FAILURE(require_tool(tool));
  auto dir = make_temp_dir("tshark");
  auto secret_file = write_secret_file(dir / "secret", "tshark-secret");
  auto secret = load_secret(secret_file);
  rks_instance rks{dir, secret_file};
  std::string log;
  ASSERT_TRUE(rks.start(&log)) << log;
  capture cap{dir, rks.port()};
  ASSERT_TRUE(cap.started()) << cap.log();
  const std::string decode_as = "-d udp.port==" + std::to_string(rks.port()) + ",radius";

  boost::asio::io_context io;
  accounting_client_options o;
  o.primary = {rks.endpoint(), secret};
  o.retry_interval = 2000ms;
  o.bind_address = boost::asio::ip::address_v4::loopback();
  auto client = accounting_client::create(io, o);

  // Warm-up: probe until the capture file shows traffic, so no EM goes out before it listens.
  bool seen = false;
  for (int i = 0; i < 50 && !seen; ++i) {
    bool answered = false;
    client->status_server({rks.endpoint(), secret}, [&](auto&) { answered = true; });
    ASSERT_TRUE(run_until(io, [&] { return answered; }));
    seen = !cap.read(decode_as + " -Y 'radius.code == 12'").empty();
  }
  ASSERT_TRUE(seen) << "tshark captured nothing: " << cap.log();

  struct sent {
    em_type type;
    std::uint32_t sequence, counter;
    std::size_t attributes;
  };
  const em_type types[] = {em_type::signaling_start,
                           em_type::qos_reserve,
                           em_type::qos_commit,
                           em_type::call_answer,
                           em_type::interconnect_signaling_start,
                           em_type::call_disconnect,
                           em_type::qos_release,
                           em_type::interconnect_signaling_stop,
                           em_type::signaling_stop,
                           em_type::time_change};
  std::map<std::uint32_t, sent> by_sequence;
  std::vector<send_result> done;
  std::uint32_t seq = 5000;
  for (auto t : types) {
    auto em = sample_em(t, seq, 3000 + seq);
    by_sequence[seq] = {t, seq, 3000 + seq, em.attributes.size()};
    client->send(std::to_string(seq), em, [&](auto& r) { done.push_back(r); });
    ++seq;
  }
  ASSERT_TRUE(run_until(io, [&] { return done.size() == std::size(types); }));
  for (auto& r : done)
    ASSERT_TRUE(r.ok) << r.record_key << ": " << r.error;
  // Wait until every Accounting-Response is in the file, then stop the capture.
  bool all = false;
  for (int i = 0; i < 100 && !all; ++i) {
    all = rows(cap.read(decode_as + " -Y 'radius.code == 5'")).size() >= std::size(types) + 1;
    if (!all) {
      bool answered = false;
      client->status_server({rks.endpoint(), secret}, [&](auto&) { answered = true; });
      run_until(io, [&] { return answered; });
    }
  }
  cap.stop();
  ASSERT_TRUE(all) << "not every response was captured";

  const std::string opts = decode_as + " -o radius.shared_secret:" + secret;
  int rc = -1;
  auto problems = cap.read(opts + " -Y '_ws.malformed || _ws.expert'", &rc);
  ASSERT_EQ(rc, 0) << "tshark could not apply the filter";
  EXPECT_TRUE(rows(problems).empty()) << "tshark flags:\n"
                                      << cap.read(opts + " -Y '_ws.malformed || _ws.expert' -V");

  rc = -1;
  auto ems = rows(cap.read(
    opts + " -Y 'radius.code == 4' -T fields -e packetcable_avps.emh.sn"
           " -e packetcable_avps.emh.emt -e packetcable_avps.bcid.ec -e packetcable_avps.bcid.ts"
           " -e packetcable_avps.emh.element_id -e packetcable_avps.bcid.element_id"
           " -e packetcable_avps.emh.et -e packetcable_avps.emh.event_time"
           " -e packetcable_avps.emh.ac -e packetcable_avps.emh.vid -e radius.Acct_Status_Type"
           " -e packetcable_avps.ctc.cc -e packetcable_avps.tgid.tn",
    &rc));
  ASSERT_EQ(rc, 0) << "tshark rejected a field name";
  // A loaded machine may retransmit one: every row must match, and every EM must be there.
  ASSERT_GE(ems.size(), std::size(types));
  std::set<std::uint32_t> decoded;
  for (const auto& r : ems) {
    ASSERT_GE(r.size(), 11u);
    auto it = by_sequence.find(static_cast<std::uint32_t>(std::stoul(r[0])));
    ASSERT_NE(it, by_sequence.end()) << r[0];
    const auto& s = it->second;
    decoded.insert(s.sequence);
    EXPECT_EQ(r[1], std::to_string(static_cast<int>(s.type))) << "sequence " << s.sequence;
    EXPECT_EQ(r[2], std::to_string(s.counter));
    EXPECT_EQ(r[3], "1767268800");
    EXPECT_EQ(r[4], "   12345");
    EXPECT_EQ(r[5], "   12345");
    EXPECT_EQ(r[6], "1");
    EXPECT_EQ(r[7], "20260101120000.250");
    EXPECT_EQ(r[8], std::to_string(s.attributes));
    EXPECT_EQ(r[9], "1");
    EXPECT_EQ(r[10], std::to_string(static_cast<int>(acct_status_for(s.type))));
    if (s.type == em_type::signaling_stop) {
      EXPECT_EQ(r.size() > 11 ? r[11] : "", "16");
    }
    if (s.type == em_type::interconnect_signaling_start) {
      EXPECT_EQ(r.size() > 12 ? r[12] : "", "42");
    }
  }
  EXPECT_EQ(decoded.size(), std::size(types));
  rks.stop();
  EXPECT_EQ(rks.count(), static_cast<long>(std::size(types)));
  if (!::testing::Test::HasFailure()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
}
