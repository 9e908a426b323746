// Exactly once at the RKS across a failover of the pair: two real cmsd processes, mtasim placing
// calls, and the real RKS (FreeRADIUS, config/rks) storing the pair's Event Messages. Each node
// reaches the RKS through a UDP relay of its own (a transparent hop that tells which node sent
// which EM). A call is released while the RKS cannot take its EMs (hung: SIGSTOP; or down), so its
// records sit in the active's outbox (and, replicated, in the standby's); the active is killed
// with SIGKILL; the standby takes over and delivers them. The RKS ends up with every EM of every
// record exactly once, and the new active resumed after the position the RKS had acknowledged
// (replicated from the old active) instead of re-sending everything.

#include "billing_rig.hpp"
#include "integration/replication/replication_harness.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace cms::test;
using namespace std::chrono_literals;
namespace rit = cms::radius::itest;

namespace {

std::size_t idle_lines(replication_pair& p, int i) {
  return p.items(i, "/endpoints?state=idle&limit=1000").size();
}

class billing_failover : public ::testing::Test {
protected:
  replication_pair p;
  std::string secret_file;
  std::unique_ptr<rit::rks_instance> rks;
  /// The path from node i to the RKS.
  std::unique_ptr<udp_relay> relay[2];
  /// The far end of the primary data link: the RKS is reached over that link.
  std::unique_ptr<udp_echo> primary_far_end;
  std::uint16_t primary_far_end_port = 0;

  void start_rks() {
    std::string log;
    ASSERT_TRUE(rks->start(&log)) << log;
  }

  /// SIGSTOP / SIGCONT to the running FreeRADIUS (its pid file from scripts/lib/rks.sh).
  void signal_rks(int sig) {
    std::ifstream in{rks->run_dir() + "/pid"};
    pid_t pid = 0;
    ASSERT_TRUE(in >> pid) << "no pid file in " << rks->run_dir();
    ASSERT_EQ(::kill(pid, sig), 0);
  }
  bool rks_stopped = false;

  /// Record ids of a node's outbox (all, or only the unsent ones).
  std::set<std::string> outbox_ids(int i, bool unsent_only = false) {
    auto db = cms::persistence::database::open(p.db_file(i));
    auto q = db.prepare(std::string{"SELECT record_id FROM billing_outbox"} +
                        (unsent_only ? " WHERE sent = 0" : ""));
    std::set<std::string> out;
    while (q.step())
      out.insert(q.column_text(0));
    return out;
  }
  std::uint64_t max_sequence(int i, const std::string& call_id) {
    auto db = cms::persistence::database::open(p.db_file(i));
    auto q = db.prepare("SELECT coalesce(max(sequence), 0) FROM billing_outbox WHERE call_id = ?");
    q.bind(1, call_id);
    q.step();
    return static_cast<std::uint64_t>(q.column_int64(0));
  }
  std::size_t records_of(const std::set<std::string>& ids, const std::string& call_id) {
    std::size_t n = 0;
    for (auto& id : ids)
      n += id.rfind(call_id + ":", 0) == 0;
    return n;
  }
  /// The EMs the records of node i's outbox make (the EM choice does not depend on the element
  /// id, which the keys leave out).
  std::set<std::string> expected_ems(int i) {
    auto db = cms::persistence::database::open(p.db_file(i));
    cms::persistence::outbox outbox{db};
    auto ids = outbox_ids(i);
    cms::billing::em_identity identity;
    identity.element_id = "PAIR1";
    return expected_em_keys(outbox, {ids.begin(), ids.end()}, identity);
  }

  std::string logs() {
    return p.logs() + "\n--- rks ---\n" +
           rit::shell("cat " + rit::quote(rks->run_dir() + "/radius.log") + " 2>/dev/null");
  }

  /// A completed call (answered, then hung up by line 1): its id.
  std::string call_and_release() {
    auto id = p.connect_call(0, 1, "5551003");
    if (id.empty() || p.ctl("onhook 1") != "ok")
      return {};
    eventually([&] { return p.billing_count(0, id, "signaling_stop") == 1; });
    eventually([&] { return idle_lines(p, 0) == 4; });
    return id;
  }

