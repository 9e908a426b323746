#include "sim_harness.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cms::sim::test {

// ---- process ----------------------------------------------------------------------------------

mtasim_process::mtasim_process(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0)
    throw std::runtime_error("pipe failed");
  std::string path = std::string(CMS_BINARY_DIR) + "/mtasim";
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); // a crashed test must not leave simulators behind
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
  if (auto c = wait_line("mtasim: control "); c) {
    auto colon = c->rfind(':');
    control_port_ = static_cast<std::uint16_t>(std::stoi(c->substr(colon + 1)));
  }
}

mtasim_process::~mtasim_process() {
  if (pid_ > 0)
    terminate();
  if (out_fd_ >= 0)
    close(out_fd_);
}

bool mtasim_process::read_some(std::chrono::milliseconds timeout) {
  pollfd p{out_fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
    return false;
  char buf[4096];
  auto n = read(out_fd_, buf, sizeof buf);
  if (n <= 0)
    return false;
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> mtasim_process::wait_line(const std::string& prefix,
                                                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::size_t pos = 0;
    while (true) {
      auto eol = buffer_.find('\n', pos);
      if (eol == std::string::npos)
        break;
      auto line = buffer_.substr(pos, eol - pos);
      if (line.rfind(prefix, 0) == 0) {
        buffer_.erase(0, eol + 1);
        return line.substr(prefix.size());
      }
      pos = eol + 1;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !read_some(left))
      return std::nullopt;
  }
}

int mtasim_process::terminate(std::string* rest) {
  if (pid_ <= 0)
    return -1;
  kill(pid_, SIGTERM);
  return wait_exit(std::chrono::seconds(10), rest);
}

int mtasim_process::wait_exit(std::chrono::milliseconds timeout, std::string* output) {
  if (pid_ <= 0)
    return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    while (read_some(std::chrono::milliseconds(10))) {}
    auto r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
  }
  while (read_some(std::chrono::milliseconds(10))) {}
  pid_ = -1;
  if (output)
    *output = buffer_;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// ---- control ----------------------------------------------------------------------------------

control_client::control_client(std::uint16_t port) : socket_(io_) {
  socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
}

std::string control_client::request(const std::string& line) {
  boost::asio::write(socket_, boost::asio::buffer(line + "\n"));
  auto n = boost::asio::read_until(socket_, boost::asio::dynamic_buffer(pending_), '\n');
  auto reply = pending_.substr(0, n - 1);
  pending_.erase(0, n);
  return reply;
}

// ---- fake call agent --------------------------------------------------------------------------

fake_call_agent::fake_call_agent(const std::string& address) {
  mgcp::agent_config cfg;
  cfg.bind_address = address;
  cfg.port = 0;
  cfg.timers.initial = std::chrono::milliseconds(100);
  cfg.timers.max = std::chrono::milliseconds(400);
  cfg.timers.max2 = 4;
  agent_ = std::make_unique<mgcp::agent>(io_, cfg, metrics_);
  agent_->on_command([this](const mgcp::udp_endpoint& from, mgcp::command cmd) {
    received r{from, std::move(cmd)};
    std::optional<mgcp::response> rsp;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!silent_) {
        if (rule_) {
          rsp = rule_(r);
        } else {
          mgcp::response ok;
          ok.code = 200;
          ok.comment = "OK";
          rsp = ok;
        }
      }
      log_.push_back(r);
      taken_.push_back(false);
    }
    cv_.notify_all();
    if (rsp) {
      rsp->transaction_id = r.cmd.transaction_id;
      agent_->respond(r.from, *rsp);
    }
  });
  agent_->start();
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

void fake_call_agent::stop() {
  std::promise<void> stopped;
  boost::asio::post(io_, [&] {
    agent_->stop();
    stopped.set_value();
  });
  stopped.get_future().wait_for(std::chrono::seconds(5));
}

fake_call_agent::~fake_call_agent() {
  stop();
  io_.stop();
  thread_.join();
}

mgcp::udp_endpoint fake_call_agent::endpoint() const { return agent_->local_endpoint(); }

std::string fake_call_agent::address() const {
  auto ep = endpoint();
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

void fake_call_agent::set_rule(rule r) {
  std::lock_guard<std::mutex> lock(mutex_);
  rule_ = std::move(r);
}

void fake_call_agent::set_silent(bool silent) {
  std::lock_guard<std::mutex> lock(mutex_);
  silent_ = silent;
}

std::optional<fake_call_agent::received>
fake_call_agent::wait_for(std::function<bool(const received&)> pred,
                          std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<received> found;
  cv_.wait_for(lock, timeout, [&] {
    for (std::size_t i = 0; i < log_.size(); ++i)
      if (!taken_[i] && pred(log_[i])) {
        taken_[i] = true;
        found = log_[i];
        return true;
      }
    return false;
  });
  return found;
}

std::size_t fake_call_agent::count(std::function<bool(const received&)> pred) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t n = 0;
  for (const auto& r : log_)
    if (pred(r))
      ++n;
  return n;
}

mgcp::command_outcome fake_call_agent::send(const mgcp::udp_endpoint& to, mgcp::command cmd,
                                            std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<mgcp::command_outcome>>();
  auto fut = done->get_future();
  agent_->send(to, std::move(cmd),
               [done](mgcp::command_outcome o) { done->set_value(std::move(o)); });
  if (fut.wait_for(timeout) != std::future_status::ready)
    return mgcp::transaction_failure::timeout;
  return fut.get();
}

mgcp::command make_command(mgcp::verb v, const std::string& endpoint,
                           std::vector<mgcp::parameter> params, std::optional<std::string> sdp) {
  mgcp::command c;
  c.kind = v;
  c.endpoint = endpoint;
  c.version = "MGCP 1.0 NCS 1.0";
  c.params = std::move(params);
  c.sdp = std::move(sdp);
  return c;
}

} // namespace cms::sim::test
