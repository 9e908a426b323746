// cmsctl against a real cmsd: human and JSON output, a clear error when the node is unreachable,
// 401/403 refusals of admin actions, and an accepted drain that lands in the node's audit log.

#include "support/node_harness.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

const std::string cmsctl = CMS_BINARY_DIR "/cmsctl";

class cmsctl_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    node = new node_harness;
    node->start();
    ASSERT_TRUE(node->wait_active()) << node->output();
  }
  static void TearDownTestSuite() {
    delete node;
    node = nullptr;
  }

  std::pair<int, std::string> ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {cmsctl, "--node", node->base_url()});
    return run_program(args, node->dir.path() / ("cmsctl-" + std::to_string(++runs_) + ".out"));
  }

  std::vector<boost::json::object> audit_lines() {
    std::ifstream in{node->data_dir() / "audit.log"};
    std::vector<boost::json::object> out;
    std::string line;
    while (std::getline(in, line)) {
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      EXPECT_FALSE(ec) << "audit line is not JSON: " << line;
      if (!ec && v.is_object())
        out.push_back(v.as_object());
    }
    return out;
  }

  static node_harness* node;
  int runs_ = 0;
};
node_harness* cmsctl_test::node = nullptr;

TEST_F(cmsctl_test, status_prints_the_live_node_as_a_table) {
  auto [code, out] = ctl({"status"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("node:"), std::string::npos) << out;
  EXPECT_NE(out.find(node->id), std::string::npos) << out;
  EXPECT_NE(out.find("role:"), std::string::npos) << out;
  EXPECT_NE(out.find("active"), std::string::npos) << out;
  EXPECT_EQ(out.find('{'), std::string::npos) << "human output must not be JSON:\n" << out;
}

TEST_F(cmsctl_test, json_flag_prints_the_api_answer) {
  auto [code, out] = ctl({"--json", "status"});
  ASSERT_EQ(code, 0) << out;
  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  ASSERT_FALSE(ec) << out;
  EXPECT_EQ(v.at("node_id"), node->id.c_str());
  EXPECT_EQ(v.at("role"), node->role().c_str());
}

TEST_F(cmsctl_test, listings_show_provisioned_links_and_trunks) {
  auto [code, out] = ctl({"links"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("dl-primary"), std::string::npos) << out;
  EXPECT_NE(out.find("dl-backup"), std::string::npos) << out;
  auto [tcode, tout] = ctl({"trunks", "--limit", "2"});
  ASSERT_EQ(tcode, 0) << tout;
  EXPECT_NE(tout.find("FACILITY"), std::string::npos) << tout;
  EXPECT_NE(tout.find("(2 of "), std::string::npos) << tout;
}

TEST_F(cmsctl_test, unreachable_node_is_a_clear_error_with_its_own_exit_code) {
  auto port = free_port();
  auto [code, out] =
    run_program({cmsctl, "--node", "http://127.0.0.1:" + std::to_string(port), "status"},
                node->dir.path() / "unreachable.out");
  EXPECT_EQ(code, 3) << out;
  EXPECT_NE(out.find("cmsctl: cannot reach node at http://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
    << out;
}

TEST_F(cmsctl_test, admin_actions_without_token_get_401_and_with_a_wrong_one_403_both_audited) {
  auto before = audit_lines().size();
  auto [code, out] = ctl({"drain"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("(401)"), std::string::npos) << out;
  EXPECT_NE(out.find("authentication required"), std::string::npos) << out;

  auto [wcode, wout] = ctl({"--token", "not-the-token", "drain"});
  EXPECT_EQ(wcode, 1) << wout;
  EXPECT_NE(wout.find("(403)"), std::string::npos) << wout;
  EXPECT_NE(wout.find("invalid bearer token"), std::string::npos) << wout;
  EXPECT_FALSE(node->get_json("/cluster").at("draining").as_bool());

  auto lines = audit_lines();
  ASSERT_EQ(lines.size(), before + 2);
  EXPECT_EQ(lines[before].at("token"), "missing");
  EXPECT_EQ(lines[before].at("status").to_number<int>(), 401);
  EXPECT_EQ(lines[before + 1].at("token"), "invalid");
  EXPECT_EQ(lines[before + 1].at("outcome"), "refused");
  EXPECT_EQ(lines[before + 1].at("remote").as_string().subview().substr(0, 10), "127.0.0.1:");
}

TEST_F(cmsctl_test, drain_with_the_token_is_accepted_and_written_to_the_audit_log) {
  auto [code, out] = ctl({"--token", node->token, "--reason", "night maintenance", "drain"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("draining"), std::string::npos) << out;
  EXPECT_TRUE(node->get_json("/cluster").at("draining").as_bool());
  auto lines = audit_lines();
  ASSERT_FALSE(lines.empty());
  auto& last = lines.back();
  EXPECT_EQ(last.at("action"), "drain");
  EXPECT_EQ(last.at("token"), "valid");
  EXPECT_EQ(last.at("status").to_number<int>(), 200);
  EXPECT_EQ(last.at("outcome"), "accepted");
  EXPECT_EQ(last.at("node"), node->id.c_str());
  std::ifstream raw{node->data_dir() / "audit.log"};
  std::stringstream ss;
  ss << raw.rdbuf();
  EXPECT_EQ(ss.str().find(node->token), std::string::npos) << "the token must never be written";

  auto [ucode, uout] = ctl({"--token", node->token, "undrain"});
  ASSERT_EQ(ucode, 0) << uout;
  EXPECT_FALSE(node->get_json("/cluster").at("draining").as_bool());
}

TEST_F(cmsctl_test, switchover_on_a_node_without_peer_is_refused_with_409) {
  auto [code, out] = ctl({"--token", node->token, "switchover"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("(409)"), std::string::npos) << out;
}

TEST_F(cmsctl_test, provision_imports_a_good_file_and_refuses_a_bad_one_unchanged) {
  auto [code, out] =
    ctl({"--token", node->token, "provision", CMS_SOURCE_DIR "/config/provisioning.toml"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("unchanged"), std::string::npos) << out;

  auto bad = node->dir.path() / "bad.toml";
  std::ofstream{bad} << "[[data_link]]\nname = \"x\"\n";
  auto [bcode, bout] = ctl({"--token", node->token, "provision", bad.string()});
  EXPECT_EQ(bcode, 1) << bout;
  EXPECT_NE(bout.find("(400)"), std::string::npos) << bout;
  EXPECT_NE(bout.find("request body"), std::string::npos) << bout;
  auto links = node->get_json("/links");
  EXPECT_EQ(links.at("total").to_number<int>(), 2) << "a refused import changes nothing";
}

TEST_F(cmsctl_test, link_out_of_service_and_return_show_in_the_listing) {
  auto [code, out] = ctl({"--token", node->token, "out-of-service", "link", "dl-backup"});
  ASSERT_EQ(code, 0) << out;
  auto links = node->get_json("/links?admin_state=out_of_service");
  ASSERT_EQ(links.at("total").to_number<int>(), 1) << boost::json::serialize(links);
  EXPECT_EQ(links.at("items").as_array()[0].at("name"), "dl-backup");
  auto [rcode, rout] = ctl({"--token", node->token, "return", "link", "dl-backup"});
  ASSERT_EQ(rcode, 0) << rout;
  EXPECT_EQ(node->get_json("/links?admin_state=out_of_service").at("total").to_number<int>(), 0);
  auto [ncode, nout] = ctl({"--token", node->token, "out-of-service", "link", "no-such-link"});
  EXPECT_EQ(ncode, 1) << nout;
  EXPECT_NE(nout.find("(404)"), std::string::npos) << nout;
}

TEST_F(cmsctl_test, usage_errors_exit_2) {
  auto [code, out] = ctl({"frobnicate"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("unknown command"), std::string::npos) << out;
  auto [ncode, nout] =
    run_program({cmsctl, "--node", "ftp://x", "status"}, node->dir.path() / "badnode.out");
  EXPECT_EQ(ncode, 2) << nout;
}

} // namespace
