// MGCP obeys only its peers, over the real interface: a cmsd (node_harness), a trunking gateway
// played by a UDP socket on its provisioned address, and a forger on another loopback address
// (127.0.0.66). A forged "RSIP *@gateway RM: forced" or a forged PSTN seizure (NTFY) is neither
// answered nor obeyed, and costs a counter; the same commands from the gateway's own address are
// answered and obeyed (so the test can tell the difference).

#include "support/node_harness.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

const std::string gateway_name = "tgw-peer.pstn.example";

/// A UDP socket bound to `address`:`port` (0: any).
class udp_socket {
public:
  udp_socket(const char* address, std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &local.sin_addr);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0;
    socklen_t len = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    port_ = ntohs(local.sin_port);
  }
  ~udp_socket() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::uint16_t port() const { return port_; }

  void send_to(std::uint16_t port, const std::string& text, sockaddr_in* to = nullptr) {
    sockaddr_in target{};
    if (to) {
      target = *to;
    } else {
      target.sin_family = AF_INET;
      target.sin_port = htons(port);
      target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    ::sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&target), sizeof target);
  }
  /// One datagram within `limit`, or nullopt.
  std::optional<std::string> receive(std::chrono::milliseconds limit, sockaddr_in* from = nullptr) {
    timeval tv{static_cast<time_t>(limit.count() / 1000),
               static_cast<suseconds_t>((limit.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[8192];
    sockaddr_in src{};
    socklen_t len = sizeof src;
    auto n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &len);
    if (n <= 0)
      return std::nullopt;
    if (from)
      *from = src;
    return std::string(buf, static_cast<std::size_t>(n));
  }

private:
  int fd_ = -1;
  bool bound_ = false;
  std::uint16_t port_ = 0;
};

/// The trunking gateway: answers every command of the node with 200 and keeps the commands for
/// the test. Commands the test sends from this socket get their answers in `answers`.
class fake_gateway {
public:
  explicit fake_gateway(std::uint16_t port) : socket_("127.0.0.1", port) {
    thread_ = std::thread([this] { run(); });
  }
  ~fake_gateway() {
    running_ = false;
    thread_.join();
  }
  bool bound() const { return socket_.bound(); }
  void send(std::uint16_t node_port, const std::string& text) { socket_.send_to(node_port, text); }
  /// The first answer (a response line "code tid ...") to our transaction `tid`, if any yet.
  std::optional<int> answer_to(std::uint32_t tid) {
    std::lock_guard lock{mutex_};
    auto it = answers_.find(tid);
    return it == answers_.end() ? std::nullopt : std::optional<int>(it->second);
  }

private:
  void run() {
    while (running_) {
      sockaddr_in from{};
      auto d = socket_.receive(50ms, &from);
      if (!d)
        continue;
      std::istringstream in(*d);
      std::string first, second;
      in >> first >> second;
      if (!first.empty() && std::isdigit(static_cast<unsigned char>(first[0]))) {
        std::lock_guard lock{mutex_};
        answers_.emplace(static_cast<std::uint32_t>(std::stoul(second)), std::stoi(first));
        continue;
      }
      socket_.send_to(0, "200 " + second + " OK\r\n", &from); // AUEP, DLCX...
    }
  }

  udp_socket socket_;
  std::atomic<bool> running_{true};
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::uint32_t, int> answers_;
};

/// The value of one sample of /metrics ("name{labels}" as rendered), -1 when absent.
double metric(node_harness& node, const std::string& sample) {
  auto raw = http_get(node.http_port, "/metrics");
  std::istringstream in(http_body(raw));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(sample + " ", 0) == 0)
      return std::stod(line.substr(sample.size() + 1));
  return -1;
}

