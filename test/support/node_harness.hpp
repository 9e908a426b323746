#pragma once
// Test support: one real cmsd process (standalone: its peer never answers, so it becomes active
// after the discovery window) with a provisioned store, an admin token, free ports and helpers to
// talk to its HTTP API. Used by the management tests (cmsctl, dashboard, SNMP).

#include "support/process.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace cms::test {

class node_harness {
public:
  temp_dir dir;
  std::string id = "it-mgmt";
  std::string token = "it-admin-token";
  std::uint16_t http_port = free_port();
  std::uint16_t mgcp_port = free_port(SOCK_DGRAM);
  std::unique_ptr<child_process> process;
  /// The provisioning file imported before the start.
  std::string provisioning = CMS_SOURCE_DIR "/config/provisioning.toml";

  std::filesystem::path data_dir() const { return dir.path() / "data"; }
  std::filesystem::path config_file() const { return dir.path() / "node.toml"; }

  /// Writes the config (with `extra` TOML appended), provisions config/provisioning.toml and
  /// starts cmsd. Throws when provisioning fails.
  void start(const std::string& extra = {}) {
    std::filesystem::create_directories(data_dir());
    std::ofstream out{config_file()};
    out << "[node]\nid = \"" << id << "\"\ndata_dir = \"data\"\n"
        << "[mgcp]\nbind = \"127.0.0.1\"\nport = " << mgcp_port << "\n"
        << "[http]\nbind = \"127.0.0.1\"\nport = " << http_port << "\nadmin_token = \"" << token
        << "\"\n"
        << "[peer]\naddress = \"127.0.0.2\"\nlisten_port = " << free_port()
        << "\nudp_heartbeat_port = " << free_port(SOCK_DGRAM) << "\nheartbeat_interval_ms = 100\n"
        << "[log]\nlevel = \"info\"\n"
        << extra;
    out.close();
    child_process prov{
      {CMS_BINARY_DIR "/cmsd", "--provision", provisioning, (data_dir() / "cms.db").string()},
      dir.path() / "provision.out"};
    if (prov.wait_exit(std::chrono::seconds{20}) != 0)
      throw std::runtime_error("provisioning failed: " + prov.output());
    process = std::make_unique<child_process>(
      std::vector<std::string>{CMS_BINARY_DIR "/cmsd", "--config", config_file().string()},
      dir.path() / "cmsd.out");
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(http_port); }

  boost::json::object get_json(const std::string& path) {
    auto raw = http_get(http_port, path);
    if (http_status(raw) != 200)
      return {};
    boost::system::error_code ec;
    auto v = boost::json::parse(http_body(raw), ec);
    return ec || !v.is_object() ? boost::json::object{} : v.as_object();
  }

  std::string role() {
    auto s = get_json("/status");
    auto* r = s.if_contains("role");
    return r && r->is_string() ? std::string(r->as_string()) : std::string{};
  }

  /// Waits until the node answers /status with role active (standalone after discovery).
  bool wait_active(std::chrono::milliseconds limit = std::chrono::seconds{15}) {
    return eventually([&] { return role() == "active"; }, limit);
  }

  std::string output() const { return process ? process->output() : std::string{}; }
};

/// Runs a program to completion (stdout+stderr in one file); returns {exit code, output}.
inline std::pair<int, std::string>
run_program(std::vector<std::string> argv, const std::filesystem::path& out_file,
            std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  child_process p{std::move(argv), out_file};
  auto code = p.wait_exit(limit);
  return {code ? *code : -999, p.output()};
}

} // namespace cms::test
