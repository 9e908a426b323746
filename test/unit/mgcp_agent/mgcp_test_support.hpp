#pragma once
// Helpers for tests that talk MGCP over real loopback UDP: a hand-driven peer socket, a blocking
// queue for callbacks that fire on the io thread, and an agent running on its own io thread.

#include "runtime/mgcp/agent.hpp"
#include "runtime/mgcp/codec.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace cms::mgcp::test {

inline const boost::asio::ip::address loopback = boost::asio::ip::make_address("127.0.0.1");

/// Values handed over from the io thread to the test thread.
template <class T>
class blocking_queue {
public:
  void push(T v) {
    {
      std::lock_guard lock{mutex_};
      items_.push_back(std::move(v));
    }
    cv_.notify_all();
  }
  std::optional<T> pop(std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    std::unique_lock lock{mutex_};
    if (!cv_.wait_for(lock, timeout, [&] { return !items_.empty(); }))
      return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }
  std::size_t size() const {
    std::lock_guard lock{mutex_};
    return items_.size();
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<T> items_;
};

/// A peer driven by hand: sends raw text, receives datagrams with a timeout. Also reports the
/// TOS byte each datagram arrived with (IP_RECVTOS), to see the agent's DSCP on the wire.
class raw_peer {
public:
  /// Bound to `at` (any 127/8 address works on Linux: a second "host" for source checks).
  explicit raw_peer(const boost::asio::ip::address& at = loopback)
    : socket_(io_, boost::asio::ip::udp::endpoint{at, 0}) {
    int on = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_RECVTOS, &on, sizeof on);
  }

  udp_endpoint endpoint() const { return socket_.local_endpoint(); }

  void send(const udp_endpoint& to, const std::string& text) {
    socket_.send_to(boost::asio::buffer(text), to);
  }

  struct datagram {
    std::string text;
    udp_endpoint from;
    int tos = -1;
  };

  std::optional<datagram> receive(std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[65536];
    char control[256];
    sockaddr_in from{};
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(socket_.native_handle(), &msg, 0);
    if (n < 0)
      return std::nullopt;
    datagram d;
    d.text.assign(buf, static_cast<std::size_t>(n));
    d.from =
      udp_endpoint{boost::asio::ip::address_v4(ntohl(from.sin_addr.s_addr)), ntohs(from.sin_port)};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
        d.tos = *reinterpret_cast<unsigned char*>(CMSG_DATA(c));
    return d;
  }

  /// Receives one datagram and decodes it as exactly one message.
  std::optional<message> receive_message(std::chrono::milliseconds timeout = std::chrono::seconds{
                                           5}) {
    auto d = receive(timeout);
    if (!d)
      return std::nullopt;
    auto r = decode(d->text);
    if (r.messages.size() != 1 || !r.errors.empty())
      throw std::runtime_error("peer got an undecodable datagram: " + d->text);
    return r.messages.front();
  }

  std::optional<command> receive_command(std::chrono::milliseconds timeout = std::chrono::seconds{
                                           5}) {
    auto m = receive_message(timeout);
    if (!m)
      return std::nullopt;
    if (auto* c = std::get_if<command>(&*m))
      return *c;
    throw std::runtime_error("peer expected a command, got a response");
  }

  std::optional<response> receive_response(std::chrono::milliseconds timeout = std::chrono::seconds{
                                             5}) {
    auto m = receive_message(timeout);
    if (!m)
      return std::nullopt;
    if (auto* r = std::get_if<response>(&*m))
      return *r;
    throw std::runtime_error("peer expected a response, got a command");
  }

  int native_handle() { return socket_.native_handle(); }

private:
  boost::asio::io_context io_;
  boost::asio::ip::udp::socket socket_;
};

/// An agent bound to 127.0.0.1:0 with its io_context on a thread of its own. Set handlers
/// before run().
class running_agent {
public:
  explicit running_agent(agent_config cfg)
    : agent_(io_, with_ephemeral_port(std::move(cfg)), metrics_) {}

  ~running_agent() {
    if (thread_.joinable()) {
      std::promise<void> done;
      boost::asio::post(io_, [&] {
        agent_.stop();
        done.set_value();
      });
      done.get_future().wait();
      guard_.reset();
      io_.stop();
      thread_.join();
    }
  }

  void run() {
    agent_.start();
    thread_ = std::thread([this] { io_.run(); });
  }

  mgcp::agent& agent() { return agent_; }
  metrics::registry& metrics() { return metrics_; }
  udp_endpoint endpoint() const { return agent_.local_endpoint(); }
  boost::asio::io_context& io() { return io_; }

  /// Runs `f` on the io thread and waits for it (to read state owned by that thread).
  template <class F>
  void on_io_thread(F f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

private:
  static agent_config with_ephemeral_port(agent_config cfg) {
    cfg.bind_address = "127.0.0.1";
    cfg.port = 0;
    return cfg;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
    io_.get_executor()};
  metrics::registry metrics_;
  mgcp::agent agent_;
  std::thread thread_;
};

/// Short timers so retransmission and failure tests take well under a second.
inline transaction_timers fast_timers() {
  transaction_timers t;
  t.initial = std::chrono::milliseconds{30};
  t.max = std::chrono::milliseconds{120};
  t.max1 = 2;
  t.max2 = 3;
  t.t_hist = std::chrono::milliseconds{3000};
  t.provisional_after = std::chrono::milliseconds{20};
  t.jitter = 0.1;
  return t;
}

} // namespace cms::mgcp::test
