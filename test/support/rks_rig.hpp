#pragma once
// Test rig: one real RKS (FreeRADIUS + config/rks) in a private directory, started and stopped
// through scripts/lib/rks.sh, on a port from the shared reservation helper.

#include "support/port_reservation.hpp"

#include "runtime/radius/accounting_client.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace cms::radius::itest {

/// Runs `cmd` with /bin/sh, returns its stdout; *rc gets the exit status.
inline std::string shell(const std::string& cmd, int* rc = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    if (rc)
      *rc = -1;
    return out;
  }
  std::array<char, 4096> buf{};
  while (auto n = std::fread(buf.data(), 1, buf.size(), p))
    out.append(buf.data(), n);
  int status = ::pclose(p);
  if (rc)
    *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

/// Fails the test (not skips) when a tool the test needs is missing.
inline void require_tool(const std::string& tool) {
  int rc = 0;
  shell("command -v " + tool + " >/dev/null 2>&1", &rc);
  ASSERT_EQ(rc, 0) << tool << " is not installed: run scripts/install-deps.sh";
}

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

inline std::filesystem::path make_temp_dir(const std::string& tag) {
  std::string tmpl =
    (std::filesystem::temp_directory_path() / ("cms-radius-" + tag + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

inline std::string write_secret_file(const std::filesystem::path& path, const std::string& secret) {
  std::ofstream{path, std::ios::trunc} << secret << "\n";
  ::chmod(path.c_str(), 0600);
  return path.string();
}

class rks_instance {
public:
  rks_instance(std::filesystem::path dir, std::string secret_file)
    : dir_(std::move(dir)),
      secret_file_(std::move(secret_file)),
      port_(cms::test::free_port(SOCK_DGRAM)) {}
  ~rks_instance() { stop(); }

  /// Starts FreeRADIUS and waits for its Status-Server answer (rks_start); true on success.
  bool start(std::string* log = nullptr) {
    int rc = 0;
    auto out =
      shell(lib() + "rks_start " + quote(run_dir()) + " 127.0.0.1 " + std::to_string(port_) + " " +
              quote(secret_file_) + " " + quote(db()) + " 2>&1",
            &rc);
    if (log)
      *log = out;
    started_ = rc == 0;
    return started_;
  }
  void stop() {
    if (!started_)
      return;
    shell(lib() + "rks_stop " + quote(run_dir()) + " >/dev/null 2>&1");
    started_ = false;
  }
  std::uint16_t port() const { return port_; }
  boost::asio::ip::udp::endpoint endpoint() const {
    return {boost::asio::ip::address_v4::loopback(), port_};
  }
  std::string db() const { return (dir_ / "em.db").string(); }
  std::string run_dir() const { return (dir_ / "run").string(); }
  /// One value from the EM database (sqlite3 CLI), trimmed.
  std::string query(const std::string& sql) const {
    auto out = shell("sqlite3 -batch -noheader " + quote(db()) + " " + quote(sql) + " 2>&1");
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
      out.pop_back();
    return out;
  }
  long count(const std::string& where = "1") const {
    auto v = query("SELECT count(*) FROM event_message WHERE " + where + ";");
    try {
      return std::stol(v);
    } catch (...) {
      ADD_FAILURE() << "sqlite3: " << v;
      return -1;
    }
  }

private:
  static std::string lib() {
    return "bash -c 'source " CMS_SOURCE_DIR "/scripts/lib/rks.sh && \"$@\"' rks ";
  }
  std::filesystem::path dir_;
  std::string secret_file_;
  std::uint16_t port_;
  bool started_ = false;
};

/// Runs `io` until `done()` or the limit; false on the limit.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return true;
}

/// An EM of `type` with the attributes a CMS puts on call EMs.
inline event_message sample_em(em_type type, std::uint32_t sequence, std::uint32_t counter) {
  event_message em;
  em.header.billing_correlation_id = bcid{1767268800, "12345", "0+000000", counter};
  em.header.type = type;
  em.header.element_id = "12345";
  em.header.sequence = sequence;
  em.header.event_time = "20260101120000.250";
  em.attributes = {
    attr::mta_endpoint_name("aaln/1@mta1.example.net"), attr::calling_party_number("3035551234"),
    attr::called_party_number("3035559876"), attr::direction_indicator(direction::originating)};
  switch (type) {
  case em_type::signaling_stop:
  case em_type::interconnect_signaling_stop:
    em.attributes.push_back(attr::termination_cause({1, 16}));
    break;
  case em_type::interconnect_signaling_start:
    em.attributes.push_back(attr::trunk_group({9, 42}));
    em.attributes.push_back(attr::routing_number("3035550000"));
    break;
  case em_type::time_change:
    em.attributes = {attr::time_adjustment(-1500)};
    break;
  case em_type::qos_reserve:
  case em_type::qos_commit:
    em.attributes.push_back(attr::qos({1u | (1u << 3), "voice", {20000}}));
    break;
  default:
    break;
  }
  return em;
}

} // namespace cms::radius::itest