  /// Both stores provisioned as config/provisioning.toml, but with the primary data link's far
  /// end on a free port (a probe responder this test runs): the forwarder uses the primary path.
  void provision_with_primary_link() {
    primary_far_end_port = free_port(SOCK_DGRAM);
    std::ifstream in{std::string{CMS_SOURCE_DIR} + "/config/provisioning.toml"};
    std::stringstream text;
    text << in.rdbuf();
    auto toml = std::regex_replace(
      text.str(), std::regex{R"(remote_address = "127\.0\.0\.51"\nremote_port = 5010)"},
      "remote_address = \"127.0.0.51\"\nremote_port = " + std::to_string(primary_far_end_port));
    ASSERT_NE(toml, text.str()) << "config/provisioning.toml: primary data link not found";
    auto file = p.dir.path() / "provisioning.toml";
    std::ofstream{file} << toml;
    for (int i = 0; i < 2; ++i) {
      for (auto* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(p.db_file(i).string() + suffix);
      auto cmd = std::string{CMS_BINARY_DIR "/cmsd --provision "} + file.string() + " " +
                 p.db_file(i).string() + " >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    primary_far_end = std::make_unique<udp_echo>("127.0.0.51", primary_far_end_port);
  }

  /// cms_billing_forwarder_path of node i (1: primary), -1 when unknown.
  int forwarder_path(int i) {
    auto body = http_body(http_get(p.ports[i].http, "/metrics"));
    std::smatch m;
    static const std::regex re{R"(\ncms_billing_forwarder_path (\d+))"};
    return std::regex_search(body, m, re) ? std::stoi(m[1]) : -1;
  }

  /// The [billing] section of node i: its RKS address is its relay; the new keys of EMs over
  /// RADIUS (secret file, retry rule, element id shared by the pair).
  std::string billing_config(int i) {
    return "[billing]\nrks_primary = \"127.0.0.1:" + std::to_string(relay[i]->port()) +
           "\"\nsecret_file = \"" + secret_file +
           "\"\nretry_interval_ms = 200\nretry_count = 1\nbatch_size = 10\n"
           "element_id = \"PAIR1\"\n";
  }

  void SetUp() override {
    for (auto* tool : {"freeradius", "radclient", "sqlite3"})
      rit::require_tool(tool);
    if (HasFatalFailure())
      return;
    provision_with_primary_link();
    if (HasFatalFailure())
      return;
    secret_file = rit::write_secret_file(p.dir.path() / "rks.secret", "pair-failover-secret");
    std::filesystem::create_directories(p.dir.path() / "rks");
    rks = std::make_unique<rit::rks_instance>(p.dir.path() / "rks", secret_file);
    start_rks();
    if (HasFatalFailure())
      return;
    for (int i = 0; i < 2; ++i)
      relay[i] = std::make_unique<udp_relay>(rks->port());
    p.extra_config = billing_config(0);
    p.start(0);
    ASSERT_TRUE(eventually([&] { return p.role(0) == "active"; }, 15s)) << logs();
    p.extra_config = billing_config(1);
    p.start(1);
    ASSERT_TRUE(eventually([&] { return p.role(0) == "active" && p.role(1) == "standby"; }, 15s))
      << logs();
    p.start_sim(2);
    ASSERT_TRUE(eventually([&] { return idle_lines(p, 0) == 4; }, 15s)) << logs();
    ASSERT_TRUE(eventually([&] { return forwarder_path(0) == 1 && forwarder_path(1) == 1; }, 15s))
      << "the primary data link did not come up\n"
      << logs();
  }

  void TearDown() override {
    if (rks_stopped)
      signal_rks(SIGCONT); // so that rks_stop can end it
  }

  /// The first call is delivered while everything is up, and the standby learns the RKS position
  /// (its outbox marks the records sent). Returns the call id.
  std::string delivered_call() {
    auto id = call_and_release();
    EXPECT_FALSE(id.empty()) << logs();
    EXPECT_TRUE(eventually(
      [&] { return records_of(outbox_ids(0), id) >= 3 && outbox_ids(0, true).empty(); }, 10s))
      << logs();
    EXPECT_TRUE(
      eventually([&] { return !outbox_ids(1).empty() && outbox_ids(1, true).empty(); }, 10s))
      << "the standby did not learn the RKS position\n"
      << logs();
    EXPECT_GE(rks->count(), 8) << "an answered call makes 8 EMs";
    return id;
  }

  /// After the takeover: the RKS holds every EM of every record of B's outbox once (and nothing
  /// else), B has nothing left, and B never re-sent the records acknowledged before the kill.
  void check_exactly_once(const std::string& first, const std::string& second) {
    ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << logs();
    ASSERT_TRUE(eventually([&] { return outbox_ids(1, true).empty(); }, 30s))
      << "B did not deliver its backlog\n"
      << logs();
    auto ids = outbox_ids(1);
    EXPECT_GE(records_of(ids, first), 3u);
    EXPECT_GE(records_of(ids, second), 3u);
    auto expected = expected_ems(1);
    // B's outbox holds A's records, replicated: both calls' EMs, 8 each at least.
    EXPECT_GE(expected.size(), 16u);
    // The batch window of the order check: one batch of 10 in flight per node, and after the
    // takeover A's last unanswered batch may still be read by the RKS beside B's.
    EXPECT_TRUE(rks_holds_exactly(*rks, expected, 2 * 10)) << logs();
    // B resumed after the replicated position: none of the EMs it sent belongs to the first
    // call's records, which the RKS had acknowledged to A.
    const auto acked_before_kill = max_sequence(1, first);
    const auto from_b = relay[1]->em_sequences();
    EXPECT_GE(from_b.size(), 1u) << "B sent nothing";
    for (auto seq : from_b)
      EXPECT_GT(seq / cms::billing::em_slots_per_record, acked_before_kill)
        << "B re-sent an EM of a record the RKS had acknowledged to A (EM sequence " << seq << ")";
  }
};

TEST_F(billing_failover,
       rks_hung_at_release_then_kill_9_of_the_active_each_record_reaches_the_rks_once) {
  auto first = delivered_call();
  ASSERT_FALSE(first.empty());
  // The RKS hangs (SIGSTOP): A's next EMs are sent and never answered.
  signal_rks(SIGSTOP);
  rks_stopped = true;
  const auto a_sent = relay[0]->requests.load();
  auto second = call_and_release();
  ASSERT_FALSE(second.empty()) << logs();
  ASSERT_EQ(p.billing_count(1, second, "signaling_stop"), 1u) << "replicated before release";
  ASSERT_GE(records_of(outbox_ids(0, true), second), 3u) << "the records sit in A's outbox";
  ASSERT_TRUE(eventually([&] { return relay[0]->requests > a_sent; }))
    << "A sent the second call's EMs to the hung RKS";
  p.nodes[0]->signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << logs();
  // The RKS resumes: it still reads A's last requests from its socket, and B sends the same EMs;
  // each is stored once.
  signal_rks(SIGCONT);
  rks_stopped = false;
  check_exactly_once(first, second);
}

TEST_F(billing_failover,
       rks_down_at_release_then_kill_9_of_the_active_each_record_reaches_the_rks_once) {
  auto first = delivered_call();
  ASSERT_FALSE(first.empty());
  rks->stop(); // nothing answers: the EMs time out, the records accumulate
  auto second = call_and_release();
  ASSERT_FALSE(second.empty()) << logs();
  ASSERT_EQ(p.billing_count(1, second, "signaling_stop"), 1u) << "replicated before release";
  ASSERT_GE(records_of(outbox_ids(0, true), second), 3u) << "the records sit in A's outbox";
  p.nodes[0]->signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << logs();
  start_rks(); // back on the same port, with its table
  ASSERT_FALSE(HasFatalFailure());
  check_exactly_once(first, second);
}

} // namespace
