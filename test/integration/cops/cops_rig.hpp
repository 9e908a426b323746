#pragma once
// The integration rig: a real cmtssim process on loopback ports, its JSON-over-UDP control
// interface, and a gate_controller_session running on its own io thread.

#include "runtime/cops/gate_controller_session.hpp"
#include "support/port_reservation.hpp"
#include "support/process.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cms::cops::test {

using namespace std::chrono_literals;

/// cmtssim as a child process; ports come from the test port block.
class cmtssim_process {
public:
  explicit cmtssim_process(const std::filesystem::path& dir, std::vector<std::string> extra = {},
                           bool police = false)
    : cops_port_(cms::test::free_port()),
      control_port_(cms::test::free_port(SOCK_DGRAM)),
      police_port_(police ? cms::test::free_port(SOCK_DGRAM) : 0),
      process_(argv(extra), dir / ("cmtssim-" + std::to_string(cops_port_) + ".log")) {
    const bool up = cms::test::eventually(
      [&] {
        return !process_.running() || process_.output().find("cmtssim ready") != std::string::npos;
      },
      30s);
    if (!up || !process_.running())
      throw std::runtime_error("cmtssim did not start:\n" + process_.output());
  }

  std::uint16_t cops_port() const { return cops_port_; }
  std::uint16_t police_port() const { return police_port_; }
  cms::test::child_process& process() { return process_; }

  /// One control request; throws if no answer comes.
  boost::json::object control(const boost::json::object& request) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(control_port_);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const auto text = boost::json::serialize(request);
    ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    std::string reply(65536, '\0');
    auto n = ::recv(fd, reply.data(), reply.size(), 0);
    ::close(fd);
    if (n <= 0)
      throw std::runtime_error("no answer from cmtssim control for " + text);
    reply.resize(static_cast<std::size_t>(n));
    auto v = boost::json::parse(reply);
    return v.as_object();
  }

  boost::json::array gates() { return control({{"cmd", "gates"}}).at("gates").as_array(); }
  boost::json::object counters() { return control({{"cmd", "counters"}}); }

private:
  std::vector<std::string> argv(const std::vector<std::string>& extra) const {
    std::vector<std::string> a{std::string(CMS_BINARY_DIR) + "/cmtssim", "--port",
                               std::to_string(cops_port_), "--control-port",
                               std::to_string(control_port_)};
    if (police_port_ != 0) {
      a.push_back("--police-port");
      a.push_back(std::to_string(police_port_));
    }
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::uint16_t cops_port_;
  std::uint16_t control_port_;
  std::uint16_t police_port_;
  cms::test::child_process process_;
};

/// What the session's handlers saw, readable from the test thread.
struct session_events {
  std::mutex mutex;
  std::condition_variable changed;
  int connected = 0;
  std::vector<std::string> lost;
  std::vector<gate_command> gate_events;
  std::vector<std::string> log;

  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds limit = 10s) {
    std::unique_lock lock{mutex};
    return changed.wait_for(lock, limit, [&] { return pred(*this); });
  }
};

/// A session on its own io thread.
class running_session {
public:
  explicit running_session(session_config config, session_handlers extra = {}) {
    session_handlers h;
    h.connected = [this, extra] {
      {
        std::lock_guard lock{events_.mutex};
        ++events_.connected;
      }
      events_.changed.notify_all();
      if (extra.connected)
        extra.connected();
    };
    h.lost = [this](const std::string& reason) {
      {
        std::lock_guard lock{events_.mutex};
        events_.lost.push_back(reason);
      }
      events_.changed.notify_all();
    };
    h.gate_event = [this](const gate_command& c) {
      {
        std::lock_guard lock{events_.mutex};
        events_.gate_events.push_back(c);
      }
      events_.changed.notify_all();
    };
    h.log = [this](const std::string& line) {
      std::lock_guard lock{events_.mutex};
      events_.log.push_back(line);
    };
    session_ = gate_controller_session::create(io_, std::move(config), std::move(h));
    thread_ = std::thread{[this] { io_.run(); }};
  }
  ~running_session() {
    session_->stop();
    work_.reset();
    thread_.join();
  }

  gate_controller_session& session() { return *session_; }
  session_events& events() { return events_; }

  void start_and_wait_ready() {
    session_->start();
    ASSERT_TRUE(events_.wait([](auto& e) { return e.connected >= 1; })) << log_text();
  }

  command_outcome send(gate_command cmd, std::chrono::milliseconds limit = 10s) {
    auto done = std::make_shared<std::promise<command_outcome>>();
    auto f = done->get_future();
    session_->send(std::move(cmd), [done](const command_outcome& o) { done->set_value(o); });
    if (f.wait_for(limit) != std::future_status::ready)
      throw std::runtime_error("the session never completed the command");
    return f.get();
  }

  std::string log_text() {
    std::lock_guard lock{events_.mutex};
    std::string out;
    for (const auto& l : events_.log)
      out += l + "\n";
    return out;
  }

private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
    io_.get_executor()};
  session_events events_;
  std::shared_ptr<gate_controller_session> session_;
  std::thread thread_;
};

inline session_config fast_config(std::uint16_t port) {
  session_config c;
  c.cmts_address = "127.0.0.1";
  c.cmts_port = port;
  c.keepalive_s = 1;
  c.missed_keepalives = 3;
  c.connect_timeout = 1s;
  c.handshake_timeout = 2s;
  c.command_timeout = 1s;
  c.reconnect_initial = 100ms;
  c.reconnect_max = 800ms;
  return c;
}

/// A Gate-Set for one call leg: downstream and upstream specs, RKS addresses and a BCID.
inline gate_command gate_set_for(std::uint32_t mta, std::uint16_t mta_port = 0,
                                 std::uint8_t bcid_tag = 1) {
  gate_command c;
  c.command = gate_command_type::gate_set;
  c.subscriber = mta;
  c.activity_count = 8;
  gate_spec down;
  down.direction = gate_direction::downstream;
  down.src_ip = 0x0a010101;
  down.dst_ip = mta;
  down.dst_port = 16384;
  down.dscp_tos = 0xb8;
  down.t1_s = 250;
  down.t7_s = 200;
  down.t8_s = 0;
  down.r = 12000;
  down.b = 200;
  down.p = 12000;
  down.m = 200;
  down.M = 200;
  down.R = 12000;
  down.S = 800;
  gate_spec up = down;
  up.direction = gate_direction::upstream;
  up.src_ip = mta;
  up.src_port = mta_port;
  up.dst_ip = 0x0a010101;
  up.dst_port = 20000;
  c.gate_specs = {down, up};
  event_generation_info e;
  e.primary_rks_ip = 0x7f000001;
  e.primary_rks_port = 1813;
  e.secondary_rks_ip = 0x7f000002;
  e.secondary_rks_port = 1813;
  e.bcid.fill(bcid_tag);
  c.event_generation = e;
  return c;
}

inline gate_command simple(gate_command_type t, std::uint32_t gate_id, std::uint32_t mta) {
  gate_command c;
  c.command = t;
  c.gate_id = gate_id;
  c.subscriber = mta;
  return c;
}

inline std::uint64_t num(const boost::json::value& v) {
  return v.is_uint64() ? v.as_uint64() : static_cast<std::uint64_t>(v.as_int64());
}

} // namespace cms::cops::test
