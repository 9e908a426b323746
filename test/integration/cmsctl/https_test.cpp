// HTTPS on the management port ([http] tls = true with the node's [tls] certificate), against a
// real cmsd: cmsctl (and curl, when installed) read /status over TLS verifying the node's
// certificate; plain HTTP to that port gets a clear 400 and nothing else; an unknown CA is refused
// by the client; tls = true without [tls] is a configuration error, and a missing certificate
// file stops the node at start with a message naming the file.

#include "support/node_harness.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

const std::string cmsd = CMS_BINARY_DIR "/cmsd";
const std::string cmsctl = CMS_BINARY_DIR "/cmsctl";

class https_test : public ::testing::Test {
protected:
  void SetUp() override {
    auto cmd = "sh '" CMS_SOURCE_DIR "/scripts/gen-certs.sh' '" + certs().string() +
               "' node-a >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "gen-certs.sh failed";
    std::filesystem::create_directories(dir_.path() / "data");
  }

  std::filesystem::path certs() const { return dir_.path() / "certs"; }

  /// Writes a node config with [http] tls = true and `tls_section` appended; returns its path.
  std::filesystem::path write_config(const std::string& name, const std::string& tls_section) {
    auto file = dir_.path() / name;
    std::ofstream out{file};
    out << "[node]\nid = \"it-https\"\ndata_dir = \"data\"\n"
        << "[mgcp]\nbind = \"127.0.0.1\"\nport = " << free_port(SOCK_DGRAM) << "\n"
        << "[http]\nbind = \"127.0.0.1\"\nport = " << http_port_
        << "\ntls = true\nadmin_token = \"t\"\n"
        << "[peer]\naddress = \"127.0.0.2\"\nlisten_port = " << free_port()
        << "\nudp_heartbeat_port = " << free_port(SOCK_DGRAM) << "\nheartbeat_interval_ms = 100\n"
        << tls_section;
    return file;
  }

  std::string tls_section(const std::string& certificate) const {
    return "[tls]\ncertificate = \"" + certificate + "\"\nkey = \"" +
           (certs() / "node-a.key").string() + "\"\nca = \"" + (certs() / "ca.crt").string() +
           "\"\n";
  }

  std::pair<int, std::string> run(std::vector<std::string> argv) {
    return run_program(std::move(argv), dir_.path() / ("run-" + std::to_string(++runs_) + ".out"));
  }

  temp_dir dir_;
  std::uint16_t http_port_ = free_port();
  int runs_ = 0;
};

TEST_F(https_test, status_over_tls_and_plain_http_refused_cleanly) {
  auto cfg = write_config("node.toml", tls_section((certs() / "node-a.crt").string()));
  child_process node{{cmsd, "--config", cfg.string()}, dir_.path() / "cmsd.out"};
  auto url = "https://127.0.0.1:" + std::to_string(http_port_);
  auto ca = (certs() / "ca.crt").string();

  std::pair<int, std::string> status;
  ASSERT_TRUE(eventually(
    [&] {
      status = run({cmsctl, "--node", url, "--ca", ca, "--json", "status"});
      return status.first == 0;
    },
    15s))
    << status.second << node.output();
  EXPECT_NE(status.second.find("\"node_id\":\"it-https\""), std::string::npos) << status.second;
  EXPECT_NE(node.output().find("(https)"), std::string::npos) << node.output();

  // Plain HTTP to the HTTPS port: a clear-text 400 that says why, then the close.
  auto raw = http_get(http_port_, "/status");
  EXPECT_EQ(http_status(raw), 400) << raw;
  EXPECT_NE(http_body(raw).find("this port speaks HTTPS"), std::string::npos) << raw;
  auto refused =
    run({cmsctl, "--node", "http://127.0.0.1:" + std::to_string(http_port_), "status"});
  EXPECT_EQ(refused.first, 1) << refused.second;

  // A client that does not trust the node's CA refuses the connection.
  auto untrusted =
    run({cmsctl, "--node", url, "--ca", (certs() / "rogue-ca.crt").string(), "status"});
  EXPECT_EQ(untrusted.first, 3) << untrusted.second;
  EXPECT_NE(untrusted.second.find("certificate verify failed"), std::string::npos)
    << untrusted.second;

  // An admin action over TLS, with the token.
  auto drain =
    run({cmsctl, "--node", url, "--ca", ca, "--token", "t", "drain", "--reason", "tls test"});
  EXPECT_EQ(drain.first, 0) << drain.second;

  if (std::system("command -v curl >/dev/null 2>&1") == 0) {
    auto [code, out] = run({"/usr/bin/env", "curl", "-sS", "--cacert", ca, url + "/status"});
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("\"node_id\":\"it-https\""), std::string::npos) << out;
  }
}

TEST_F(https_test, tls_without_certificate_is_a_config_error) {
  auto cfg = write_config("no-tls.toml", "");
  auto [code, out] = run({cmsd, "--check-config", cfg.string()});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("http.tls"), std::string::npos) << out;
  EXPECT_NE(out.find("certificate"), std::string::npos) << out;
}

TEST_F(https_test, a_missing_certificate_file_stops_the_node_with_its_name) {
  auto missing = (certs() / "no-such.crt").string();
  auto cfg = write_config("missing.toml", tls_section(missing));
  auto [code, out] = run({cmsd, "--config", cfg.string()});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("event=start_failed"), std::string::npos) << out;
  EXPECT_NE(out.find(missing), std::string::npos) << out;
}

} // namespace
