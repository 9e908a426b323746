#include "runtime/base/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using cms::config::config_error;
using cms::config::load_node_config;

namespace {

/// A fresh directory per test, removed afterwards.
class config_test : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cms-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  /// Loads `text` and returns the config_error it must raise.
  config_error refused(const std::string& text) {
    auto p = write("node.toml", text);
    try {
      load_node_config(p);
    } catch (const config_error& e) {
      return e;
    }
    ADD_FAILURE() << "config was accepted:\n" << text;
    return config_error("", 0, "", "");
  }

  static constexpr const char* minimal = "[node]\n"
                                         "id = \"cms-t\"\n"
                                         "data_dir = \"data\"\n"
                                         "[peer]\n"
                                         "address = \"127.0.0.2\"\n";

  fs::path dir_;
};

TEST_F(config_test, minimal_file_gets_defaults) {
  auto cfg = load_node_config(write("node.toml", minimal));
  EXPECT_EQ(cfg.node.id, "cms-t");
  EXPECT_EQ(cfg.node.priority, 100);
  EXPECT_EQ(cfg.node.data_dir, (dir_ / "data").lexically_normal());
  EXPECT_EQ(cfg.mgcp.port, 2727);
  EXPECT_EQ(cfg.mgcp.dscp, 26);
  EXPECT_EQ(cfg.mgcp.call_agent_name, "ca@cms-t");
  EXPECT_EQ(cfg.http.bind, "127.0.0.1");
  EXPECT_FALSE(cfg.http.admin_token.has_value());
  EXPECT_EQ(cfg.peer.address, "127.0.0.2");
  EXPECT_EQ(cfg.management.dscp, 8);
  EXPECT_EQ(cfg.log.level, "info");
  EXPECT_TRUE(cfg.log.file.empty());
  EXPECT_FALSE(cfg.tls.configured());
  EXPECT_FALSE(cfg.billing.rks_primary.has_value());
  EXPECT_EQ(cfg.billing.retention.count(), 7 * 24 * 3600);
  EXPECT_FALSE(cfg.snmp.enabled);
}

TEST_F(config_test, repository_node_configs_load) {
  const fs::path src = CMS_SOURCE_DIR;
  auto a = load_node_config(src / "config/node-a.toml");
  auto b = load_node_config(src / "config/node-b.toml");
  EXPECT_EQ(a.node.id, "cms-a");
  EXPECT_EQ(b.node.id, "cms-b");
  EXPECT_GT(a.node.priority, b.node.priority);
  EXPECT_EQ(a.node.cluster_id, b.node.cluster_id);
  EXPECT_EQ(a.node.data_dir, (src / "run/node-a").lexically_normal());
  EXPECT_EQ(a.tls.ca, (src / "run/certs/ca.crt").lexically_normal());
  EXPECT_EQ(b.tls.certificate, (src / "run/certs/node-b.crt").lexically_normal());
  // Each node's peer is the other's node-link listener.
  EXPECT_EQ(a.peer.address, b.peer.listen_address);
  EXPECT_EQ(a.peer.port, b.peer.listen_port);
  EXPECT_EQ(b.peer.address, a.peer.listen_address);
  EXPECT_EQ(b.peer.port, a.peer.listen_port);
  EXPECT_EQ(a.peer.peer_udp_heartbeat_port, b.peer.udp_heartbeat_port);
  EXPECT_NE(a.http.port, b.http.port);
  ASSERT_TRUE(a.billing.rks_primary.has_value());
  EXPECT_EQ(a.billing.rks_primary->port, 9100);
}

