// Wireshark's COPS dissector (PacketCable DQoS, client type 0x8008) as an independent judge of the
// session's and the simulator's bytes: the whole exchange is captured on loopback, then every
// COPS frame must decode without malformed or expert items, every TCP payload on the port must
// be COPS, and each Gate-Set-Ack's cops.pc_gate_id must be the Gate ID the session reported for
// that transaction. Capturing on lo needs root (or CAP_NET_RAW on dumpcap). A missing tshark is
// a failure, not a skip.

#include "cops_rig.hpp"

#include <csignal>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace cms::cops::test {
namespace {

std::string find_tshark() {
  for (const char* p : {"/usr/bin/tshark", "/usr/local/bin/tshark", "/bin/tshark"})
    if (::access(p, X_OK) == 0)
      return p;
  return {};
}

/// Runs a shell command; returns its stdout (stderr goes to `err_file`) and exit status.
std::pair<int, std::string> run(const std::string& command, const std::string& err_file) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>" + err_file).c_str(), "r");
  if (pipe == nullptr)
    return {-1, {}};
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in{s};
  while (std::getline(in, cur, sep))
    out.push_back(cur);
  if (!s.empty() && s.back() == sep)
    out.emplace_back();
  return out;
}

std::vector<unsigned long> numbers(const std::string& field) {
  std::vector<unsigned long> out;
  if (field.empty())
    return out;
  for (const auto& v : split(field, ','))
    out.push_back(std::stoul(v, nullptr, 0));
  return out;
}

