#pragma once
// A small NCS MTA for the integration tests, built on the real MGCP agent (its own UDP socket on
// 127.0.0.1, retransmissions, response cache): it answers the call agent's commands like a phone
// would (RQNT remembers X/R/S per line, CRCX returns a connection and SDP, DLCX 250 with P:) and
// lets the test send RSIP and NTFY. `silent` makes it stop answering, like a dead MTA.
// It keeps each line's hook as the subscriber left it (the last L/hd or L/hu it notified) and, like
// a real MTA, refuses a request for the hook event the line cannot produce: 401 to L/hd while off
// hook, 402 to L/hu while on hook. That is how a call agent learns of a hang-up it missed because
// the NTFY crossed its newer request on the wire.

#include "runtime/mgcp/agent.hpp"
#include "runtime/base/metrics.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cms::test {

class test_mta {
public:
  struct line_view {
    std::string x, r, s, d; ///< last RQNT's X, R, S, D
    std::vector<std::string> connections;
    int rqnts = 0;
    bool off_hook = false;    ///< as the last notified L/hd or L/hu left it
    std::string crcx_options; ///< L: of the last CRCX (DQoS: its dq-gi)
  };

  test_mta(boost::asio::io_context& io, std::string domain, mgcp::udp_endpoint call_agent)
    : domain_(std::move(domain)),
      ca_(call_agent),
      agent_(io, config(), registry_) {
    agent_.on_command([this](const mgcp::udp_endpoint& from, mgcp::command cmd) {
      on_command(from, std::move(cmd));
    });
    agent_.start();
  }

  static mgcp::agent_config config() {
    mgcp::agent_config c;
    c.bind_address = "127.0.0.1";
    c.port = 0;
    c.timers.initial = std::chrono::milliseconds{50};
    c.timers.max = std::chrono::milliseconds{200};
    return c;
  }

  mgcp::agent& agent() { return agent_; }
  const std::string& domain() const { return domain_; }
  std::string line(int n) const { return "aaln/" + std::to_string(n) + "@" + domain_; }
  std::uint16_t port() const { return agent_.local_endpoint().port(); }

  /// Sends a command from line `endpoint` to the call agent; returns the response code
  /// (0 when the call agent never answered).
  int send(const std::string& endpoint, mgcp::verb v, mgcp::parameter_list params) {
    mgcp::command cmd;
    cmd.kind = v;
    cmd.endpoint = endpoint;
    cmd.version = "MGCP 1.0 NCS 1.0";
    cmd.params = std::move(params);
    auto done = std::make_shared<std::promise<int>>();
    auto fut = done->get_future();
    agent_.send(ca_, std::move(cmd), [done](mgcp::command_outcome out) {
      if (auto r = std::get_if<mgcp::response>(&out))
        done->set_value(r->code);
      else
        done->set_value(0);
    });
    if (fut.wait_for(std::chrono::seconds{20}) != std::future_status::ready)
      return -1;
    return fut.get();
  }

  int rsip(const std::string& endpoint, const std::string& method = "restart") {
    return send(endpoint, mgcp::verb::rsip, {{"RM", method}});
  }

  /// NTFY with the X of the last RQNT for that line. The hook moves when the subscriber acts,
  /// under the same lock that reads X, so a request that arrives later sees the new hook state.
  int ntfy(const std::string& endpoint, const std::string& observed) {
    std::string x;
    {
      std::lock_guard g{mutex_};
      auto& l = lines_[endpoint];
      x = l.x;
      if (observed.find("L/hd") != std::string::npos)
        l.off_hook = true;
      else if (observed.find("L/hu") != std::string::npos)
        l.off_hook = false;
    }
    return send(endpoint, mgcp::verb::ntfy, {{"X", x}, {"O", observed}});
  }

  line_view view(const std::string& endpoint) const {
    std::lock_guard g{mutex_};
    auto it = lines_.find(endpoint);
    return it == lines_.end() ? line_view{} : it->second;
  }

  /// Waits until the line's last RQNT satisfies `pred`.
  template <class Pred>
  bool wait_for(const std::string& endpoint, Pred pred,
                std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    std::unique_lock g{mutex_};
    return cv_.wait_for(g, limit, [&] { return pred(lines_[endpoint]); });
  }

  std::vector<std::pair<mgcp::verb, std::string>> received() const {
    std::lock_guard g{mutex_};
    return received_;
  }

  std::atomic<bool> silent{false};

private:
  void on_command(const mgcp::udp_endpoint& from, mgcp::command cmd) {
    if (silent)
      return; // never answered: the call agent retransmits until Max2
    mgcp::response rsp;
    rsp.code = 200;
    rsp.transaction_id = cmd.transaction_id;
    rsp.comment = "OK";
    {
      std::lock_guard g{mutex_};
      received_.emplace_back(cmd.kind, cmd.endpoint);
      auto& l = lines_[cmd.endpoint];
      auto get = [&](const char* n) {
        auto p = cmd.param(n);
        return p ? *p : std::string{};
      };
      switch (cmd.kind) {
      case mgcp::verb::rqnt:
        if (get("R").find("L/hd") != std::string::npos && l.off_hook) {
          rsp.code = 401;
          rsp.comment = "phone already off hook";
          break;
        }
        if (get("R").find("L/hu") != std::string::npos && !l.off_hook) {
          rsp.code = 402;
          rsp.comment = "phone already on hook";
          break;
        }
        l.x = get("X");
        l.r = get("R");
        l.s = get("S");
        l.d = get("D");
        ++l.rqnts;
        break;
      case mgcp::verb::crcx: {
        l.crcx_options = get("L");
        auto id = std::to_string(++next_connection_);
        l.connections.push_back(id);
        rsp.set_param("I", id);
        rsp.sdp = "v=0\r\no=- " + id +
                  " 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                  "t=0 0\r\nm=audio " +
                  std::to_string(30000 + 2 * next_connection_) + " RTP/AVP 0\r\n";
        break;
      }
      case mgcp::verb::dlcx: {
        rsp.code = 250;
        auto id = get("I");
        l.connections.erase(std::remove(l.connections.begin(), l.connections.end(), id),
                            l.connections.end());
        rsp.set_param("P", "PS=50, OS=8000, PR=50, OR=8000, PL=0, JI=0, LA=1");
        break;
      }
      default:
        break;
      }
    }
    cv_.notify_all();
    agent_.respond(from, std::move(rsp));
  }

  std::string domain_;
  mgcp::udp_endpoint ca_;
  metrics::registry registry_;
  mgcp::agent agent_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, line_view> lines_;
  std::vector<std::pair<mgcp::verb, std::string>> received_;
  int next_connection_ = 0;
};

} // namespace cms::test