TEST_F(config_test, full_file_is_read) {
  auto cfg = load_node_config(write("node.toml", R"([node]
id = "n1"
priority = 7
cluster_id = "pair-9"
data_dir = "/var/lib/cms"
[mgcp]
bind = "0.0.0.0"
port = 2728
dscp = 46
call_agent_name = "ca@x.example"
receive_buffer_bytes = 1048576
[http]
port = 0
admin_token = "s3cret"
max_request_bytes = 4096
max_requests_per_s = 200
request_burst = 20
max_pace_delay_ms = 300
[peer]
address = "10.0.0.2"
port = 5000
listen_port = 5001
heartbeat_interval_ms = 50
heartbeat_misses = 4
udp_heartbeat_port = 6000
[tls]
certificate = "c.crt"
key = "/abs/k.key"
ca = "sub/../ca.crt"
[log]
level = "debug"
file = "logs/n1.log"
[management]
dscp = 16
[billing]
rks_primary = "rks1.example:1813"
rks_backup = "10.0.0.9:1814"
secret_file = "rks.secret"
batch_size = 10
retention_s = 3600
[links]
probe_interval_ms = 250
probe_misses = 5
[snmp]
enabled = true
agentx_socket = "tcp:localhost:705"
)"));
  EXPECT_EQ(cfg.node.priority, 7);
  EXPECT_EQ(cfg.node.data_dir, "/var/lib/cms");
  EXPECT_EQ(cfg.mgcp.port, 2728);
  EXPECT_EQ(cfg.mgcp.dscp, 46);
  EXPECT_EQ(cfg.mgcp.receive_buffer_bytes, 1048576u);
  EXPECT_EQ(cfg.http.port, 0);
  EXPECT_EQ(cfg.http.admin_token.value_or(""), "s3cret");
  EXPECT_EQ(cfg.http.max_request_bytes, 4096u);
  EXPECT_EQ(cfg.http.max_requests_per_s, 200);
  EXPECT_EQ(cfg.http.request_burst, 20);
  EXPECT_EQ(cfg.http.max_pace_delay.count(), 300);
  EXPECT_EQ(cfg.peer.heartbeat_interval.count(), 50);
  EXPECT_EQ(cfg.peer.udp_heartbeat_port, 6000);
  EXPECT_EQ(cfg.peer.peer_udp_heartbeat_port, 6000); // defaults to ours
  EXPECT_EQ(cfg.tls.certificate, dir_ / "c.crt");
  EXPECT_EQ(cfg.tls.key, "/abs/k.key");
  EXPECT_EQ(cfg.tls.ca, dir_ / "ca.crt");
  EXPECT_EQ(cfg.log.file, dir_ / "logs/n1.log");
  EXPECT_EQ(cfg.management.dscp, 16);
  ASSERT_TRUE(cfg.billing.rks_primary);
  EXPECT_EQ(cfg.billing.rks_primary->host, "rks1.example");
  EXPECT_EQ(cfg.billing.rks_primary->port, 1813);
  EXPECT_EQ(cfg.billing.rks_secondary->host, "10.0.0.9");
  EXPECT_EQ(cfg.billing.retention.count(), 3600);
  EXPECT_EQ(cfg.links.probe_misses, 5);
  EXPECT_TRUE(cfg.snmp.enabled);
  EXPECT_EQ(cfg.snmp.agentx_socket, "tcp:localhost:705");
}

TEST_F(config_test, unknown_key_names_file_line_and_key) {
  auto e = refused(std::string(minimal) + "[mgcp]\nport = 2727\nprot = 2728\n");
  EXPECT_EQ(e.file(), (dir_ / "node.toml").string());
  EXPECT_EQ(e.line(), 8u);
  EXPECT_EQ(e.key(), "mgcp.prot");
  std::string what = e.what();
  EXPECT_NE(what.find("node.toml:8: mgcp.prot: unknown key"), std::string::npos) << what;
}

TEST_F(config_test, unknown_section_and_nested_table_are_refused) {
  auto e = refused(std::string(minimal) + "\n[mgpc]\nport = 1\n");
  EXPECT_EQ(e.key(), "mgpc");
  EXPECT_EQ(e.line(), 7u);
  auto n = refused(std::string(minimal) + "[http.extra]\nx = 1\n");
  EXPECT_EQ(n.key(), "http.extra");
  EXPECT_EQ(n.line(), 6u);
}

TEST_F(config_test, a_negative_request_rate_bound_is_refused) {
  auto e = refused(std::string(minimal) + "[http]\nmax_requests_per_s = -5\n");
  EXPECT_EQ(e.key(), "http.max_requests_per_s");
}

TEST_F(config_test, wrong_type_is_refused) {
  auto e = refused(std::string(minimal) + "[mgcp]\nport = \"2727\"\n");
  EXPECT_EQ(e.key(), "mgcp.port");
  EXPECT_EQ(e.line(), 7u);
  EXPECT_NE(std::string(e.what()).find("expected an integer, got string"), std::string::npos)
    << e.what();
  auto s = refused("mgcp = 3\n" + std::string(minimal));
  EXPECT_EQ(s.key(), "mgcp");
  EXPECT_EQ(s.line(), 1u);
  auto b = refused(std::string(minimal) + "[snmp]\nenabled = \"yes\"\n");
  EXPECT_EQ(b.key(), "snmp.enabled");
}

TEST_F(config_test, bad_values_are_refused) {
  auto port = refused(std::string(minimal) + "[mgcp]\nport = 70000\n");
  EXPECT_EQ(port.key(), "mgcp.port");
  EXPECT_EQ(port.line(), 7u);
  EXPECT_NE(std::string(port.what()).find("out of range 0..65535"), std::string::npos);

  auto level = refused(std::string(minimal) + "[log]\n\nlevel = \"verbose\"\n");
  EXPECT_EQ(level.key(), "log.level");
  EXPECT_EQ(level.line(), 8u);
  EXPECT_NE(std::string(level.what()).find("unknown log level \"verbose\""), std::string::npos);

  auto dscp = refused(std::string(minimal) + "[management]\ndscp = 64\n");
  EXPECT_EQ(dscp.key(), "management.dscp");
  auto rks = refused(std::string(minimal) + "[billing]\nrks_primary = \"rks.example\"\n");
  EXPECT_EQ(rks.key(), "billing.rks_primary");
  auto rks_port = refused(std::string(minimal) + "[billing]\nrks_primary = \"h:99999\"\n");
  EXPECT_EQ(rks_port.key(), "billing.rks_primary");
  auto retention = refused(std::string(minimal) + "[billing]\nretention_s = -1\n");
  EXPECT_EQ(retention.key(), "billing.retention_s");
  auto ca = refused(std::string(minimal) + "[mgcp]\ncall_agent_name = \"ca\"\n");
  EXPECT_EQ(ca.key(), "mgcp.call_agent_name");
  auto neg = refused(std::string(minimal) + "[peer.x]\n");
  EXPECT_EQ(neg.key(), "peer.x");
}

TEST_F(config_test, partial_tls_is_refused) {
  auto e = refused(std::string(minimal) + "[tls]\ncertificate = \"a.crt\"\nkey = \"a.key\"\n");
  EXPECT_EQ(e.key(), "tls.ca");
  EXPECT_EQ(e.line(), 6u); // the [tls] header: the key itself is absent
}

TEST_F(config_test, missing_required_keys_are_refused) {
  auto id = refused("[node]\ndata_dir = \"d\"\n[peer]\naddress = \"a\"\n");
  EXPECT_EQ(id.key(), "node.id");
  EXPECT_EQ(id.line(), 1u);
  auto dd = refused("[node]\nid = \"x\"\n[peer]\naddress = \"a\"\n");
  EXPECT_EQ(dd.key(), "node.data_dir");
  auto peer = refused("[node]\nid = \"x\"\ndata_dir = \"d\"\n");
  EXPECT_EQ(peer.key(), "peer.address");
  auto empty = refused("[node]\nid = \"\"\ndata_dir = \"d\"\n[peer]\naddress = \"a\"\n");
  EXPECT_EQ(empty.key(), "node.id");
  EXPECT_EQ(empty.line(), 2u);
}

TEST_F(config_test, syntax_error_names_file_and_line) {
  auto e = refused("[node]\nid = \"x\"\ndata_dir = \n");
  EXPECT_EQ(e.line(), 3u);
  EXPECT_NE(std::string(e.what()).find("node.toml:3: syntax error"), std::string::npos) << e.what();
  auto dup = refused(std::string(minimal) + "[node]\n");
  EXPECT_NE(std::string(dup.what()).find("syntax error"), std::string::npos) << dup.what();
}

TEST_F(config_test, missing_or_unreadable_file_is_refused) {
  auto missing = dir_ / "nope.toml";
  try {
    load_node_config(missing);
    FAIL() << "missing file accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), missing.string());
    EXPECT_EQ(e.line(), 0u);
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
  try {
    load_node_config(dir_);
    FAIL() << "directory accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

} // namespace

namespace {

TEST_F(config_test, emergency_codes_and_window_are_read_and_a_bad_code_is_refused_at_its_line) {
  auto defaults = load_node_config(write("node.toml", minimal));
  EXPECT_EQ(defaults.calls.emergency_codes, std::vector<std::string>{"911"});
  EXPECT_EQ(defaults.calls.emergency_window, std::chrono::milliseconds{10000});
  auto cfg = load_node_config(write(
    "node.toml", std::string(minimal) +
                   "[calls]\nemergency_codes = [\"911\", \"933\"]\nemergency_window_ms = 0\n"));
  EXPECT_EQ(cfg.calls.emergency_codes, (std::vector<std::string>{"911", "933"}));
  EXPECT_EQ(cfg.calls.emergency_window, std::chrono::milliseconds{0});
  auto e = refused(std::string(minimal) + "[calls]\nemergency_codes = [\"911\",\n  \"9-1-1\"]\n");
  EXPECT_EQ(e.key(), "calls.emergency_codes");
  EXPECT_EQ(e.line(), 8u);
  auto t = refused(std::string(minimal) + "[calls]\nemergency_codes = \"911\"\n");
  EXPECT_EQ(t.key(), "calls.emergency_codes");
}

} // namespace
