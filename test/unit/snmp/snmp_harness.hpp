#pragma once
// Test harness for the SNMP subagent: a temp dir, free loopback ports, real `snmpd` (AgentX master)
// and `snmptrapd` child processes guarded by RAII (killed even when a test fails), and runners for
// the net-snmp command line tools with our MIB loaded.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace cms::snmp::test {

/// A child process killed (SIGTERM, then SIGKILL) and reaped when the guard goes away.
class child_process {
public:
  child_process() = default;
  /// Starts `argv[0]` (looked up in PATH, then /usr/sbin) with stdout and stderr to `log_path`.
  child_process(std::vector<std::string> argv, const std::string& log_path,
                std::vector<std::string> extra_env = {});
  ~child_process();
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  bool alive();
  void kill_and_wait();

private:
  pid_t pid_ = -1;
};

/// A directory under /tmp removed (recursively) when the object goes away.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

/// A UDP port on 127.0.0.1 reserved for this test process (support/port_reservation.hpp).
int free_udp_port();

/// Full path of a program in PATH or /usr/sbin, empty if none.
std::string find_program(const std::string& name);

struct command_result {
  int exit_code = -1;
  std::string out; ///< stdout
  std::string err; ///< stderr
};

/// Runs `argv` (no shell) with `extra_env` ("NAME=value") added and collects its output; gives up
/// (exit_code -1) after `timeout`.
command_result run_command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20),
                           const std::vector<std::string>& extra_env = {});

/// Runs the tests matching `filter` (DISABLED_ ones included) in a fresh copy of this test
/// binary. A process can start the net-snmp subagent only once, so every test that starts one runs
/// this way; the result carries the child's whole output for the failure message.
command_result run_isolated(const std::string& filter);

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

/// -M and -m options that make net-snmp tools resolve CMS-SOFTSWITCH-MIB names: the repo's
/// config/snmp (and its base/ stand-ins for the IETF modules Debian does not ship).
std::vector<std::string> mib_options();

/// snmpd as AgentX master on a unix socket in `dir`, answering SNMPv2c on 127.0.0.1:udp_port and
/// sending its traps to 127.0.0.1:trap_port.
class snmpd_master {
public:
  snmpd_master(const std::string& dir, int udp_port, int trap_port);
  std::string agentx_socket() const { return "unix:" + socket_path_; }
  int udp_port() const { return udp_port_; }
  /// Starts (or restarts) snmpd and waits until it answers a GET of sysUpTime.
  void start();
  void stop() { process_.kill_and_wait(); }
  std::string log() const;

private:
  std::string dir_;
  std::string socket_path_;
  int udp_port_;
  child_process process_;
};

/// snmptrapd on 127.0.0.1:port, logging every received notification to a file.
class trap_receiver {
public:
  trap_receiver(const std::string& dir, int port);
  std::string log() const;
  /// Waits until a notification whose log text contains every string of `needles` arrives.
  bool wait_for(const std::vector<std::string>& needles,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

private:
  std::string log_path_;
  child_process process_;
};

} // namespace cms::snmp::test