std::string provisioning(const std::filesystem::path& dir, std::uint16_t gateway_port) {
  auto file = dir / "provisioning.toml";
  std::ofstream out{file};
  out
    << "[[carrier]]\nid = \"northtel\"\nname = \"Northtel\"\n\n"
    << "[[gateway]]\nname = \"" << gateway_name
    << "\"\naddress = \"127.0.0.1\"\nport = " << gateway_port
    << "\nrole = \"active\"\nsegment = \"partner\"\n\n"
    << "[[facility]]\nid = \"peer-pri-1\"\ngateway = \"" << gateway_name
    << "\"\nkind = \"pri\"\ncarrier = \"northtel\"\nspan = 1\nchannels = 4\n\n"
    << "[[trunk_group]]\nid = \"tg-peer\"\nname = \"peer\"\nsegment = \"partner\"\n"
    << "members = [ { facility = \"peer-pri-1\", priority = 1 } ]\n\n"
    << "[[route]]\nprefix = \"1\"\ntrunk_group = \"tg-peer\"\n\n"
    << "[[subscriber]]\ndirectory_number = \"5551001\"\n"
    << "endpoint_name = \"aaln/1@mta-0001.cable.example\"\nmta_fqdn = \"mta-0001.cable.example\"\n"
    << "mta_address = \"127.0.0.1\"\n";
  return file.string();
}

const std::string up_sample = "cms_trunk_gateway_up{gateway=\"" + gateway_name + "\"}";
const std::string wrong_source = "cms_mgcp_rejected_total{reason=\"wrong_source\"}";

} // namespace

TEST(mgcp_peers, forged_rsip_and_seizure_from_another_address_are_neither_answered_nor_obeyed) {
  const auto gateway_port = free_port(SOCK_DGRAM);
  fake_gateway gateway{gateway_port};
  ASSERT_TRUE(gateway.bound());
  udp_socket forger{"127.0.0.66", 0};
  ASSERT_TRUE(forger.bound()) << "cannot bind 127.0.0.66";

  node_harness node;
  node.provisioning = provisioning(node.dir.path(), gateway_port);
  node.start();
  ASSERT_TRUE(node.wait_active()) << node.output();
  // The keepalive (AUEP *@gateway) is answered: the gateway is in service.
  ASSERT_TRUE(eventually([&] { return metric(node, up_sample) == 1; }, 15s)) << node.output();

  // 1. A forged whole-gateway RSIP forced: no answer at all, the gateway stays in service.
  forger.send_to(node.mgcp_port,
                 "RSIP 4711 *@" + gateway_name + " MGCP 1.0 TGCP 1.0\r\nRM: forced\r\n");
  EXPECT_FALSE(forger.receive(700ms)) << "a forged RSIP was answered";
  EXPECT_EQ(metric(node, up_sample), 1) << "a forged RSIP took the gateway out of service";

  // 2. A forged PSTN seizure on a channel: no answer, no incoming call.
  forger.send_to(node.mgcp_port,
                 "NTFY 4712 ds/ds1-1/1@" + gateway_name +
                   " MGCP 1.0 TGCP 1.0\r\nX: 1\r\nO: X-TR/sup(5551001,2125550100)\r\n");
  EXPECT_FALSE(forger.receive(700ms)) << "a forged NTFY was answered";
  EXPECT_LE(metric(node, "cms_trunk_incoming_total{facility=\"peer-pri-1\"}"), 0);
  EXPECT_GE(metric(node, wrong_source), 2);

  // 3. The same RSIP from the gateway's own address is answered and obeyed.
  gateway.send(node.mgcp_port,
               "RSIP 4713 *@" + gateway_name + " MGCP 1.0 TGCP 1.0\r\nRM: forced\r\n");
  ASSERT_TRUE(eventually([&] { return gateway.answer_to(4713).has_value(); }, 5s));
  EXPECT_EQ(gateway.answer_to(4713), 200);
  EXPECT_TRUE(eventually([&] { return metric(node, up_sample) == 0; }, 5s));
  EXPECT_GE(metric(node, wrong_source), 2);
}
