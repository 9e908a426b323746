// A real cmsd with [snmp] enabled = true, registered as AgentX subagent with a real snmpd master:
// the node id and role read with snmpget match /status, the data link table follows the
// provisioning, and the node's start-up role change arrives as a cmsRoleChange notification.

#include "support/node_harness.hpp"
#include "unit/snmp/snmp_harness.hpp"

#include <gtest/gtest.h>

namespace {

namespace snmpt = cms::snmp::test;
using namespace std::chrono_literals;

class node_snmp : public ::testing::Test {
protected:
  void SetUp() override {
    for (auto* p : {"snmpd", "snmptrapd", "snmpget", "snmpwalk"})
      if (snmpt::find_program(p).empty())
        GTEST_SKIP() << p << " is not installed";
    trap_port_ = snmpt::free_udp_port();
    traps_ = std::make_unique<snmpt::trap_receiver>(dir_.path(), trap_port_);
    master_ =
      std::make_unique<snmpt::snmpd_master>(dir_.path(), snmpt::free_udp_port(), trap_port_);
    master_->start();
    node_.start("[snmp]\nenabled = true\nagentx_socket = \"" + master_->agentx_socket() + "\"\n");
    ASSERT_TRUE(node_.wait_active()) << node_.output();
  }

  snmpt::command_result tool(const std::string& program, const std::string& object) {
    std::vector<std::string> argv = {program, "-v2c", "-c", "public", "-t", "1", "-r", "1", "-Oqv"};
    for (auto& o : snmpt::mib_options())
      argv.push_back(o);
    argv.push_back("127.0.0.1:" + std::to_string(master_->udp_port()));
    argv.push_back(object);
    return snmpt::run_command(argv);
  }

  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '"'))
      s.pop_back();
    while (!s.empty() && s.front() == '"')
      s.erase(0, 1);
    return s;
  }

  snmpt::temp_dir dir_;
  int trap_port_ = 0;
  std::unique_ptr<snmpt::trap_receiver> traps_;
  std::unique_ptr<snmpt::snmpd_master> master_;
  cms::test::node_harness node_;
};

TEST_F(node_snmp, node_id_and_role_match_status) {
  auto status = node_.get_json("/status");
  ASSERT_FALSE(status.empty()) << node_.output();
  std::string id(status.at("node_id").as_string());
  std::string role(status.at("role").as_string());
  ASSERT_EQ(role, "active");

  // The bridge publishes every second and the subagent registers with the master on its own.
  std::string snmp_id;
  ASSERT_TRUE(snmpt::eventually(
    [&] {
      auto r = tool("snmpget", "CMS-SOFTSWITCH-MIB::cmsNodeId.0");
      snmp_id = trim(r.out);
      return r.exit_code == 0 && snmp_id == id;
    },
    15s))
    << "snmpget cmsNodeId.0 gave \"" << snmp_id << "\"\n"
    << node_.output() << "\n"
    << master_->log();

  std::string snmp_role;
  ASSERT_TRUE(snmpt::eventually(
    [&] {
      auto r = tool("snmpget", "CMS-SOFTSWITCH-MIB::cmsNodeRole.0");
      snmp_role = trim(r.out);
      return r.exit_code == 0 && snmp_role == role;
    },
    5s))
    << "snmpget cmsNodeRole.0 gave \"" << snmp_role << "\", /status says " << role;

  auto epoch = tool("snmpget", "CMS-SOFTSWITCH-MIB::cmsNodeEpoch.0");
  EXPECT_EQ(trim(epoch.out),
            std::to_string(node_.get_json("/status").at("epoch").to_number<std::uint64_t>()));
}

TEST_F(node_snmp, data_link_table_follows_the_provisioning_and_role_change_is_trapped) {
  std::string names;
  ASSERT_TRUE(snmpt::eventually(
    [&] {
      auto r = tool("snmpwalk", "CMS-SOFTSWITCH-MIB::cmsDataLinkName");
      names = r.out;
      return r.exit_code == 0 && names.find("dl-primary") != std::string::npos &&
             names.find("dl-backup") != std::string::npos;
    },
    15s))
    << names << "\n"
    << node_.output();

  // starting -> active at start-up: a planned role change, not a failover.
  EXPECT_TRUE(traps_->wait_for({"cmsRoleChange", node_.id}, 15s)) << traps_->log() << "\n"
                                                                  << node_.output();
}

} // namespace
