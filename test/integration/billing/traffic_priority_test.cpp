// Traffic priority on the wire: MGCP datagrams carry the signalling DSCP (AF31 =
// 26) and management traffic (the TLS connection to the RKS, the data-link probes) the management
// DSCP (CS1 = 8). Checked on real packets captured with tshark on the loopback interface.

#include "billing_rig.hpp"
#include "runtime/mgcp/agent.hpp"

#include <sstream>

using namespace cms;
using namespace std::chrono_literals;
using test::eventually;

namespace {

struct packet {
  int dscp = -1;
  int udp_src = 0, udp_dst = 0, tcp_src = 0, tcp_dst = 0;
};

std::vector<packet> parse_fields(const std::string& text) {
  std::vector<packet> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::string cell;
    std::istringstream cells{line};
    while (std::getline(cells, cell, '\t'))
      f.push_back(cell);
    if (f.empty() || f[0].empty() || !std::isdigit(static_cast<unsigned char>(f[0][0])))
      continue; // tshark's own messages ("Capturing on ...")
    f.resize(5);
    auto num = [](const std::string& s) { return s.empty() ? 0 : std::stoi(s); };
    out.push_back({num(f[0]), num(f[1]), num(f[2]), num(f[3]), num(f[4])});
  }
  return out;
}

TEST(traffic_priority, mgcp_is_marked_af31_and_management_cs1_on_the_wire) {
  if (!std::filesystem::exists("/usr/bin/tshark"))
    GTEST_SKIP() << "tshark not installed (scripts/install-deps.sh installs it)";
  test::billing_rig rig;
  rig.start_rks();
  rig.start_responder("primary");
  rig.start_responder("backup");
  // Only the primary path answers: the batch goes straight to the RKS port, not through the
  // backup relay (whose own connection to the RKS is not ours to mark).
  rig.stop_responder("backup");

  metrics::registry reg;
  boost::asio::io_context io;
  mgcp::agent_config mc;
  mc.port = 0;
  mc.dscp = 26;
  mgcp::agent agent{io, mc, reg};
  agent.start();
  const auto mgcp_port = agent.local_endpoint().port();
  const auto dead_gateway = test::free_port(SOCK_DGRAM); // nobody answers: retransmissions

  const auto capture = rig.dir() / "capture.txt";
  const std::string filter = "udp port " + std::to_string(mgcp_port) + " or udp port " +
                             std::to_string(rig.responder_port("primary")) + " or tcp port " +
                             std::to_string(rig.rks_port());
  test::child_process tshark{{"/usr/bin/tshark", "-i", "lo", "-l", "-n", "-f", filter, "-T",
                              "fields", "-e", "ip.dsfield.dscp", "-e", "udp.srcport", "-e",
                              "udp.dstport", "-e", "tcp.srcport", "-e", "tcp.dstport"},
                             capture};
  // tshark announces itself before the capture really runs: send canary datagrams to the MGCP
  // port until one shows up in the capture.
  int canary = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(mgcp_port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool capturing = eventually(
    [&] {
      ::sendto(canary, "canary", 6, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      for (const auto& p : parse_fields(tshark.output()))
        if (p.udp_dst == mgcp_port)
          return true;
      return false;
    },
    20s);
  ::close(canary);
  ASSERT_TRUE(capturing) << tshark.output();

  // Management: probes on the primary link and a batch to the RKS over TLS.
  rig.start_node();
  rig.append_calls(1, 2);
  ASSERT_TRUE(eventually([&] { return rig.rks_count() == 6; }, 20s));
  // Signalling: an AUEP to a gateway that never answers (first send plus retransmissions).
  mgcp::command auep;
  auep.kind = mgcp::verb::auep;
  auep.endpoint = "aaln/1@mta-dead.example";
  agent.send({boost::asio::ip::make_address("127.0.0.1"), dead_gateway}, auep,
             [](mgcp::command_outcome) {});
  std::thread io_thread{[&] { io.run_for(1s); }};
  io_thread.join();
  agent.stop();

  std::this_thread::sleep_for(300ms); // let tshark write out the last packets
  tshark.signal(SIGINT);
  tshark.wait_exit(10s);
  const auto packets = parse_fields(tshark.output());

  int mgcp = 0, probes = 0, rks = 0;
  for (const auto& p : packets) {
    if (p.udp_src == mgcp_port) {
      ++mgcp;
      EXPECT_EQ(p.dscp, 26) << "MGCP datagram";
    } else if (p.udp_dst == rig.responder_port("primary")) {
      ++probes;
      EXPECT_EQ(p.dscp, 8) << "link probe";
    } else if (p.tcp_dst == rig.rks_port()) {
      ++rks;
      EXPECT_EQ(p.dscp, 8) << "RKS client segment";
    }
  }
  EXPECT_GE(mgcp, 2) << tshark.output();
  EXPECT_GE(probes, 2) << tshark.output();
  EXPECT_GE(rks, 3) << tshark.output();
}

} // namespace
