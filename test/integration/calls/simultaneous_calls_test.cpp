// 200 simultaneous calls with RTP flowing both ways, over real UDP between the real programs:
// cmsd (standalone node, provisioned from a generated TOML file, billing into its SQLite outbox)
// and mtasim (100 MTAs x 4 lines, driven through its control port). Lines 1..200 call lines
// 201..400; the callees answer by themselves. The test holds every call up until all 200 are
// connected at once and every leg has received RTP from its partner's negotiated address, then
// hangs all callers up and checks the aftermath: no call left, every line idle on both sides,
// three billing rows per call with cause 16 and both legs' connection statistics.

#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "support/mtasim_control.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

constexpr int mtas = 100;
constexpr int lines_per_mta = 4;
constexpr int lines = mtas * lines_per_mta;
constexpr int calls = lines / 2;
constexpr std::uint64_t dn_base = 5551001;

boost::json::object get_json(std::uint16_t port, const std::string& path) {
  boost::system::error_code ec;
  auto v = boost::json::parse(http_body(http_get(port, path)), ec);
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

std::int64_t listing_total(std::uint16_t port, const std::string& path) {
  auto o = get_json(port, path);
  auto* t = o.if_contains("total");
  return t ? t->to_number<std::int64_t>() : -1;
}

std::int64_t counter(std::uint16_t port, const std::string& name) {
  auto o = get_json(port, "/status");
  auto* c = o.if_contains("counters");
  if (!c || !c->is_object())
    return -1;
  auto* v = c->as_object().if_contains(name);
  return v ? static_cast<std::int64_t>(v->to_number<double>()) : -1;
}

bool has_signal(const boost::json::object& line, const std::string& name) {
  if (auto* s = line.if_contains("signals"))
    for (auto& sig : s->as_array())
      if (std::string{sig.as_string().c_str()}.find(name) != std::string::npos)
        return true;
  return false;
}

/// The line's only connection, or null.
const boost::json::object* only_connection(const boost::json::object& line) {
  auto* c = line.if_contains("connections");
  if (!c || c->as_array().size() != 1)
    return nullptr;
  return &c->as_array()[0].as_object();
}

std::int64_t rtp(const boost::json::object& conn, const char* what) {
  return conn.at("rtp").at(what).to_number<std::int64_t>();
}

class simultaneous_calls : public ::testing::Test {
protected:
  temp_dir dir;
  std::uint16_t http_port = free_port();
  std::uint16_t mgcp_port = free_port(SOCK_DGRAM);
  std::filesystem::path db_file = dir.path() / "data" / "cms.db";
  std::unique_ptr<child_process> node;
  std::unique_ptr<child_process> sim;
  std::unique_ptr<mtasim_control> ctl;

  void SetUp() override {
    std::filesystem::create_directories(dir.path() / "data");
    auto toml = dir.path() / "provisioning.toml";
    {
      std::ofstream out{toml};
      std::uint64_t dn = dn_base;
      for (int m = 1; m <= mtas; ++m) {
        char fqdn[64];
        std::snprintf(fqdn, sizeof fqdn, "mta-%04d.cable.example", m);
        for (int l = 1; l <= lines_per_mta; ++l)
          out << "[[subscriber]]\ndirectory_number = \"" << dn++ << "\"\nendpoint_name = \"aaln/"
              << l << "@" << fqdn << "\"\nmta_fqdn = \"" << fqdn
              << "\"\nmta_address = \"127.0.0.1\"\n\n";
      }
    }
    child_process provision{
      {CMS_BINARY_DIR "/cmsd", "--provision", toml.string(), db_file.string()},
      dir.path() / "provision.out"};
    ASSERT_EQ(provision.wait_exit(60s), 0) << provision.output();

    auto config = dir.path() / "node.toml";
    {
      std::ofstream out{config};
      out << "[node]\nid = \"calls-200\"\ncluster_id = \"calls-200\"\ndata_dir = \"data\"\n"
          << "[mgcp]\nbind = \"127.0.0.1\"\nport = " << mgcp_port << "\n"
          << "[http]\nbind = \"127.0.0.1\"\nport = " << http_port
          << "\n"
          // A peer that never answers: the node goes active alone after its discovery window.
          << "[peer]\naddress = \"127.0.0.1\"\nport = " << free_port()
          << "\nlisten_address = \"127.0.0.1\"\n"
          << "listen_port = 0\nudp_heartbeat_port = " << free_port(SOCK_DGRAM)
          << "\npeer_udp_heartbeat_port = " << free_port(SOCK_DGRAM)
          << "\nheartbeat_interval_ms = 100\nheartbeat_misses = 3\n"
          << "[log]\nlevel = \"warn\"\n";
    }
    node = std::make_unique<child_process>(
      std::vector<std::string>{CMS_BINARY_DIR "/cmsd", "--config", config.string()},
      dir.path() / "cmsd.out");
    ASSERT_TRUE(eventually([&] { return get_json(http_port, "/status")["role"] == "active"; }, 60s))
      << node->output();
    ASSERT_TRUE(
      eventually([&] { return counter(http_port, "cms_endpoints_total") == lines; }, 60s));

    sim = std::make_unique<child_process>(
      std::vector<std::string>{
        CMS_BINARY_DIR "/mtasim", "--ca", "127.0.0.1:" + std::to_string(mgcp_port), "--mtas",
        std::to_string(mtas), "--lines", std::to_string(lines_per_mta), "--base-port", "0",
        "--control", "0", "--answer", "auto", "--answer-delay", "100", "--hangup-delay", "50"},
      dir.path() / "mtasim.out");
    std::uint16_t control_port = 0;
    ASSERT_TRUE(eventually(
      [&] {
        std::smatch m;
        auto text = sim->output();
        static const std::regex re{"mtasim: control [0-9.]+:([0-9]+)"};
        if (!std::regex_search(text, m, re) || text.find("mtasim: ready") == std::string::npos)
          return false;
        control_port = static_cast<std::uint16_t>(std::stoi(m[1]));
        return true;
      },
      30s))
      << sim->output();
    ctl = std::make_unique<mtasim_control>(control_port);
  }

  void TearDown() override {
    ctl.reset();
    if (sim)
      sim->signal(SIGTERM), sim->wait_exit(10s);
    if (node)
      node->signal(SIGTERM), node->wait_exit(20s);
  }

  std::string diagnostics() {
    return "--- cmsd ---\n" + node->output() + "\n--- mtasim ---\n" + sim->output();
  }
};

TEST_F(simultaneous_calls, two_hundred_calls_at_once_with_rtp_both_ways_then_released_and_billed) {
  // Every line registered and armed for off-hook, on the node and in the simulator.
  ASSERT_TRUE(eventually(
    [&] { return listing_total(http_port, "/endpoints?state=idle&limit=1") == lines; }, 60s))
    << "idle lines: " << listing_total(http_port, "/endpoints?state=idle&limit=1") << "\n"
    << diagnostics();
  for (int i = 1; i <= lines; ++i)
    ASSERT_TRUE(eventually(
      [&] {
        auto s = ctl->status(i);
        return s.contains("registered") && s.at("registered") == true &&
               s.contains("awaiting_request") && s.at("awaiting_request") == false;
      },
      20s))
      << "line " << i;

  // Callers 1..200 go off hook together, wait for dial tone, then dial callee 200 + i.
  for (int i = 1; i <= calls; ++i)
    ASSERT_EQ(ctl->request("offhook " + std::to_string(i)), "ok");
  for (int i = 1; i <= calls; ++i)
    ASSERT_TRUE(eventually([&] { return has_signal(ctl->status(i), "dl"); }, 30s))
      << "no dial tone on line " << i;
  for (int i = 1; i <= calls; ++i)
    ASSERT_EQ(
      ctl->request("dial " + std::to_string(i) + " " + std::to_string(dn_base + calls + i - 1)),
      "ok");

  // All 200 connected at once on the node (nobody hangs up before the test says so).
  ASSERT_TRUE(eventually(
    [&] { return listing_total(http_port, "/calls?state=connected&limit=1") == calls; }, 60s))
    << "connected: " << listing_total(http_port, "/calls?state=connected&limit=1")
    << " active: " << counter(http_port, "cms_calls_active") << "\n"
    << diagnostics();
  EXPECT_EQ(counter(http_port, "cms_calls_active"), calls);
  // A line turns in_call when its MTA confirms the connected request, just after the call does.
  EXPECT_TRUE(eventually(
    [&] { return listing_total(http_port, "/endpoints?state=in_call&limit=1") == lines; }, 30s))
    << listing_total(http_port, "/endpoints?state=in_call&limit=1");

  // Media, call by call: each leg sends to the address its partner's SDP gave and receives from
  // the partner (at least 10 packets = 200 ms of G.711 each way).
  for (int i = 1; i <= calls; ++i) {
    int callee = calls + i;
    std::int64_t a_rx = 0, b_rx = 0;
    ASSERT_TRUE(eventually(
      [&] {
        auto a = ctl->status(i), b = ctl->status(callee);
        auto *ca = only_connection(a), *cb = only_connection(b);
        if (!ca || !cb || ca->at("mode") != "sendrecv" || cb->at("mode") != "sendrecv")
          return false;
        if (ca->at("call_id") != cb->at("call_id"))
          return false;
        auto port_of = [](const boost::json::object& c) {
          return "127.0.0.1:" + std::to_string(c.at("local_port").to_number<std::int64_t>());
        };
        if (ca->at("remote") != port_of(*cb).c_str() || cb->at("remote") != port_of(*ca).c_str())
          return false;
        a_rx = rtp(*ca, "received");
        b_rx = rtp(*cb, "received");
        return a_rx >= 10 && b_rx >= 10 && rtp(*ca, "sent") >= 10 && rtp(*cb, "sent") >= 10;
      },
      30s))
      << "call " << i << " -> " << callee << ": caller received " << a_rx << ", callee received "
      << b_rx << "\n"
      << ctl->status(i) << "\n"
      << ctl->status(callee);
  }
  // Still all up together after the media check.
  EXPECT_EQ(listing_total(http_port, "/calls?state=connected&limit=1"), calls);

  // Every caller hangs up; the node deletes both connections and the callees hang up in turn.
  for (int i = 1; i <= calls; ++i)
    ASSERT_EQ(ctl->request("onhook " + std::to_string(i)), "ok");
  ASSERT_TRUE(eventually([&] { return counter(http_port, "cms_calls_active") == 0; }, 60s))
    << counter(http_port, "cms_calls_active");
  EXPECT_EQ(listing_total(http_port, "/calls?limit=1"), 0);
  ASSERT_TRUE(eventually(
    [&] { return listing_total(http_port, "/endpoints?state=idle&limit=1") == lines; }, 60s))
    << "idle lines: " << listing_total(http_port, "/endpoints?state=idle&limit=1");
  for (int i = 1; i <= lines; ++i)
    ASSERT_TRUE(eventually(
      [&] {
        auto s = ctl->status(i);
        // Lookups only: operator[] would insert a missing key and move `c`'s storage.
        auto* hook = s.if_contains("hook");
        auto* awaiting = s.if_contains("awaiting_request");
        auto* c = s.if_contains("connections");
        return hook && *hook == "on" && c && c->as_array().empty() && awaiting &&
               *awaiting == false;
      },
      20s))
      << "line " << i << ": " << ctl->status(i);

  // The simulator's totals: 400 media streams, nothing malformed.
  boost::system::error_code ec;
  auto report = boost::json::parse(ctl->request("report"), ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(report.at("rtp").at("streams").to_number<std::int64_t>(), lines) << report;
  EXPECT_EQ(report.at("rtp").at("invalid_received").to_number<std::int64_t>(), 0) << report;

  // Billing: stop the node (the outbox is group-committed; SIGTERM flushes) and read its store.
  node->signal(SIGTERM);
  ASSERT_TRUE(node->wait_exit(30s).has_value());
  auto db = cms::persistence::database::open(db_file);
  auto rows = cms::persistence::outbox{db}.pending(10 * calls);
  std::map<std::string, std::vector<cms::billing::billing_record>> by_call;
  for (auto& r : rows)
    by_call[r.call_id].push_back(r);
  ASSERT_EQ(by_call.size(), static_cast<std::size_t>(calls));
  std::set<std::string> callers, callees;
  for (auto& [id, recs] : by_call) {
    ASSERT_EQ(recs.size(), 3u) << id;
    EXPECT_EQ(recs[0].event, "signaling_start") << id;
    EXPECT_EQ(recs[1].event, "call_answer") << id;
    EXPECT_EQ(recs[2].event, "signaling_stop") << id;
    EXPECT_EQ(recs[2].release_cause, 16) << id;
    // Both legs' DLCX statistics (P:): each leg sent and received media.
    static const std::regex leg{"(orig|term): PS=([0-9]+), OS=[0-9]+, PR=([0-9]+)"};
    int legs_with_media = 0;
    auto& stats = recs[2].connection_stats;
    for (std::sregex_iterator m{stats.begin(), stats.end(), leg}, end; m != end; ++m)
      if (std::stoll((*m)[2]) >= 10 && std::stoll((*m)[3]) >= 10)
        ++legs_with_media;
    EXPECT_EQ(legs_with_media, 2) << stats;
    callers.insert(recs[2].calling_number);
    callees.insert(recs[2].called_number);
  }
  EXPECT_EQ(callers.size(), static_cast<std::size_t>(calls));
  EXPECT_EQ(callees.size(), static_cast<std::size_t>(calls));
}

// A standalone node stopped (SIGTERM) with calls up has nobody to hand them to: before it closes
// its MGCP socket and its billing outbox it ends them, so that the MTAs hold no orphan connection
// and every call has its signaling_stop record (before, the records were lost: "no outbox").
TEST_F(simultaneous_calls,
       a_node_stopped_alone_with_calls_up_deletes_their_connections_and_bills_every_stop) {
  constexpr int up = 10;
  ASSERT_TRUE(eventually(
    [&] { return listing_total(http_port, "/endpoints?state=idle&limit=1") == lines; }, 60s))
    << diagnostics();
  for (int i = 1; i <= up; ++i)
    for (int l : {i, calls + i})
      ASSERT_TRUE(eventually(
        [&] {
          auto s = ctl->status(l);
          return s.contains("registered") && s.at("registered") == true &&
                 s.contains("awaiting_request") && s.at("awaiting_request") == false;
        },
        20s))
        << "line " << l;
  for (int i = 1; i <= up; ++i) {
    ASSERT_EQ(ctl->request("offhook " + std::to_string(i)), "ok");
    ASSERT_TRUE(eventually([&] { return has_signal(ctl->status(i), "dl"); }, 30s))
      << "no dial tone on line " << i;
    ASSERT_EQ(
      ctl->request("dial " + std::to_string(i) + " " + std::to_string(dn_base + calls + i - 1)),
      "ok");
  }
  ASSERT_TRUE(eventually(
    [&] { return listing_total(http_port, "/calls?state=connected&limit=1") == up; }, 60s))
    << diagnostics();
  for (int i = 1; i <= up; ++i)
    for (int l : {i, calls + i})
      ASSERT_TRUE(eventually(
        [&] {
          auto s = ctl->status(l);
          auto* c = only_connection(s);
          return c && c->at("mode") == "sendrecv";
        },
        30s))
        << "line " << l << ": " << ctl->status(l);

  node->signal(SIGTERM);
  ASSERT_EQ(node->wait_exit(30s), 0) << node->output();
  EXPECT_NE(node->output().find("event=ending_calls_at_stop calls=" + std::to_string(up)),
            std::string::npos)
    << node->output();
  // Every leg's connection was deleted on its MTA before the node went.
  for (int i = 1; i <= up; ++i)
    for (int l : {i, calls + i}) {
      auto s = ctl->status(l);
      auto* c = s.if_contains("connections");
      EXPECT_TRUE(c && c->as_array().empty()) << "line " << l << ": " << s;
    }
  // Three records per call, the last a stop with cause 41, and nothing else.
  auto db = cms::persistence::database::open(db_file);
  auto rows = cms::persistence::outbox{db}.pending(10 * up);
  std::map<std::string, std::vector<cms::billing::billing_record>> by_call;
  for (auto& r : rows)
    by_call[r.call_id].push_back(r);
  ASSERT_EQ(by_call.size(), static_cast<std::size_t>(up));
  for (auto& [id, recs] : by_call) {
    ASSERT_EQ(recs.size(), 3u) << id;
    EXPECT_EQ(recs[1].event, "call_answer") << id;
    EXPECT_EQ(recs[2].event, "signaling_stop") << id;
    EXPECT_EQ(recs[2].release_cause, 41) << id;
  }
}

} // namespace
