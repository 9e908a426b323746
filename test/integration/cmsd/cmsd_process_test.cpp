// The real cmsd binary, started as an operator would: its command line, its HTTP status endpoint
// over TCP, malformed HTTP, and a clean exit on SIGTERM.

#include "support/process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

const std::string cmsd = CMS_BINARY_DIR "/cmsd";

struct node_files {
  temp_dir dir;
  std::uint16_t http_port = free_port();
  std::uint16_t mgcp_port = free_port(SOCK_DGRAM);
  std::filesystem::path config = dir.path() / "node.toml";

  node_files(const std::string& extra = {}) {
    std::ofstream out{config};
    out << "[node]\nid = \"it-node\"\ndata_dir = \"data\"\n"
        << "[mgcp]\nbind = \"127.0.0.1\"\nport = " << mgcp_port << "\n"
        << "[http]\nbind = \"127.0.0.1\"\nport = " << http_port << "\n"
        << "[peer]\naddress = \"127.0.0.2\"\nlisten_port = " << free_port()
        << "\nudp_heartbeat_port = " << free_port(SOCK_DGRAM) << "\n"
        << "[log]\nlevel = \"info\"\n"
        << extra;
  }
};

std::optional<int> run_to_exit(std::vector<std::string> args, const temp_dir& dir,
                               std::string* out) {
  args.insert(args.begin(), cmsd);
  child_process p{args, dir.path() / "cli.out"};
  auto code = p.wait_exit(10s);
  if (out)
    *out = p.output();
  return code;
}

TEST(cmsd_cli, help_and_version) {
  temp_dir dir;
  std::string out;
  EXPECT_EQ(run_to_exit({"--help"}, dir, &out), 0);
  EXPECT_NE(out.find("--check-config"), std::string::npos);
  EXPECT_EQ(run_to_exit({"--version"}, dir, &out), 0);
  EXPECT_EQ(out.rfind("cmsd ", 0), 0u) << out;
  EXPECT_EQ(run_to_exit({"--bogus"}, dir, &out), 2);
  EXPECT_NE(out.find("unrecognized option"), std::string::npos);
}

TEST(cmsd_cli, check_config_accepts_good_and_refuses_bad_with_location) {
  node_files good;
  std::string out;
  EXPECT_EQ(run_to_exit({"--check-config", good.config.string()}, good.dir, &out), 0) << out;

  node_files bad{"[mgcp2]\nprot = 1\n"};
  EXPECT_EQ(run_to_exit({"--check-config", bad.config.string()}, bad.dir, &out), 2);
  EXPECT_NE(out.find("node.toml"), std::string::npos) << out;
  EXPECT_NE(out.find("mgcp2"), std::string::npos) << out;

  EXPECT_EQ(run_to_exit({"--check-config", "/nonexistent/x.toml"}, good.dir, &out), 2);
  EXPECT_NE(out.find("/nonexistent/x.toml"), std::string::npos) << out;
}

TEST(cmsd_cli, shipped_pair_configs_are_valid) {
  // The shipped configs name their secrets under ../run/certs, which scripts/run-pair.sh makes
  // with gen-certs.sh: lay them out the same way in a scratch copy of the tree.
  temp_dir dir;
  std::filesystem::create_directories(dir.path() / "config");
  const std::string certs = (dir.path() / "run" / "certs").string();
  ASSERT_EQ(std::system(("sh " CMS_SOURCE_DIR "/scripts/gen-certs.sh '" + certs +
                         "' node-a node-b >/dev/null")
                          .c_str()),
            0);
  std::string out;
  for (auto name : {"node-a.toml", "node-b.toml"}) {
    const auto copy = dir.path() / "config" / name;
    std::filesystem::copy_file(std::filesystem::path{CMS_SOURCE_DIR} / "config" / name, copy);
    EXPECT_EQ(run_to_exit({"--check-config", copy.string()}, dir, &out), 0) << out;
  }
  // Without the secrets the check names the missing file and its line.
  std::filesystem::remove(dir.path() / "run" / "certs" / "rks.secret");
  EXPECT_EQ(
    run_to_exit({"--check-config", (dir.path() / "config" / "node-a.toml").string()}, dir, &out),
    2);
  EXPECT_NE(out.find("billing.secret_file"), std::string::npos) << out;
}

