// Wireshark's MGCP dissector as an independent judge of what we put on the wire: two of our agents
// (call agent and gateway) exchange every message type we emit while tshark captures on loopback;
// the capture is then decoded and every packet we sent must be MGCP, with the verb or code we
// meant, and without malformed-packet or expert errors. Capturing on lo needs root (or
// CAP_NET_RAW on dumpcap).

#include "conformance_support.hpp"

#include "support/process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <set>

namespace cms::mgcp {
namespace {

using namespace std::chrono_literals;
using cms::test::child_process;
using cms::test::temp_dir;
using test::raw_peer;
using test::running_agent;

/// Runs a program to completion; returns its exit code and output.
std::pair<int, std::string> run(std::vector<std::string> argv, const std::filesystem::path& out,
                                std::chrono::seconds limit = 60s) {
  child_process p{std::move(argv), out};
  auto rc = p.wait_exit(limit);
  if (!rc)
    p.signal(SIGKILL);
  return {rc.value_or(-1), p.output()};
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

TEST(Tshark, DecodesEveryMessageWeEmitWithoutErrors) {
  const auto tshark = test::find_program("tshark");
  ASSERT_FALSE(tshark.empty()) << test::missing_program("tshark", "tshark");
  temp_dir dir;

  // The gateway side: a fixed free port that the capture filter names.
  agent_config gw_cfg;
  gw_cfg.timers = test::fast_timers();
  gw_cfg.seed = 11;
  running_agent gw{gw_cfg};
  // running_agent binds port 0; the filter uses whatever it got, so start it first.
  struct joiner {
    std::vector<std::thread> threads;
    ~joiner() {
      for (auto& t : threads)
        if (t.joinable())
          t.join();
    }
  } slow;
  std::mutex slow_mutex;
  gw.agent().on_command([&](const udp_endpoint& from, command cmd) {
    if (cmd.endpoint.rfind("aaln/9@", 0) == 0) { // unknown endpoint: an error answer
      response r;
      r.code = 500;
      r.transaction_id = cmd.transaction_id;
      gw.agent().respond(from, r);
      return;
    }
    auto rsp = test::answer_for(cmd);
    if (cmd.kind == verb::rqnt && cmd.endpoint.rfind("aaln/2@", 0) == 0) {
      // Slow: the call agent retransmits, gets 100, then the final (with K:) and answers 000.
      std::lock_guard lock{slow_mutex};
      slow.threads.emplace_back([&gw, from, rsp] {
        std::this_thread::sleep_for(250ms);
        gw.agent().respond(from, rsp);
      });
      return;
    }
    gw.agent().respond(from, rsp);
  });
  gw.run();
  const auto port = gw.endpoint().port();

  const auto capture = dir.path() / "mgcp.pcapng";
  child_process dumper{
    {tshark, "-i", "lo", "-f", "udp port " + std::to_string(port), "-w", capture.string()},
    dir.path() / "capture.log"};
  ASSERT_TRUE(cms::test::eventually(
    [&] { return !dumper.running() || dumper.output().find("Capturing on") != std::string::npos; }))
    << dumper.output();
  ASSERT_TRUE(dumper.running()) << "tshark could not capture on lo (root needed):\n"
                                << dumper.output();
  std::this_thread::sleep_for(300ms);

  agent_config ca_cfg;
  ca_cfg.timers = test::fast_timers();
  ca_cfg.seed = 12;
  running_agent ca{ca_cfg};
  ca.run();
  std::set<std::string> sent_verbs;
  // Every verb; the second and later commands also carry K: acknowledging earlier responses.
  for (auto& cmd : test::every_command()) {
    sent_verbs.insert(std::string(to_string(cmd.kind)));
    auto o = test::send_and_wait(ca.agent(), gw.endpoint(), cmd);
    ASSERT_TRUE(std::holds_alternative<response>(o));
  }
  auto slow_rqnt = test::make_command(verb::rqnt, "aaln/2@mta-0001.cable.example",
                                      {{"X", "0123456789AD"}, {"R", "L/hd(N)"}});
  auto slow_outcome = test::send_and_wait(ca.agent(), gw.endpoint(), slow_rqnt);
  ASSERT_TRUE(std::holds_alternative<response>(slow_outcome));
  auto unknown = test::send_and_wait(
    ca.agent(), gw.endpoint(), test::make_command(verb::auep, "aaln/9@mta-0001.cable.example", {}));
  ASSERT_EQ(std::get<response>(unknown).code, 500);
  // Errors are answers: the gateway agent answers broken commands with 504, 528, 539, 510.
  raw_peer rogue;
  for (auto* text :
       {"FOOB 9001 aaln/1@mta.example MGCP 1.0\r\n", "AUEP 9002 aaln/1@mta.example MGCP 2.0\r\n",
        "AUEP 9003 aaln/1@mta.example MGCP 1.0\r\nM: sideways\r\n",
        "AUEP 9004 aaln/1@mta.example MGCP 1.0\r\nno colon here\r\n"}) {
    rogue.send(gw.endpoint(), text);
    ASSERT_TRUE(rogue.receive());
  }
  std::this_thread::sleep_for(500ms); // let the 000 and any last copy go out and be captured
  dumper.signal(SIGINT);
  ASSERT_TRUE(dumper.wait_exit(10s)) << "tshark did not stop";
  for (auto& t : slow.threads)
    t.join();

  // Only what our agents sent is judged: the rogue's broken input is malformed on purpose.
  const std::string ours = "udp.srcport==" + std::to_string(port) +
                           " || udp.srcport==" + std::to_string(ca.endpoint().port());
  const std::string decode_as = "udp.port==" + std::to_string(port) + ",mgcp";
  auto [rc, fields] = run({tshark,
                           "-r",
                           capture.string(),
                           "-d",
                           decode_as,
                           "-Y",
                           ours,
                           "-T",
                           "fields",
                           "-E",
                           "separator=|",
                           "-e",
                           "frame.number",
                           "-e",
                           "mgcp.req.verb",
                           "-e",
                           "mgcp.rsp.rspcode",
                           "-e",
                           "mgcp.transid",
                           "-e",
                           "_ws.malformed",
                           "-e",
                           "_ws.expert.severity",
                           "-e",
                           "_ws.expert.message",
                           "-e",
                           "sdp.media.port"},
                          dir.path() / "fields.txt");
  ASSERT_EQ(rc, 0) << fields;

  std::set<std::string> verbs;
  std::set<int> codes;
  int packets = 0, with_sdp = 0;
  for (auto& line : split(fields, '\n')) {
    if (line.empty() || line.find('|') == std::string::npos)
      continue; // tshark's "Running as user root" notice
    auto f = split(line, '|');
    ASSERT_GE(f.size(), 8u) << line;
    ++packets;
    EXPECT_TRUE(!f[1].empty() || !f[2].empty())
      << "frame " << f[0] << " not decoded as MGCP: " << line;
    EXPECT_FALSE(f[3].empty()) << "frame " << f[0] << " has no transaction id";
    EXPECT_TRUE(f[4].empty()) << "frame " << f[0] << " is malformed: " << line;
    EXPECT_TRUE(f[5].empty()) << "frame " << f[0] << " has expert info: " << f[6];
    if (!f[1].empty())
      verbs.insert(f[1]);
    if (!f[2].empty())
      codes.insert(std::stoi(f[2]));
    if (!f[7].empty())
      ++with_sdp;
  }
  EXPECT_EQ(verbs, sent_verbs);
  for (int code : {0, 100, 200, 250, 500, 504, 510, 528, 539})
    EXPECT_EQ(codes.count(code), 1u) << "no response with code " << code << " in the capture";
  // CRCX, MDCX (commands) and their responses, the AUCX response.
  EXPECT_GE(with_sdp, 5);
  EXPECT_GE(packets, 2 * 11 + 4 + 2); // 11 transactions, 4 error answers, 100 and 000

  // The verbose decode must hold no malformed packet nor warning/error-level expert item.
  auto [rc2, verbose] = run({tshark, "-r", capture.string(), "-d", decode_as, "-Y", ours, "-V"},
                            dir.path() / "verbose.txt");
  ASSERT_EQ(rc2, 0);
  EXPECT_EQ(verbose.find("Malformed"), std::string::npos) << verbose;
  EXPECT_EQ(verbose.find("Expert Info"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("Media Gateway Control Protocol"), std::string::npos);
  EXPECT_NE(verbose.find("Session Description Protocol"), std::string::npos);
}

} // namespace
} // namespace cms::mgcp
