// Traffic priority on the wire: MGCP datagrams carry the signalling DSCP (AF31 = 26) and
// management traffic (the Event Messages to the RKS: RADIUS Accounting-Requests over UDP, and the
// data-link probes) the management DSCP (CS1 = 8). Checked on real packets captured with tshark
// on the loopback interface, the RADIUS ones decoded by tshark's RADIUS dissector.

#include "billing_rig.hpp"
#include "runtime/mgcp/agent.hpp"

#include <sstream>

using namespace cms;
using namespace std::chrono_literals;
using test::eventually;

namespace {

struct packet {
  int dscp = -1;
  int udp_src = 0, udp_dst = 0;
  int radius_code = 0; ///< 0: not decoded as RADIUS
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
    f.resize(4);
    auto num = [](const std::string& s) { return s.empty() ? 0 : std::stoi(s); };
    out.push_back({num(f[0]), num(f[1]), num(f[2]), num(f[3])});
  }
  return out;
}

TEST(traffic_priority, mgcp_is_marked_af31_and_management_cs1_on_the_wire) {
  cms::radius::itest::require_tool("tshark");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  test::billing_rig rig;
  rig.start_rks();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  rig.start_responder("primary");
  rig.start_responder("backup");
  // Only the primary path works: the EMs go from the node's RADIUS client straight to the RKS,
  // not through the backup path's relay (whose own datagrams to the RKS are not ours to mark).
  rig.link_fails("backup");

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
                             std::to_string(rig.responder_port("primary")) + " or udp port " +
                             std::to_string(rig.rks_port());
  test::child_process tshark{{"/usr/bin/tshark", "-i", "lo", "-l", "-n", "-f", filter, "-d",
                              "udp.port==" + std::to_string(rig.rks_port()) + ",radius", "-T",
                              "fields", "-e", "ip.dsfield.dscp", "-e", "udp.srcport", "-e",
                              "udp.dstport", "-e", "radius.code"},
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

  // Management: probes on the primary link and the EMs of two calls, sent by the node's RADIUS
  // client straight to the RKS (primary RKS address = FreeRADIUS itself).
  rig.start_node(true);
  ASSERT_TRUE(eventually([&] { return rig.metric("cms_billing_forwarder_path") == 1; }, 5s));
  rig.append_calls(1, 2);
  ASSERT_TRUE(rig.all_delivered(20s));
  // Signalling: an AUEP to a gateway that never answers (first send plus retransmissions).
  mgcp::command auep;
  auep.kind = mgcp::verb::auep;
  auep.endpoint = "aaln/1@mta-dead.example";
  agent.send({boost::asio::ip::make_address("127.0.0.1"), dead_gateway}, auep,
             [](mgcp::command_outcome) {});
  std::thread io_thread{[&] { io.run_for(1s); }};
  io_thread.join();
  agent.stop();

  // tshark writes its lines a little after the packets: wait until the last ones are there.
  eventually(
    [&] {
      int mgcp = 0, rks = 0;
      for (const auto& p : parse_fields(tshark.output())) {
        mgcp += p.udp_src == mgcp_port;
        rks += p.udp_dst == rig.rks_port();
      }
      return mgcp >= 2 && rks >= 2 * 8;
    },
    5s);
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
    } else if (p.udp_dst == rig.rks_port()) {
      ++rks;
      EXPECT_EQ(p.radius_code, 4) << "Accounting-Request";
      EXPECT_EQ(p.dscp, 8) << "Accounting-Request to the RKS";
    }
  }
  EXPECT_GE(mgcp, 2) << tshark.output();
  EXPECT_GE(probes, 2) << tshark.output();
  EXPECT_GE(rks, 2 * 8) << tshark.output(); // 8 EMs per answered call
}

} // namespace
