// Trunk alarms end to end: a real cmsd (AgentX subagent of a real snmpd, traps to a real
// snmptrapd) provisioned with one active trunking gateway, its cold spare and one PRI facility,
// the gateways played by UDP sockets of this test that answer MGCP like a gateway.
//   - the active gateway stops answering AUEP keepalives -> cmsGatewayFailed, cmsColdSparePromoted,
//     cmsGatewayState failed(3), and both events in GET /events;
//   - the gateway sends RSIP forced -> cmsGatewayFailed naming the RSIP, then RSIP restart ->
//     cmsGatewayRestored;
//   - the gateway drops its span (RSIP forced on ds/ds1-1/*) -> cmsFacilityDown, restart ->
//     cmsFacilityUp.

#include "support/process.hpp"
#include "unit/snmp/snmp_harness.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

namespace {

namespace snmpt = cms::snmp::test;
using namespace std::chrono_literals;

/// A trunking gateway's MGCP side on 127.0.0.1: answers every command 200 (unless silent) and
/// can send commands (RSIP) to the call agent from its own socket, as a gateway does.
class fake_gateway {
public:
  fake_gateway() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot bind a gateway socket");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_gateway() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::uint16_t port() const { return port_; }
  void silent(bool s) { silent_ = s; }
  int auep_seen() const { return auep_; }

  void send_to(std::uint16_t ca_port, const std::string& text) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(ca_port);
    ::sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

  /// RSIP for `endpoint` with restart method `method`, from this gateway to the call agent.
  void rsip(std::uint16_t ca_port, const std::string& endpoint, const std::string& method) {
    send_to(ca_port, "RSIP " + std::to_string(++tid_) + " " + endpoint +
                       " MGCP 1.0\r\nRM: " + method + "\r\n");
  }

private:
  void serve() {
    char buf[4096];
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      auto n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0)
        continue;
      std::string msg(buf, static_cast<std::size_t>(n));
      if (msg.empty() || std::isdigit(static_cast<unsigned char>(msg[0])))
        continue; // a response (to our RSIP)
      auto sp1 = msg.find(' ');
      auto sp2 = msg.find(' ', sp1 + 1);
      if (sp1 == std::string::npos || sp2 == std::string::npos)
        continue;
      if (msg.rfind("AUEP", 0) == 0)
        ++auep_;
      if (silent_)
        continue;
      auto reply = "200 " + msg.substr(sp1 + 1, sp2 - sp1 - 1) + " OK\r\n";
      ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> silent_{false};
  std::atomic<int> auep_{0};
  int tid_ = 9000;
  std::thread thread_;
};

class gateway_traps : public ::testing::Test {
protected:
  void SetUp() override {
    for (auto* p : {"snmpd", "snmptrapd", "snmpget"})
      if (snmpt::find_program(p).empty())
        GTEST_SKIP() << p << " is not installed";
    trap_port_ = snmpt::free_udp_port();
    traps_ = std::make_unique<snmpt::trap_receiver>(dir_.path().string(), trap_port_);
    master_ = std::make_unique<snmpt::snmpd_master>(dir_.path().string(), snmpt::free_udp_port(),
                                                    trap_port_);
    master_->start();
    start_node();
  }

  void start_node() {
    auto data = dir_.path() / "data";
    std::filesystem::create_directories(data);
    auto prov = dir_.path() / "provisioning.toml";
    {
      std::ofstream out{prov};
      out << "[[carrier]]\nid = \"northtel\"\nname = \"NorthTel\"\n"
          << "[[gateway]]\nname = \"tgw-a.test\"\naddress = \"127.0.0.1\"\nport = "
          << active_.port() << "\nrole = \"active\"\nsegment = \"local\"\n"
          << "[[gateway]]\nname = \"tgw-s.test\"\naddress = \"127.0.0.1\"\nport = " << spare_.port()
          << "\nrole = \"cold_spare\"\nsegment = \"local\"\nspare_for = \"tgw-a.test\"\n"
          << "[[facility]]\nid = \"a-pri-1\"\ngateway = \"tgw-a.test\"\nkind = \"pri\"\n"
          << "carrier = \"northtel\"\nspan = 1\nchannels = 4\n";
    }
    auto cfg = dir_.path() / "node.toml";
    {
      std::ofstream out{cfg};
      out << "[node]\nid = \"it-gw\"\ndata_dir = \"data\"\n"
          << "[mgcp]\nbind = \"127.0.0.1\"\nport = " << mgcp_port_ << "\n"
          << "[http]\nbind = \"127.0.0.1\"\nport = " << http_port_ << "\n"
          << "[peer]\naddress = \"127.0.0.2\"\nlisten_port = " << cms::test::free_port()
          << "\nudp_heartbeat_port = " << cms::test::free_port(SOCK_DGRAM)
          << "\nheartbeat_interval_ms = 100\n"
          << "[log]\nlevel = \"info\"\n"
          << "[snmp]\nenabled = true\nagentx_socket = \"" << master_->agentx_socket() << "\"\n";
    }
    cms::test::child_process p{
      {CMS_BINARY_DIR "/cmsd", "--provision", prov.string(), (data / "cms.db").string()},
      dir_.path() / "provision.out"};
    ASSERT_EQ(p.wait_exit(20s), 0) << p.output();
    node_ = std::make_unique<cms::test::child_process>(
      std::vector<std::string>{CMS_BINARY_DIR "/cmsd", "--config", cfg.string()},
      dir_.path() / "cmsd.out");
    ASSERT_TRUE(cms::test::eventually(
      [&] { return cms::test::http_status(cms::test::http_get(http_port_, "/status")) == 200; },
      15s))
      << node_->output();
    // Both gateways answer their keepalives before anything is failed on purpose.
    ASSERT_TRUE(cms::test::eventually(
      [&] { return active_.auep_seen() >= 2 && spare_.auep_seen() >= 2; }, 10s))
      << node_->output();
  }