TEST(CopsTshark, DissectorAcceptsTheWholeExchangeAndAgreesOnGateIds) {
  const auto tshark = find_tshark();
  ASSERT_FALSE(tshark.empty()) << "tshark not found: install the Debian package 'tshark'";
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path(), {"--ka-interval-ms", "200"}, true};
  const auto port = std::to_string(sim.cops_port());
  const auto capture = dir.path() / "cops.pcapng";
  cms::test::child_process dumper{
    {tshark, "-i", "lo", "-f", "tcp port " + port, "-w", capture.string()},
    dir.path() / "capture.log"};
  ASSERT_TRUE(cms::test::eventually(
    [&] { return !dumper.running() || dumper.output().find("Capturing on") != std::string::npos; },
    60s))
    << "tshark did not start capturing within 60 s:\n"
    << dumper.output(); // slow when loaded
  ASSERT_TRUE(dumper.running()) << "tshark could not capture on lo (root needed):\n"
                                << dumper.output();
  std::this_thread::sleep_for(500ms);

  std::map<unsigned long, unsigned long> acked; // transaction id -> gate id the session reported
  std::uint32_t closed_gate = 0;
  std::uint32_t opened_gate = 0;
  {
    running_session s{fast_config(sim.cops_port())};
    s.start_and_wait_ready();
    std::vector<std::uint32_t> gates;
    for (int i = 0; i < 3; ++i) {
      auto out = s.send(gate_set_for(0x0a000002 + static_cast<std::uint32_t>(i), 0,
                                     static_cast<std::uint8_t>(i + 1)));
      ASSERT_EQ(out.status, command_status::ack);
      acked[out.transaction_id] = *out.answer.gate_id;
      gates.push_back(*out.answer.gate_id);
    }
    sim.control({{"cmd", "fail_sets"}, {"count", 1}, {"code", 1}});
    ASSERT_EQ(s.send(gate_set_for(0x0a000009)).status, command_status::err);
    ASSERT_EQ(s.send(simple(gate_command_type::gate_info, gates[0], 0x0a000002)).status,
              command_status::ack);
    ASSERT_EQ(s.send(simple(gate_command_type::gate_delete, gates[0], 0x0a000002)).status,
              command_status::ack);
    ASSERT_EQ(s.send(simple(gate_command_type::gate_delete, gates[0], 0x0a000002)).status,
              command_status::err);
    closed_gate = gates[1];
    ASSERT_TRUE(sim.control({{"cmd", "close_gate"}, {"gate_id", closed_gate}, {"subcode", 5}})
                  .at("ok")
                  .as_bool());
    opened_gate = gates[2];
    ASSERT_TRUE(sim.control({{"cmd", "open_gate"}, {"gate_id", opened_gate}}).at("ok").as_bool());
    ASSERT_TRUE(s.events().wait([](auto& e) { return e.gate_events.size() >= 2; }, 5s));
    ASSERT_TRUE(cms::test::eventually([&] { return s.session().counters().keepalives >= 2; }, 5s));
  }
  std::this_thread::sleep_for(500ms);
  dumper.signal(SIGINT);
  ASSERT_TRUE(dumper.wait_exit(10s)) << "tshark did not stop";

  const std::string read = tshark + " -r " + capture.string() + " -d tcp.port==" + port + ",cops";
  const std::string err = (dir.path() / "read.err").string();

  // 1. Nothing malformed, no expert complaints, in any COPS frame.
  auto [rc1, complaints] =
    run(read + " -Y '(cops && (_ws.malformed || _ws.expert)) || (tcp.len > 0 && !cops)'"
               " -T fields -e frame.number -e _ws.expert.message -e _ws.col.Info",
        err);
  ASSERT_EQ(rc1, 0) << "tshark -r failed";
  EXPECT_TRUE(complaints.empty()) << "frames tshark objects to:\n" << complaints;

  // 2. The COPS fields, one line per frame (several PDUs in one frame give comma lists).
  auto [rc2, fields] = run(read + " -Y cops -T fields -E separator=/t -e cops.op_code"
                                  " -e cops.pc_gate_command_type -e cops.pc_transaction_id"
                                  " -e cops.pc_gate_id -e cops.client_type",
                           err);
  ASSERT_EQ(rc2, 0);
  std::multiset<unsigned long> ops;
  std::multiset<unsigned long> commands;
  std::map<unsigned long, unsigned long> set_acks; // transaction id -> gate id on the wire
  std::set<unsigned long> closed_on_wire, opened_on_wire;
  std::size_t frames = 0;
  for (const auto& line : split(fields, '\n')) {
    if (line.empty())
      continue;
    ++frames;
    auto cols = split(line, '\t');
    cols.resize(5);
    for (auto op : numbers(cols[0]))
      ops.insert(op);
    const auto types = numbers(cols[1]);
    const auto tids = numbers(cols[2]);
    const auto ids = numbers(cols[3]);
    ASSERT_EQ(types.size(), tids.size()) << line;
    for (auto t : types)
      commands.insert(t);
    // Gate IDs line up with the commands only when every PDU in the frame carries one.
    if (ids.size() != types.size())
      continue;
    for (std::size_t i = 0; i < types.size(); ++i) {
      if (types[i] == 5)
        set_acks[tids[i]] = ids[i];
      if (types[i] == 14)
        closed_on_wire.insert(ids[i]);
      if (types[i] == 13)
        opened_on_wire.insert(ids[i]);
    }
  }
  ASSERT_GT(frames, 0u) << "no COPS frames decoded";
  for (unsigned long op : {6, 7, 1, 2, 3, 9}) // OPN CAT REQ DEC RPT KA
    EXPECT_GE(ops.count(op), 1u) << "op code " << op << " missing from the capture";
  EXPECT_EQ(commands.count(4), 4u);  // Gate-Set x4
  EXPECT_EQ(commands.count(5), 3u);  // Set-Ack x3
  EXPECT_EQ(commands.count(6), 1u);  // Set-Err
  EXPECT_EQ(commands.count(7), 1u);  // Gate-Info
  EXPECT_EQ(commands.count(8), 1u);  // Info-Ack
  EXPECT_EQ(commands.count(10), 2u); // Gate-Delete x2
  EXPECT_EQ(commands.count(11), 1u); // Delete-Ack
  EXPECT_EQ(commands.count(12), 1u); // Delete-Err
  EXPECT_EQ(commands.count(13), 1u); // Gate-Open
  EXPECT_EQ(commands.count(14), 1u); // Gate-Close
  EXPECT_EQ(set_acks, acked)
    << "Set-Ack Gate IDs on the wire differ from what the session reported";
  EXPECT_EQ(closed_on_wire, std::set<unsigned long>{closed_gate});
  EXPECT_EQ(opened_on_wire, std::set<unsigned long>{opened_gate});
}

} // namespace
} // namespace cms::cops::test
