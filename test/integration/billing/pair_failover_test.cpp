// Exactly once at the RKS across a failover of the pair: two real cmsd processes,
// mtasim placing calls, and the real `rks` collector over TLS. A call is released while the RKS
// cannot take its records (hung: SIGSTOP; or down), so they sit in the active's outbox (and,
// replicated, in the standby's); the active is killed with SIGKILL; the standby takes over and
// delivers them. The RKS ends up with every record of every call exactly once, and the new active
// resumed after the position the RKS had acknowledged (replicated from the old active) instead
// of re-sending everything.

#include "billing_rig.hpp"
#include "integration/replication/replication_harness.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <map>
#include <regex>
#include <set>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

std::size_t idle_lines(replication_pair& p, int i) {
  return p.items(i, "/endpoints?state=idle&limit=1000").size();
}

/// One batch line of the RKS log, with the sending node.
struct node_batch {
  std::string node;
  std::uint64_t first = 0, last = 0, fresh = 0, duplicates = 0;
};

std::vector<node_batch> batches_by_node(const std::string& log) {
  static const std::regex line{
    R"(batch from node (\S+) \([^)]*\): sequences (\d+)\.\.(\d+), (\d+) new, (\d+) duplicates)"};
  std::vector<node_batch> out;
  for (std::sregex_iterator it{log.begin(), log.end(), line}, end; it != end; ++it)
    out.push_back({(*it)[1], std::stoull((*it)[2]), std::stoull((*it)[3]), std::stoull((*it)[4]),
                   std::stoull((*it)[5])});
  return out;
}

class billing_failover : public ::testing::Test {
protected:
  replication_pair p;
  std::unique_ptr<rks_program> rks;
  std::uint16_t rks_port = 0;
  /// The far end of the primary data link (`rks probe`): the RKS is reached over that link.
  std::unique_ptr<rks_program> primary_far_end;

  std::string rks_bin() const { return std::string{CMS_BINARY_DIR} + "/rks"; }
  std::string rks_db() const { return (p.dir.path() / "rks.db").string(); }
  std::string cert(const std::string& f) const { return (p.dir.path() / "certs" / f).string(); }

  /// Starts `rks serve` (on its previous port when it ran before).
  void start_rks() {
    rks = std::make_unique<rks_program>(
      std::vector<std::string>{"serve", "--listen", "127.0.0.1:" + std::to_string(rks_port), "--db",
                               rks_db(), "--cert", cert("rks.crt"), "--key", cert("rks.key"),
                               "--ca", cert("ca.crt")},
      p.dir.path() / "rks.port", p.dir.path() / ("rks-" + std::to_string(++rks_starts) + ".log"));
    ASSERT_NE(rks->port(), 0) << rks->log();
    rks_port = rks->port();
  }

  /// record_id -> times the RKS holds it (from its JSON export).
  std::map<std::string, int> at_rks() {
    std::map<std::string, int> out;
    auto text =
      run_command("'" + rks_bin() + "' export --format json --db '" + rks_db() + "' 2>/dev/null");
    auto v = parse_json(text);
    if (!v.is_array())
      return out;
    for (auto& r : v.as_array())
      ++out[std::string(r.at("record_id").as_string())];
    return out;
  }
  long long rks_count() {
    auto out = run_command("'" + rks_bin() + "' count --db '" + rks_db() + "' 2>/dev/null");
    try {
      return std::stoll(out);
    } catch (...) {
      return -1;
    }
  }

  /// Record ids of a node's outbox (all, or only the unsent ones) and the highest sequence.
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

  std::string logs() { return p.logs() + "\n--- rks ---\n" + (rks ? rks->log() : std::string{}); }

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
  /// end on a free port (a probe responder this test starts): the forwarder uses the primary path.
  void provision_with_primary_link() {
    auto port = free_port(SOCK_DGRAM);
    std::ifstream in{std::string{CMS_SOURCE_DIR} + "/config/provisioning.toml"};
    std::stringstream text;
    text << in.rdbuf();
    auto toml = std::regex_replace(
      text.str(), std::regex{R"(remote_address = "127\.0\.0\.51"\nremote_port = 5010)"},
      "remote_address = \"127.0.0.51\"\nremote_port = " + std::to_string(port));
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
    primary_far_end = std::make_unique<rks_program>(
      std::vector<std::string>{"probe", "--listen", "127.0.0.51:" + std::to_string(port)},
      p.dir.path() / "probe.port", p.dir.path() / "probe.log");
    ASSERT_NE(primary_far_end->port(), 0) << primary_far_end->log();
  }