  std::string snmpget(const std::string& object) {
    std::vector<std::string> argv = {"snmpget", "-v2c", "-c", "public", "-t",
                                     "1",       "-r",   "1",  "-Oqv"};
    for (auto& o : snmpt::mib_options())
      argv.push_back(o);
    argv.push_back("127.0.0.1:" + std::to_string(master_->udp_port()));
    argv.push_back(object);
    return snmpt::run_command(argv).out;
  }

  std::string events() {
    return cms::test::http_body(cms::test::http_get(http_port_, "/events?limit=500"));
  }

  std::string context() {
    return traps_->log() + "\n--- cmsd ---\n" + (node_ ? node_->output() : "");
  }

  cms::test::temp_dir dir_;
  fake_gateway active_;
  fake_gateway spare_;
  std::uint16_t http_port_ = cms::test::free_port();
  std::uint16_t mgcp_port_ = cms::test::free_port(SOCK_DGRAM);
  int trap_port_ = 0;
  std::unique_ptr<snmpt::trap_receiver> traps_;
  std::unique_ptr<snmpt::snmpd_master> master_;
  std::unique_ptr<cms::test::child_process> node_;
};

const std::string mib = "CMS-SOFTSWITCH-MIB::";

TEST_F(gateway_traps, unanswered_keepalives_raise_gateway_failed_and_cold_spare_promoted) {
  // Gateway rows are ordered by name: tgw-a.test is row 1, tgw-s.test row 2.
  ASSERT_TRUE(snmpt::eventually(
    [&] { return snmpget(mib + "cmsGatewayState.1").find("inService") != std::string::npos; }, 15s))
    << snmpget(mib + "cmsGatewayState.1") << context();

  active_.silent(true);
  EXPECT_TRUE(
    traps_->wait_for({mib + "cmsGatewayFailed", "cmsNotifyGatewayName.0 = STRING: tgw-a.test",
                      "cmsNotifyCarrier.0 = STRING: northtel", "AUEP keepalives"},
                     20s))
    << context();
  EXPECT_TRUE(
    traps_->wait_for({mib + "cmsColdSparePromoted", "cmsNotifyGatewayName.0 = STRING: tgw-s.test",
                      "cmsNotifyReplacedGateway.0 = STRING: tgw-a.test"},
                     20s))
    << context();
  EXPECT_TRUE(snmpt::eventually(
    [&] { return snmpget(mib + "cmsGatewayState.1").find("failed") != std::string::npos; }, 10s));
  EXPECT_TRUE(snmpt::eventually(
    [&] { return snmpget(mib + "cmsFacilityGateway.1").find("tgw-s.test") != std::string::npos; },
    10s));

  EXPECT_TRUE(cms::test::eventually(
    [&] {
      auto log = events();
      return log.find("gateway tgw-a.test failed") != std::string::npos &&
             log.find("cold spare tgw-s.test promoted for tgw-a.test") != std::string::npos;
    },
    5s))
    << events();

  active_.silent(false);
  EXPECT_TRUE(traps_->wait_for(
    {mib + "cmsGatewayRestored", "cmsNotifyGatewayName.0 = STRING: tgw-a.test"}, 20s))
    << context();
}

TEST_F(gateway_traps, rsip_forced_raises_gateway_failed_and_rsip_restart_restores_it) {
  active_.rsip(mgcp_port_, "*@tgw-a.test", "forced");
  EXPECT_TRUE(traps_->wait_for(
    {mib + "cmsGatewayFailed", "cmsNotifyGatewayName.0 = STRING: tgw-a.test", "RSIP forced"}, 20s))
    << context();
  EXPECT_TRUE(traps_->wait_for(
    {mib + "cmsColdSparePromoted", "cmsNotifyReplacedGateway.0 = STRING: tgw-a.test"}, 20s))
    << context();

  active_.rsip(mgcp_port_, "*@tgw-a.test", "restart");
  EXPECT_TRUE(traps_->wait_for(
    {mib + "cmsGatewayRestored", "cmsNotifyGatewayName.0 = STRING: tgw-a.test"}, 20s))
    << context();
}

TEST_F(gateway_traps, a_dropped_span_raises_facility_down_and_its_return_facility_up) {
  active_.rsip(mgcp_port_, "ds/ds1-1/*@tgw-a.test", "forced");
  EXPECT_TRUE(traps_->wait_for({mib + "cmsFacilityDown", "cmsNotifyFacilityId.0 = STRING: a-pri-1",
                                "cmsNotifyCarrier.0 = STRING: northtel", "span dropped"},
                               20s))
    << context();
  EXPECT_TRUE(snmpt::eventually(
    [&] { return snmpget(mib + "cmsFacilityState.1").find("failed") != std::string::npos; }, 10s));

  active_.rsip(mgcp_port_, "ds/ds1-1/*@tgw-a.test", "restart");
  EXPECT_TRUE(
    traps_->wait_for({mib + "cmsFacilityUp", "cmsNotifyFacilityId.0 = STRING: a-pri-1"}, 20s))
    << context();
  // The event log is written by the management poll (every 500 ms), apart from the SNMP bridge's.
  EXPECT_TRUE(cms::test::eventually(
    [&] {
      return events().find("facility a-pri-1 (northtel) out of service") != std::string::npos;
    },
    5s))
    << events();
}

} // namespace
