#include "unit/snmp/snmp_harness.hpp"
#include "support/eventually.hpp"

#include "support/port_reservation.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cms::snmp::test {
namespace {

std::vector<char*> c_argv(std::vector<std::string>& argv) {
  std::vector<char*> result;
  for (auto& a : argv)
    result.push_back(a.data());
  result.push_back(nullptr);
  return result;
}

/// Environment for the net-snmp tools: no user config, no persistent state outside `dir`.
void prepare_child_env(const std::vector<std::string>& extra_env) {
  ::setenv("SNMPCONFPATH", "/nonexistent", 1);
  ::unsetenv("MIBS");
  ::unsetenv("MIBDIRS");
  for (const auto& kv : extra_env) {
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      ::setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
  }
}

} // namespace

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? name : std::string{};
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/sbin";
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty())
      continue;
    auto candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

child_process::child_process(std::vector<std::string> argv, const std::string& log_path,
                             std::vector<std::string> extra_env) {
  const auto program = find_program(argv.at(0));
  if (program.empty())
    throw std::runtime_error("program not found: " + argv[0]);
  argv[0] = program;
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // If the test process dies without running the guard's destructor (a crash), the kernel
    // still takes the child down with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(1);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::setpgid(0, 0);
    prepare_child_env(extra_env);
    auto args = c_argv(argv);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

child_process::~child_process() { kill_and_wait(); }

child_process::child_process(child_process&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    kill_and_wait();
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

bool child_process::alive() {
  if (pid_ <= 0)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void child_process::kill_and_wait() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) { // up to 2 s for a clean exit
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

temp_dir::temp_dir() {
  char pattern[] = "/tmp/cms-snmp-test-XXXXXX";
  if (::mkdtemp(pattern) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

int free_udp_port() { return cms::test::free_port(SOCK_DGRAM); }

command_result run_command(const std::vector<std::string>& argv_in,
                           std::chrono::milliseconds timeout,
                           const std::vector<std::string>& extra_env) {
  command_result result;
  auto argv = argv_in;
  const auto program = find_program(argv.at(0));
  if (program.empty()) {
    result.err = "program not found: " + argv[0];
    return result;
  }
  argv[0] = program;
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe(out_pipe) != 0)
    return result;
  if (::pipe(err_pipe) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    prepare_child_env(extra_env);
    auto args = c_argv(argv);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
        continue;
      char buffer[4096];
      const auto n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0)
      ::close(f.fd);
  if (timed_out)
    ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = timed_out ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return result;
}

command_result run_isolated(const std::string& filter) {
  char self[4096];
  const auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return {-1, "", "cannot find /proc/self/exe"};
  self[n] = '\0';
  auto result = run_command({self, "--gtest_filter=" + filter, "--gtest_also_run_disabled_tests"},
                            std::chrono::minutes(5));
  // A filter that matched nothing also exits 0: make that a failure.
  if (result.out.find("[  PASSED  ] 0 tests") != std::string::npos)
    result.exit_code = 1;
  return result;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return cms::test::eventually(condition, timeout, std::chrono::milliseconds(50));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::vector<std::string> mib_options() {
  const std::string config = std::string(CMS_SOURCE_DIR) + "/config/snmp";
  return {"-M", "+" + config + ":" + config + "/base", "-m", "+CMS-SOFTSWITCH-MIB"};
}

snmpd_master::snmpd_master(const std::string& dir, int udp_port, int trap_port)
  : dir_(dir),
    socket_path_(dir + "/agentx.sock"),
    udp_port_(udp_port) {
  std::filesystem::create_directories(dir_ + "/snmpd-state");
  write_file(dir_ + "/snmpd.conf", "master agentx\n"
                                   "agentXSocket unix:" +
                                     socket_path_ +
                                     "\n"
                                     "agentaddress udp:127.0.0.1:" +
                                     std::to_string(udp_port) +
                                     "\n"
                                     "rocommunity public 127.0.0.1\n"
                                     "trap2sink 127.0.0.1:" +
                                     std::to_string(trap_port) + " public\n");
}

void snmpd_master::start() {
  process_.kill_and_wait();
  // -I -smux: no SMUX listener on the fixed port 199, which parallel test runs would share.
  process_ =
    child_process({"snmpd", "-f", "-Lo", "-C", "-c", dir_ + "/snmpd.conf", "-I", "-smux"},
                  dir_ + "/snmpd.log", {"SNMP_PERSISTENT_DIR=" + dir_ + "/snmpd-state", "MIBS="});
  const auto target = "127.0.0.1:" + std::to_string(udp_port_);
  const bool up = eventually([&] {
    auto r = run_command({"snmpget", "-v2c", "-c", "public", "-t", "0.3", "-r", "0", "-On", target,
                          "1.3.6.1.2.1.1.3.0"});
    return r.exit_code == 0 && r.out.find("Timeticks") != std::string::npos;
  });
  if (!up)
    throw std::runtime_error("snmpd did not come up:\n" + log());
}

std::string snmpd_master::log() const { return read_file(dir_ + "/snmpd.log"); }

trap_receiver::trap_receiver(const std::string& dir, int port) : log_path_(dir + "/traps.log") {
  std::filesystem::create_directories(dir + "/snmptrapd-state");
  write_file(dir + "/snmptrapd.conf", "disableAuthorization yes\n");
  std::vector<std::string> argv = {
    "snmptrapd", "-f", "-Lf", log_path_, "-C", "-c", dir + "/snmptrapd.conf"};
  for (auto& option : mib_options())
    argv.push_back(option);
  argv.push_back("udp:127.0.0.1:" + std::to_string(port));
  process_ = child_process(argv, dir + "/snmptrapd.out",
                           {"SNMP_PERSISTENT_DIR=" + dir + "/snmptrapd-state"});
  // snmptrapd logs its version line once its socket is bound.
  if (!eventually([&] { return log().find("NET-SNMP version") != std::string::npos; }))
    throw std::runtime_error("snmptrapd did not come up:\n" + read_file(dir + "/snmptrapd.out"));
}

std::string trap_receiver::log() const { return read_file(log_path_); }

bool trap_receiver::wait_for(const std::vector<std::string>& needles,
                             std::chrono::milliseconds timeout) const {
  return eventually(
    [&] {
      std::istringstream lines(log());
      std::string line;
      while (std::getline(lines, line)) {
        bool all = true;
        for (const auto& n : needles)
          all = all && line.find(n) != std::string::npos;
        if (all)
          return true;
      }
      return false;
    },
    timeout);
}

} // namespace cms::snmp::test

// net-snmp 5.9 allocates two things in init_agent() that no shutdown call releases (the MIB
// parser's hash buckets and the TLS certificate containers): one small block per start(). They
// are the library's, not the subagent's, so LeakSanitizer is told to ignore exactly those.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:netsnmp_init_mib_internals\n"
         "leak:netsnmp_certs_agent_init\n";
}
