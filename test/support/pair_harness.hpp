#pragma once
// Test support: a real cmsd pair (two processes) with development certificates, optional
// witnesses, free ports and /status polling. Used by the pair's integration tests and drills.

#include "support/process.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace cms::test {

struct node_ports {
  std::uint16_t http = free_port();
  std::uint16_t mgcp = free_port(SOCK_DGRAM);
  std::uint16_t link = free_port();
  std::uint16_t udp = free_port(SOCK_DGRAM);
};

class pair_harness {
public:
  temp_dir dir;
  node_ports ports[2];
  std::vector<std::uint16_t> witness_ports;
  std::vector<std::unique_ptr<child_process>> witnesses;
  std::unique_ptr<child_process> nodes[2];
  std::string names[2] = {"cms-a", "cms-b"};
  std::string extra_config;
  int lease_ms = 900; ///< [peer] lease_ms when witnesses are configured

  explicit pair_harness(int witness_count = 0) {
    auto certs = dir.path() / "certs";
    auto cmd = std::string{CMS_SOURCE_DIR} + "/scripts/gen-certs.sh " + certs.string() +
               " node-a node-b rks client >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0)
      throw std::runtime_error("gen-certs.sh failed");
    for (int i = 0; i < witness_count; ++i) {
      auto port = free_port(SOCK_DGRAM);
      witness_ports.push_back(port);
      witnesses.push_back(std::make_unique<child_process>(
        std::vector<std::string>{CMS_BINARY_DIR "/cms-witness", "--listen",
                                 "127.0.0.1:" + std::to_string(port), "--cluster", "it-pair",
                                 "--state",
                                 (dir.path() / ("witness" + std::to_string(i) + ".json")).string(),
                                 "--key", key_file().string(), "--allow", "127.0.0.1"},
        dir.path() / ("witness" + std::to_string(i) + ".out")));
    }
  }

  std::filesystem::path config(int i, const std::string& cert_name = {}) {
    auto file = dir.path() / (names[i] + ".toml");
    auto& me = ports[i];
    auto& peer = ports[1 - i];
    auto cert = cert_name.empty() ? std::string{i == 0 ? "node-a" : "node-b"} : cert_name;
    std::ofstream out{file};
    out << "[node]\nid = \"" << names[i] << "\"\npriority = " << (i == 0 ? 100 : 50)
        << "\ncluster_id = \"it-pair\"\ndata_dir = \"" << names[i] << "-data\"\n"
        << "[mgcp]\nbind = \"127.0.0.1\"\nport = " << me.mgcp << "\n"
        << "[http]\nbind = \"127.0.0.1\"\nport = " << me.http << "\n"
        << "[peer]\naddress = \"127.0.0.1\"\nport = " << peer.link
        << "\nlisten_address = \"127.0.0.1\"\n"
        << "listen_port = " << me.link << "\nudp_heartbeat_port = " << me.udp
        << "\npeer_udp_heartbeat_port = " << peer.udp
        << "\nheartbeat_interval_ms = 100\nheartbeat_misses = 3\n"
        << "key_file = \"" << key_file().string() << "\"\n";
    if (!witness_ports.empty()) {
      out << "lease_ms = " << lease_ms << "\nwitnesses = [";
      for (std::size_t w = 0; w < witness_ports.size(); ++w)
        out << (w ? ", " : "") << "\"127.0.0.1:" << witness_ports[w] << "\"";
      out << "]\n";
    }
    auto certs = dir.path() / "certs";
    out << "[tls]\ncertificate = \"" << (certs / (cert + ".crt")).string() << "\"\nkey = \""
        << (certs / (cert + ".key")).string() << "\"\nca = \""
        << (certs / (cert.rfind("rogue", 0) == 0 ? "rogue-ca.crt" : "ca.crt")).string() << "\"\n"
        << "[log]\nlevel = \"info\"\n"
        << extra_config;
    return file;
  }

  void start(int i, const std::string& cert_name = {}) {
    auto cfg = config(i, cert_name);
    nodes[i] = std::make_unique<child_process>(
      std::vector<std::string>{CMS_BINARY_DIR "/cmsd", "--config", cfg.string()},
      dir.path() / (names[i] + "-" + std::to_string(++starts_[i]) + ".out"));
  }

  /// /status of node i, or an empty object when it does not answer.
  boost::json::object status(int i) {
    auto raw = http_get(ports[i].http, "/status");
    if (http_status(raw) != 200)
      return {};
    boost::system::error_code ec;
    auto v = boost::json::parse(http_body(raw), ec);
    return ec || !v.is_object() ? boost::json::object{} : v.as_object();
  }

  std::string role(int i) {
    auto s = status(i);
    auto* r = s.if_contains("role");
    return r && r->is_string() ? std::string(r->as_string()) : std::string{};
  }

  std::uint64_t epoch(int i) {
    auto s = status(i);
    auto* e = s.if_contains("epoch");
    return e && e->is_number() ? e->to_number<std::uint64_t>() : 0;
  }

  std::string output(int i) { return nodes[i] ? nodes[i]->output() : std::string{}; }

  /// The cluster key of the UDP control plane (written by gen-certs.sh).
  std::filesystem::path key_file() { return dir.path() / "certs" / "ha.key"; }

private:
  int starts_[2] = {0, 0};
};

} // namespace cms::test