  /// cms_billing_forwarder_path of node i (1: primary), -1 when unknown.
  int forwarder_path(int i) {
    auto body = http_body(http_get(p.ports[i].http, "/metrics"));
    std::smatch m;
    static const std::regex re{R"(\ncms_billing_forwarder_path (\d+))"};
    return std::regex_search(body, m, re) ? std::stoi(m[1]) : -1;
  }

  void SetUp() override {
    provision_with_primary_link();
    if (HasFatalFailure())
      return;
    start_rks();
    p.extra_config =
      "[billing]\nrks_primary = \"127.0.0.1:" + std::to_string(rks_port) + "\"\nbatch_size = 10\n";
    p.start(0);
    ASSERT_TRUE(eventually([&] { return p.role(0) == "active"; }, 15s)) << logs();
    p.start(1);
    ASSERT_TRUE(eventually([&] { return p.role(0) == "active" && p.role(1) == "standby"; }, 15s))
      << logs();
    p.start_sim(2);
    ASSERT_TRUE(eventually([&] { return idle_lines(p, 0) == 4; }, 15s)) << logs();
    ASSERT_TRUE(eventually([&] { return forwarder_path(0) == 1 && forwarder_path(1) == 1; }, 15s))
      << "the primary data link did not come up\n"
      << logs();
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
    return id;
  }

  /// After the takeover: the RKS holds every record of both outboxes once, B has nothing left,
  /// and B never re-sent the records acknowledged before the kill.
  void check_exactly_once(const std::string& first, const std::string& second) {
    ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << logs();
    ASSERT_TRUE(eventually([&] { return outbox_ids(1, true).empty(); }, 20s))
      << "B did not deliver its backlog\n"
      << logs();
    auto ids = outbox_ids(1);
    auto held = at_rks();
    for (auto& id : ids)
      EXPECT_EQ(held[id], 1) << id;
    EXPECT_EQ(held.size(), ids.size());
    EXPECT_EQ(rks_count(), static_cast<long long>(ids.size()));
    EXPECT_GE(records_of(ids, first), 3u);
    EXPECT_GE(records_of(ids, second), 3u);
    for (auto* event : {"signaling_start", "call_answer", "signaling_stop"})
      EXPECT_EQ(held[second + ":" + event], 1) << event;
    // B resumed after the replicated position: none of its batches starts at or below the first
    // call's records, which the RKS had acknowledged to A.
    const auto acked_before_kill = max_sequence(1, first);
    std::string rks_log;
    for (int i = 1; i <= rks_starts; ++i)
      rks_log += run_command("cat '" +
                             (p.dir.path() / ("rks-" + std::to_string(i) + ".log")).string() + "'");
    int from_b = 0;
    for (auto& b : batches_by_node(rks_log))
      if (b.node == "cms-b") {
        ++from_b;
        EXPECT_GT(b.first, acked_before_kill) << "B re-sent records the RKS had acknowledged to A";
      }
    EXPECT_GE(from_b, 1) << rks_log;
  }

private:
  int rks_starts = 0;
};

TEST_F(billing_failover,
       rks_hung_at_release_then_kill_9_of_the_active_each_record_reaches_the_rks_once) {
  auto first = delivered_call();
  ASSERT_FALSE(first.empty());
  // The RKS hangs (SIGSTOP): A's next batch is written to the socket and never acknowledged.
  rks->signal(SIGSTOP);
  auto second = call_and_release();
  ASSERT_FALSE(second.empty()) << logs();
  ASSERT_EQ(p.billing_count(1, second, "signaling_stop"), 1u) << "replicated before release";
  ASSERT_GE(records_of(outbox_ids(0, true), second), 3u) << "the records sit in A's outbox";
  p.nodes[0]->signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << logs();
  // The RKS resumes: it may still read A's last batch from the dead connection, and B sends the
  // same records; they are stored once.
  rks->signal(SIGCONT);
  check_exactly_once(first, second);
}

TEST_F(billing_failover,
       rks_down_at_release_then_kill_9_of_the_active_each_record_reaches_the_rks_once) {
  auto first = delivered_call();
  ASSERT_FALSE(first.empty());
  rks->stop(); // unreachable: connection refused, records accumulate
  auto second = call_and_release();
  ASSERT_FALSE(second.empty()) << logs();
  ASSERT_EQ(p.billing_count(1, second, "signaling_stop"), 1u) << "replicated before release";
  ASSERT_GE(records_of(outbox_ids(0, true), second), 3u) << "the records sit in A's outbox";
  p.nodes[0]->signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "active"; }, 10s)) << logs();
  start_rks(); // back on the same port
  check_exactly_once(first, second);
}

} // namespace
