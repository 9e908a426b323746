#include "rks_harness.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace cms::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/cms-billing-XXXXXX";
  if (!::mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

bool generate_certs(const std::string& dir) {
  const std::string cmd =
    std::string{"sh '"} + CMS_SOURCE_DIR + "/scripts/gen-certs.sh' '" + dir + "' >/dev/null";
  return std::system(cmd.c_str()) == 0;
}

billing::tls_settings tls_for(const std::string& cert_dir, const std::string& name,
                              const std::string& ca) {
  return {cert_dir + "/" + name + ".crt", cert_dir + "/" + name + ".key",
          cert_dir + "/" + ca + ".crt"};
}

namespace {

std::string rks_binary() { return std::string{CMS_BINARY_DIR} + "/rks"; }

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

command_result run_rks(const std::vector<std::string>& args) {
  std::string cmd = shell_quote(rks_binary());
  for (const auto& a : args)
    cmd += " " + shell_quote(a);
  command_result result;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p)
    return result;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    result.out.append(buf, n);
  const int status = ::pclose(p);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

long long rks_count(const std::string& db) {
  auto r = run_rks({"count", "--db", db});
  if (r.status != 0)
    return -1;
  return std::stoll(r.out);
}

rks_process::rks_process(std::string cert_dir, std::string db, std::string log_file,
                         std::vector<std::string> extra_args)
  : cert_dir_(std::move(cert_dir)),
    db_(std::move(db)),
    log_file_(std::move(log_file)),
    extra_args_(std::move(extra_args)) {}

rks_process::~rks_process() {
  if (pid_ > 0)
    stop();
}

bool rks_process::start(std::uint16_t port) {
  const std::string port_file = db_ + ".port";
  std::remove(port_file.c_str());
  std::vector<std::string> args{rks_binary(),  "serve",
                                "--listen",    "127.0.0.1:" + std::to_string(port),
                                "--db",        db_,
                                "--cert",      cert_dir_ + "/rks.crt",
                                "--key",       cert_dir_ + "/rks.key",
                                "--ca",        cert_dir_ + "/ca.crt",
                                "--port-file", port_file};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return false;
  }
  for (int i = 0; i < 500; ++i) { // 10 s
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::ifstream in{port_file};
    unsigned p = 0;
    if (in >> p && p != 0) {
      port_ = static_cast<std::uint16_t>(p);
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

int rks_process::stop() {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 500; ++i) { // 10 s
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string rks_process::log() const { return read_file(log_file_); }

bool rks_process::log_contains(const std::string& text) const {
  for (int i = 0; i < 250; ++i) {
    if (log().find(text) != std::string::npos)
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::vector<billing::billing_record> make_records(std::uint64_t first_seq, std::size_t n) {
  std::vector<billing::billing_record> out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto seq = first_seq + i;
    billing::billing_record r;
    r.call_id = "call-" + std::to_string(seq / 3);
    static const char* events[] = {"signaling_start", "call_answer", "signaling_stop"};
    r.event = events[seq % 3];
    r.record_id = r.call_id + ":" + r.event;
    r.sequence = seq;
    r.calling_number = "5551000";
    r.called_number = "5552" + std::to_string(seq);
    r.originating = "aaln/1@mta-a.example";
    r.terminating = "ds/ds1-0/" + std::to_string(seq % 24 + 1) + "@mgw.example";
    r.route = "pstn-west";
    r.carrier = "0288";
    r.timestamp_ms = 1'700'000'000'000 + static_cast<std::int64_t>(seq) * 1000;
    r.release_cause = r.event == "signaling_stop" ? 16 : 0;
    r.connection_stats = "PS=120, OS=19200, PR=118, OR=18880, PL=0, JI=2, LA=20 \"leg\" a";
    out.push_back(std::move(r));
  }
  return out;
}

billing::send_result send_and_wait(boost::asio::io_context& io, billing::rks_client& client,
                                   const billing::rks_endpoint& to,
                                   std::vector<billing::billing_record> records) {
  std::optional<billing::send_result> result;
  client.send_batch(to, std::move(records), [&](billing::send_result r) { result = std::move(r); });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  io.restart();
  while (!result && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(100ms);
  if (!result) { // close() completes the pending send, so the callback never outlives `result`
    client.close();
    while (!result)
      io.run_one_for(100ms);
    result->error = "test: no callback within 30 s (" + result->error + ")";
  }
  return *result;
}

} // namespace cms::test
