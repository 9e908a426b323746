#pragma once
// Test support for driving the real mtasim binary: start it as a child process and read its
// startup lines, talk to its control port, and play the call agent with cms::mgcp::agent.

#include "runtime/base/metrics.hpp"
#include "runtime/mgcp/agent.hpp"
#include "runtime/mgcp/message.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cms::sim::test {

/// mtasim as a child process; stdout is read line by line.
class mtasim_process {
public:
  explicit mtasim_process(const std::vector<std::string>& args);
  ~mtasim_process();
  /// Waits for a stdout line starting with `prefix` ("mtasim: control ") and returns the rest.
  std::optional<std::string>
  wait_line(const std::string& prefix,
            std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::uint16_t control_port() const noexcept { return control_port_; }
  /// SIGTERM, then waits for exit; returns the exit status and everything printed after "ready".
  int terminate(std::string* rest_of_output = nullptr);
  /// Waits for the process to exit by itself (scenario mode).
  int wait_exit(std::chrono::milliseconds timeout, std::string* output = nullptr);

private:
  bool read_some(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::uint16_t control_port_ = 0;
};

/// One TCP connection to the control port.
class control_client {
public:
  explicit control_client(std::uint16_t port);
  std::string request(const std::string& line);

private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string pending_;
};

/// A call agent on 127.0.0.1:0 that records every command and answers it with a rule (200 by
/// default) unless it is switched to silent. Its io_context runs on its own thread.
class fake_call_agent {
public:
  struct received {
    mgcp::udp_endpoint from;
    mgcp::command cmd;
  };
  /// Respond to the command; return nullopt to leave it unanswered.
  using rule = std::function<std::optional<mgcp::response>(const received&)>;

  explicit fake_call_agent(const std::string& address = "127.0.0.1");
  ~fake_call_agent();

  std::string address() const; ///< "127.0.0.1:PORT"
  mgcp::udp_endpoint endpoint() const;
  void set_rule(rule r);
  /// Leaves commands unanswered. The agent still sends provisional 100s to retransmissions, as
  /// RFC 3435 wants, so the peer keeps waiting: use stop() to play a dead call agent.
  void set_silent(bool silent);
  /// Closes the socket: the call agent is gone.
  void stop();

  /// Waits for a received command (not taken before) satisfying `pred`.
  std::optional<received> wait_for(std::function<bool(const received&)> pred,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Sends a command and waits for the final outcome.
  mgcp::command_outcome send(const mgcp::udp_endpoint& to, mgcp::command cmd,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::size_t count(std::function<bool(const received&)> pred);

private:
  metrics::registry metrics_;
  boost::asio::io_context io_;
  std::unique_ptr<mgcp::agent> agent_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<received> log_;
  std::vector<bool> taken_;
  rule rule_;
  bool silent_ = false;
};

mgcp::command make_command(mgcp::verb v, const std::string& endpoint,
                           std::vector<mgcp::parameter> params = {},
                           std::optional<std::string> sdp = std::nullopt);

} // namespace cms::sim::test
