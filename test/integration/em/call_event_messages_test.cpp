// The node bills its calls as PacketCable Event Messages to a real RKS: two cmsd processes (the
// standby attached, so only replicated records go out), mtasim placing an answered on-net call
// and an abandoned one, FreeRADIUS (config/rks) storing the EMs, and tshark decoding every EM the
// active sent on the wire. Checked: each EM stored exactly once, the outbox drained, no malformed
// or expert item in the capture, and the captured (BCID, EM type, sequence) equal to what the RKS
// stored.

#include "integration/replication/replication_harness.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "support/rks_rig.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <sstream>

using namespace cms::test;
using namespace std::chrono_literals;
namespace rit = cms::radius::itest;

namespace {

std::set<std::string> lines_of(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.insert(line);
  return out;
}

std::uint64_t unsent(replication_pair& p, int i) {
  auto db = cms::persistence::database::open(p.db_file(i));
  return cms::persistence::outbox{db}.pending_count();
}

} // namespace

TEST(call_event_messages, calls_reach_freeradius_as_event_messages_exactly_once) {
  for (auto* tool : {"freeradius", "radclient", "sqlite3", "tshark", "dumpcap"})
    rit::require_tool(tool);
  replication_pair p;
  auto secret = rit::write_secret_file(p.dir.path() / "rks.secret", "em-e2e-secret");
  rit::rks_instance rks{p.dir.path() / "rks", secret};
  std::filesystem::create_directories(p.dir.path() / "rks");
  std::string log;
  ASSERT_TRUE(rks.start(&log)) << log;
  // No management data links: the primary path is assumed (the link probes are not under test).
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(
      std::system(("sqlite3 '" + p.db_file(i).string() + "' 'DELETE FROM data_links'").c_str()), 0);
  p.extra_config = "[billing]\nrks_primary = \"127.0.0.1:" + std::to_string(rks.port()) +
                   "\"\nsecret_file = \"" + secret +
                   "\"\nbatch_size = 10\nelement_id = \"E2E01\"\n";
  auto pcap = (p.dir.path() / "em.pcap").string();
  // dumpcap writes the capture (it starts in a moment; tshark loads every dissector first), tshark
  // reads it afterwards.
  child_process capture{
    {"/usr/bin/dumpcap", "-i", "lo", "-f", "udp port " + std::to_string(rks.port()), "-w", pcap},
    p.dir.path() / "tshark.out"};
  ASSERT_TRUE(
    eventually([&] { return capture.output().find("Capturing") != std::string::npos; }, 30s))
    << capture.output();
  p.start(0);
  ASSERT_TRUE(eventually([&] { return p.role(0) == "active"; }, 20s)) << p.logs();
  p.start(1);
  ASSERT_TRUE(eventually([&] { return p.role(1) == "standby"; }, 20s)) << p.logs();
  p.start_sim(2);

  // Answered on-net call: 1 (start) + 3 (answer) + 4 (release) EMs.
  auto answered = p.connect_call(0, 1, "5551003");
  ASSERT_FALSE(answered.empty()) << p.logs();
  ASSERT_EQ(p.ctl("onhook 1"), "ok");
  ASSERT_TRUE(eventually([&] { return p.billing_count(0, answered, "signaling_stop") == 1; }));
  // Abandoned during dialling: Signaling_Start + Signaling_Stop of the originating half.
  ASSERT_TRUE(eventually([&] { return p.ctl("offhook 2") == "ok"; }));
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(p.ctl("onhook 2"), "ok");

  ASSERT_TRUE(eventually([&] { return unsent(p, 0) == 0 && rks.count() >= 10; }, 30s))
    << "unsent " << unsent(p, 0) << ", at the RKS " << rks.count() << "\n"
    << p.logs();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(rks.count(), 10) << rks.query("SELECT bcid, em_type, sequence FROM event_message");
  EXPECT_EQ(rks.count("em_type = 15"), 2); // Call_Answer, both halves
  EXPECT_EQ(rks.count("em_type = 16"), 2); // Call_Disconnect, both halves
  EXPECT_EQ(rks.count("em_type = 1"), 3);  // Signaling_Start: two halves + the abandoned call
  EXPECT_EQ(rks.count("em_type = 2"), 3);  // Signaling_Stop
  EXPECT_EQ(rks.count("bcid_element_id = '   E2E01'"), 10);

  capture.signal(SIGINT);
  capture.wait_exit(10s);
  auto decode = [&](const std::string& filter, const std::string& fields) {
    return rit::shell("tshark -r '" + pcap + "' -d udp.port==" + std::to_string(rks.port()) +
                      ",radius -Y '" + filter + "' -T fields -E separator=, -E occurrence=f " +
                      fields + " 2>/dev/null");
  };
  EXPECT_EQ(decode("_ws.malformed || _ws.expert", "-e frame.number"), "");
  auto wire =
    lines_of(decode("radius.code == 4", "-e packetcable_avps.bcid.ts -e packetcable_avps.bcid.ec "
                                        "-e packetcable_avps.emh.emt -e packetcable_avps.emh.sn"));
  // occurrence=f: the EM header's BCID, not the related call's BCID that Call_Answer also carries.
  auto stored = lines_of(rks.query("SELECT bcid_timestamp || ',' || bcid_counter || ',' || em_type "
                                   "|| ',' || sequence FROM event_message"));
  EXPECT_EQ(wire, stored);
}