class cmsd_node : public ::testing::Test {
protected:
  node_files files;
  std::unique_ptr<child_process> node;

  void SetUp() override {
    node = std::make_unique<child_process>(
      std::vector<std::string>{cmsd, "--config", files.config.string()},
      files.dir.path() / "cmsd.out");
    ASSERT_TRUE(
      eventually([&] { return http_status(http_get(files.http_port, "/healthz")) == 200; }))
      << node->output();
  }
};

TEST_F(cmsd_node, serves_status_metrics_and_errors_then_stops_cleanly_on_sigterm) {
  auto health = http_get(files.http_port, "/healthz");
  EXPECT_EQ(http_status(health), 200);
  EXPECT_EQ(boost::json::parse(http_body(health)).at("status"), "ok");

  auto status = http_get(files.http_port, "/status");
  ASSERT_EQ(http_status(status), 200) << status;
  auto body = boost::json::parse(http_body(status)).as_object();
  EXPECT_EQ(body.at("node_id"), "it-node");
  EXPECT_TRUE(body.contains("role"));
  EXPECT_TRUE(body.contains("epoch"));
  EXPECT_TRUE(body.contains("uptime_s"));
  EXPECT_TRUE(body.contains("version"));
  EXPECT_TRUE(body.at("counters").is_object());

  auto metrics = http_get(files.http_port, "/metrics");
  EXPECT_EQ(http_status(metrics), 200);
  EXPECT_NE(metrics.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE cms_node_start_time_seconds gauge"), std::string::npos) << metrics;

  auto not_found = http_get(files.http_port, "/nope");
  EXPECT_EQ(http_status(not_found), 404);
  EXPECT_TRUE(boost::json::parse(http_body(not_found)).as_object().contains("error"));

  auto wrong_method = tcp_exchange(
    files.http_port, "DELETE /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(http_status(wrong_method), 405);

  auto garbage = tcp_exchange(files.http_port, "\x01\x02 this is not http\r\n\r\n");
  EXPECT_EQ(http_status(garbage), 400);

  // The node survived all of that.
  EXPECT_EQ(http_status(http_get(files.http_port, "/healthz")), 200);

  auto t0 = std::chrono::steady_clock::now();
  node->signal(SIGTERM);
  auto code = node->wait_exit(5s);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(code.has_value()) << "cmsd did not exit after SIGTERM\n" << node->output();
  EXPECT_EQ(*code, 0) << node->output();
  EXPECT_LT(took, 2s) << "shutdown exceeded its 2 s budget";
  EXPECT_NE(node->output().find("event=stopped"), std::string::npos);
}

TEST_F(cmsd_node, second_node_on_the_same_ports_fails_with_exit_1) {
  temp_dir other;
  auto cfg = other.path() / "node.toml";
  std::filesystem::copy_file(files.config, cfg);
  child_process second{{cmsd, "--config", cfg.string()}, other.path() / "out"};
  auto code = second.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_NE(second.output().find("start_failed"), std::string::npos) << second.output();
}

TEST(cmsd_store, corrupt_database_is_refused_and_left_untouched) {
  node_files files;
  auto data = files.dir.path() / "data";
  std::filesystem::create_directories(data);
  {
    std::ofstream db{data / "cms.db", std::ios::binary};
    db << "this is definitely not an sqlite database, but an operator's precious file";
  }
  auto before = std::filesystem::file_size(data / "cms.db");
  child_process p{{cmsd, "--config", files.config.string()}, files.dir.path() / "out"};
  auto code = p.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_NE(p.output().find("store_unusable"), std::string::npos) << p.output();
  EXPECT_EQ(std::filesystem::file_size(data / "cms.db"), before);
}

} // namespace
