// The MGCP edge over real UDP sockets on 127.0.0.1: a hand-driven peer socket plays the gateway.

#include "mgcp_test_support.hpp"

#include <gtest/gtest.h>

#include <dirent.h>

#include <atomic>
#include <set>

namespace cms::mgcp {
namespace {

using namespace std::chrono_literals;
using test::blocking_queue;
using test::raw_peer;
using test::running_agent;

agent_config fast_config() {
  agent_config cfg;
  cfg.timers = test::fast_timers();
  cfg.seed = 1234;
  return cfg;
}

command auep_to(const std::string& endpoint) {
  command c;
  c.kind = verb::auep;
  c.endpoint = endpoint;
  return c;
}

std::string label(const udp_endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

double counter(running_agent& a, const std::string& name, const udp_endpoint& peer) {
  return a.metrics().value(name, {{"peer", label(peer)}});
}

double error_count(running_agent& a, const udp_endpoint& peer, const std::string& reason) {
  return a.metrics().value("cms_mgcp_errors_total", {{"peer", label(peer)}, {"reason", reason}});
}

/// Gives the io thread time to process what a peer sent, where nothing observable comes back.
void settle() { std::this_thread::sleep_for(100ms); }

// ---- our commands ---------------------------------------------------------------------------

TEST(MgcpAgent, CommandAndResponse) {
  running_agent ca{fast_config()};
  blocking_queue<command_outcome> outcomes;
  ca.run();
  raw_peer gw;
  auto tid = ca.agent().send(gw.endpoint(), auep_to("aaln/1@mta-1.example"),
                             [&](command_outcome o) { outcomes.push(std::move(o)); });
  auto got = gw.receive_command();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->kind, verb::auep);
  EXPECT_EQ(got->transaction_id, tid);
  EXPECT_EQ(got->endpoint, "aaln/1@mta-1.example");
  gw.send(ca.endpoint(), "200 " + std::to_string(tid) + " OK\r\nI: 1A2B\r\n");
  auto outcome = outcomes.pop();
  ASSERT_TRUE(outcome);
  auto* rsp = std::get_if<response>(&*outcome);
  ASSERT_NE(rsp, nullptr);
  EXPECT_EQ(rsp->code, 200);
  EXPECT_EQ(rsp->transaction_id, tid);
  ASSERT_NE(rsp->param("I"), nullptr);
  EXPECT_EQ(*rsp->param("I"), "1A2B");
  EXPECT_EQ(counter(ca, "cms_mgcp_messages_sent_total", gw.endpoint()), 1);
  EXPECT_EQ(counter(ca, "cms_mgcp_messages_received_total", gw.endpoint()), 1);
  EXPECT_NE(ca.metrics().render_prometheus().find("cms_mgcp_messages_sent_total{peer=\"" +
                                                  label(gw.endpoint()) + "\"} 1"),
            std::string::npos);
}

TEST(MgcpAgent, RetransmitsUntilThePeerAnswers) {
  running_agent ca{fast_config()};
  blocking_queue<command_outcome> outcomes;
  ca.run();
  raw_peer gw;
  auto tid = ca.agent().send(gw.endpoint(), auep_to("aaln/1@mta-1.example"),
                             [&](command_outcome o) { outcomes.push(std::move(o)); });
  // The gateway "loses" the first two copies.
  auto first = gw.receive();
  auto second = gw.receive();
  auto third = gw.receive();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->text, second->text);
  EXPECT_EQ(first->text, third->text);
  gw.send(ca.endpoint(), "200 " + std::to_string(tid) + " OK\r\n");
  auto outcome = outcomes.pop();
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(std::holds_alternative<response>(*outcome));
  // A copy of the response (the gateway answering a retransmission) completes nothing twice.
  gw.send(ca.endpoint(), "200 " + std::to_string(tid) + " OK\r\n");
  EXPECT_FALSE(outcomes.pop(300ms));
  // Retransmission stopped with the response (at most one copy was already in flight).
  while (gw.receive(300ms)) {}
  EXPECT_FALSE(gw.receive(400ms));
  EXPECT_GE(counter(ca, "cms_mgcp_messages_retransmitted_total", gw.endpoint()), 2);
  EXPECT_EQ(error_count(ca, gw.endpoint(), "duplicate_response"), 1);
}

TEST(MgcpAgent, UnreachableAfterMax2) {
  running_agent ca{fast_config()};
  blocking_queue<command_outcome> outcomes;
  blocking_queue<udp_endpoint> unreachable;
  ca.agent().on_unreachable([&](const udp_endpoint& peer) { unreachable.push(peer); });
  ca.run();
  raw_peer gw;
  ca.agent().send(gw.endpoint(), auep_to("aaln/1@mta-1.example"),
                  [&](command_outcome o) { outcomes.push(std::move(o)); });
  auto outcome = outcomes.pop();
  ASSERT_TRUE(outcome);
  auto* failure = std::get_if<transaction_failure>(&*outcome);
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(*failure, transaction_failure::timeout);
  auto peer = unreachable.pop();
  ASSERT_TRUE(peer);
  EXPECT_EQ(*peer, gw.endpoint());
  // First copy plus Max2 = 3 retransmissions, all identical.
  std::vector<std::string> copies;
  while (auto d = gw.receive(200ms))
    copies.push_back(d->text);
  ASSERT_EQ(copies.size(), 4u);
  for (auto& c : copies)
    EXPECT_EQ(c, copies.front());
  EXPECT_EQ(counter(ca, "cms_mgcp_messages_retransmitted_total", gw.endpoint()), 3);
  EXPECT_EQ(counter(ca, "cms_mgcp_transactions_failed_total", gw.endpoint()), 1);
  EXPECT_EQ(counter(ca, "cms_mgcp_peer_suspect_total", gw.endpoint()), 1);
}

TEST(MgcpAgent, ProvisionalResponseStopsRetransmissionAndFinalWithEmptyKGets000) {
  running_agent ca{fast_config()};
  blocking_queue<command_outcome> outcomes;
  ca.run();
  raw_peer gw;
  auto tid = ca.agent().send(gw.endpoint(), auep_to("aaln/1@mta-1.example"),
                             [&](command_outcome o) { outcomes.push(std::move(o)); });
  ASSERT_TRUE(gw.receive());
  auto t = std::to_string(tid);
  gw.send(ca.endpoint(), "100 " + t + " Transaction being executed\r\n");
  // Longer than the whole Max2 backoff (about 0.4 s here): no copies, no failure.
  while (gw.receive(150ms)) {}
  EXPECT_FALSE(gw.receive(600ms));
  EXPECT_FALSE(outcomes.pop(1ms));
  gw.send(ca.endpoint(), "200 " + t + " OK\r\nK:\r\n");
  auto ack = gw.receive_response();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->code, 0);
  EXPECT_EQ(ack->transaction_id, tid);
  auto outcome = outcomes.pop();
  ASSERT_TRUE(outcome);
  EXPECT_EQ(std::get<response>(*outcome).code, 200);
  // The gateway missed our 000 and repeats its final response: 000 again, still one outcome.
  gw.send(ca.endpoint(), "200 " + t + " OK\r\nK:\r\n");
  auto ack2 = gw.receive_response();
  ASSERT_TRUE(ack2);
  EXPECT_EQ(ack2->code, 0);
  EXPECT_FALSE(outcomes.pop(200ms));
}

TEST(MgcpAgent, AcknowledgesReceivedResponsesWithKOnTheNextCommand) {
  running_agent ca{fast_config()};
  blocking_queue<command_outcome> outcomes;
  ca.run();
  raw_peer gw;
  auto done = [&](command_outcome o) { outcomes.push(std::move(o)); };
  auto t1 = ca.agent().send(gw.endpoint(), auep_to("aaln/1@mta-1.example"), done);
  auto c1 = gw.receive_command();
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->param("K"), nullptr);
  gw.send(ca.endpoint(), "200 " + std::to_string(t1) + " OK\r\n");
  ASSERT_TRUE(outcomes.pop());
  auto t2 = ca.agent().send(gw.endpoint(), auep_to("aaln/2@mta-1.example"), done);
  auto c2 = gw.receive_command();
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->transaction_id, t2);
  ASSERT_NE(c2->param("K"), nullptr);
  EXPECT_EQ(*c2->param("K"), std::to_string(t1));
  gw.send(ca.endpoint(), "200 " + std::to_string(t2) + " OK\r\n");
  ASSERT_TRUE(outcomes.pop());
}

TEST(MgcpAgent, ConcurrentSendersGetDistinctIdsAndOneOutcomeEach) {
  running_agent ca{fast_config()};
  running_agent gw{fast_config()};
  gw.agent().on_command([&](const udp_endpoint& from, command cmd) {
    response r;
    r.code = 200;
    r.transaction_id = cmd.transaction_id;
    gw.agent().respond(from, r);
  });
  gw.run();
  ca.run();
  blocking_queue<std::uint32_t> completed;
  std::vector<std::thread> senders;
  std::mutex ids_mutex;
  std::set<std::uint32_t> ids;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto tid =
          ca.agent().send(gw.endpoint(), auep_to("aaln/1@gw.example"), [&](command_outcome o) {
            if (auto* r = std::get_if<response>(&o))
              completed.push(r->transaction_id);
          });
        std::lock_guard lock{ids_mutex};
        ids.insert(tid);
      }
    });
  for (auto& s : senders)
    s.join();
  EXPECT_EQ(ids.size(), 200u);
  std::set<std::uint32_t> done;
  for (int i = 0; i < 200; ++i) {
    auto tid = completed.pop();
    ASSERT_TRUE(tid) << "only " << i << " of 200 completed";
    done.insert(*tid);
  }
  EXPECT_EQ(done, ids);
  EXPECT_FALSE(completed.pop(200ms));
}

TEST(MgcpAgent, StopCompletesPendingCommands) {
  running_agent ca{fast_config()};
  blocking_queue<command_outcome> outcomes;
  ca.run();
  raw_peer gw;
  ca.agent().send(gw.endpoint(), auep_to("aaln/1@mta-1.example"),
                  [&](command_outcome o) { outcomes.push(std::move(o)); });
  ASSERT_TRUE(gw.receive());
  ca.on_io_thread([&] { ca.agent().stop(); });
  auto outcome = outcomes.pop();
  ASSERT_TRUE(outcome);
  EXPECT_EQ(std::get<transaction_failure>(*outcome), transaction_failure::stopped);
}

// ---- commands we receive --------------------------------------------------------------------

TEST(MgcpAgent, DuplicateCommandIsAnsweredFromCacheAndDeliveredOnce) {
  running_agent ca{fast_config()};
  blocking_queue<std::pair<udp_endpoint, command>> commands;
  ca.agent().on_command([&](const udp_endpoint& from, command cmd) {
    commands.push({from, std::move(cmd)});
  });
  ca.run();
  raw_peer gw;
  const std::string crcx =
    "CRCX 1001 aaln/1@mta-1.example MGCP 1.0 NCS 1.0\r\nC: A3C47F21456789F0\r\n"
    "L: p:20, a:PCMU\r\nM: recvonly\r\n";
  gw.send(ca.endpoint(), crcx);
  auto got = commands.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first, gw.endpoint());
  EXPECT_EQ(got->second.kind, verb::crcx);
  EXPECT_EQ(got->second.transaction_id, 1001u);
  response r;
  r.code = 200;
  r.transaction_id = 1001;
  r.set_param("I", "FDE234C8");
  r.sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 3456 "
          "RTP/AVP 0\r\n";
  ca.agent().respond(got->first, r);
  auto first = gw.receive();
  ASSERT_TRUE(first);
  auto rsp = decode(first->text);
  ASSERT_EQ(rsp.messages.size(), 1u);
  EXPECT_EQ(std::get<response>(rsp.messages[0]).code, 200);
  EXPECT_EQ(*std::get<response>(rsp.messages[0]).param("I"), "FDE234C8");
  // The gateway did not get it and retransmits: same bytes back, no second delivery.
  gw.send(ca.endpoint(), crcx);
  auto again = gw.receive();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->text, first->text);
  EXPECT_FALSE(commands.pop(200ms));
  EXPECT_EQ(counter(ca, "cms_mgcp_duplicate_commands_total", gw.endpoint()), 1);
  EXPECT_EQ(ca.metrics().value("cms_mgcp_responses_cached"), 1);
  // The same transaction id from another peer is a different transaction.
  raw_peer other;
  other.send(ca.endpoint(), crcx);
  auto from_other = commands.pop();
  ASSERT_TRUE(from_other);
  EXPECT_EQ(from_other->first, other.endpoint());
}

TEST(MgcpAgent, SlowCommandGetsProvisional100ThenFinalUntil000) {
  running_agent ca{fast_config()};
  blocking_queue<std::pair<udp_endpoint, command>> commands;
  ca.agent().on_command([&](const udp_endpoint& from, command cmd) {
    commands.push({from, std::move(cmd)});
  });
  ca.run();
  raw_peer gw;
  const std::string rqnt = "RQNT 2002 aaln/1@mta-1.example MGCP 1.0 NCS 1.0\r\nX: 0123456789AB\r\n"
                           "R: L/hd(N)\r\n";
  gw.send(ca.endpoint(), rqnt);
  auto got = commands.pop();
  ASSERT_TRUE(got);
  std::this_thread::sleep_for(50ms); // past provisional_after (20 ms)
  gw.send(ca.endpoint(), rqnt);
  auto provisional = gw.receive_response();
  ASSERT_TRUE(provisional);
  EXPECT_EQ(provisional->code, 100);
  EXPECT_EQ(provisional->transaction_id, 2002u);
  EXPECT_FALSE(commands.pop(100ms));

  response r;
  r.code = 200;
  r.transaction_id = 2002;
  ca.agent().respond(got->first, r);
  auto final1 = gw.receive_response();
  ASSERT_TRUE(final1);
  EXPECT_EQ(final1->code, 200);
  ASSERT_NE(final1->param("K"), nullptr); // empty K: asks for a 000
  EXPECT_EQ(*final1->param("K"), "");
  auto final2 = gw.receive_response(); // not acknowledged: repeated
  ASSERT_TRUE(final2);
  EXPECT_EQ(final2->code, 200);
  gw.send(ca.endpoint(), "000 2002\r\n");
  while (gw.receive(100ms)) {}
  EXPECT_FALSE(gw.receive(400ms));
  EXPECT_EQ(ca.metrics().value("cms_mgcp_responses_cached"), 0);
}

TEST(MgcpAgent, KInAPeerCommandReleasesTheCachedResponse) {
  running_agent ca{fast_config()};
  blocking_queue<std::pair<udp_endpoint, command>> commands;
  ca.agent().on_command([&](const udp_endpoint& from, command cmd) {
    response r;
    r.code = 200;
    r.transaction_id = cmd.transaction_id;
    ca.agent().respond(from, r);
    commands.push({from, std::move(cmd)});
  });
  ca.run();
  raw_peer gw;
  const std::string ntfy = "NTFY 3003 aaln/1@mta-1.example MGCP 1.0 NCS 1.0\r\nX: 1\r\nO: L/hd\r\n";
  gw.send(ca.endpoint(), ntfy);
  ASSERT_TRUE(commands.pop());
  ASSERT_TRUE(gw.receive_response());
  EXPECT_EQ(ca.metrics().value("cms_mgcp_responses_cached"), 1);
  gw.send(ca.endpoint(),
          "NTFY 3004 aaln/1@mta-1.example MGCP 1.0 NCS 1.0\r\nK: 3003\r\nX: 1\r\nO: L/hu\r\n");
  ASSERT_TRUE(commands.pop());
  ASSERT_TRUE(gw.receive_response());
  EXPECT_EQ(ca.metrics().value("cms_mgcp_responses_cached"), 1); // 3004's; 3003 released
  // A late copy of the acknowledged command is neither answered nor executed.
  gw.send(ca.endpoint(), ntfy);
  EXPECT_FALSE(gw.receive(300ms));
  EXPECT_FALSE(commands.pop(1ms));
}

TEST(MgcpAgent, MalformedInputIsAnsweredWithTheRightCode) {
  running_agent ca{fast_config()};
  blocking_queue<command> commands;
  ca.agent().on_command([&](const udp_endpoint&, command cmd) { commands.push(std::move(cmd)); });
  ca.run();
  raw_peer gw;
  struct case_t {
    std::string text;
    int code;
    std::uint32_t tid;
    const char* reason;
  };
  const std::vector<case_t> cases{
    {"FOOB 4001 aaln/1@mta.example MGCP 1.0\r\n", 504, 4001, "unknown_verb"},
    {"AUEP 4002 aaln/1@mta.example MGCP 2.0\r\n", 528, 4002, "unsupported_version"},
    {"AUEP 4003 aaln/1@mta.example MGCP 1.0\r\nM: sideways\r\n", 539, 4003, "bad_parameter"},
    {"AUEP 4004 aaln/1@mta.example MGCP 1.0\r\nthis line has no colon\r\n", 510, 4004, "malformed"},
  };
  for (const auto& c : cases) {
    gw.send(ca.endpoint(), c.text);
    auto r = gw.receive_response();
    ASSERT_TRUE(r) << c.text;
    EXPECT_EQ(r->code, c.code) << c.text;
    EXPECT_EQ(r->transaction_id, c.tid) << c.text;
    EXPECT_EQ(error_count(ca, gw.endpoint(), c.reason), 1) << c.reason;
  }
  // Without a transaction id there is nobody to answer: dropped and counted.
  gw.send(ca.endpoint(), "hello world\r\n");
  gw.send(ca.endpoint(), std::string("\x00\xff\x10garbage", 10));
  EXPECT_FALSE(gw.receive(300ms));
  EXPECT_EQ(error_count(ca, gw.endpoint(), "no_transaction_id"), 2);
  // A broken response is never answered either.
  gw.send(ca.endpoint(), "200 4005 OK\r\nthis line has no colon\r\n");
  EXPECT_FALSE(gw.receive(300ms));
  EXPECT_EQ(error_count(ca, gw.endpoint(), "malformed_response"), 1);
  // A response to nothing we sent is counted.
  gw.send(ca.endpoint(), "200 4006 OK\r\n");
  settle();
  EXPECT_EQ(error_count(ca, gw.endpoint(), "unknown_transaction"), 1);
  // Still alive and delivering good commands, none of the bad ones.
  gw.send(ca.endpoint(), "AUEP 4007 aaln/1@mta.example MGCP 1.0\r\n");
  auto good = commands.pop();
  ASSERT_TRUE(good);
  EXPECT_EQ(good->transaction_id, 4007u);
  EXPECT_EQ(commands.size(), 0u);
}

TEST(MgcpAgent, PiggyBackedMessagesAreAllProcessed) {
  running_agent ca{fast_config()};
  blocking_queue<command> commands;
  ca.agent().on_command([&](const udp_endpoint&, command cmd) { commands.push(std::move(cmd)); });
  ca.run();
  raw_peer gw;
  gw.send(ca.endpoint(), "RSIP 5001 aaln/1@mta.example MGCP 1.0\r\nRM: restart\r\n.\r\n"
                         "FOOB 5002 aaln/1@mta.example MGCP 1.0\r\n.\r\n"
                         "AUEP 5003 aaln/2@mta.example MGCP 1.0\r\n");
  auto a = commands.pop();
  auto b = commands.pop();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->transaction_id, 5001u);
  EXPECT_EQ(b->transaction_id, 5003u);
  auto err = gw.receive_response();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, 504);
  EXPECT_EQ(err->transaction_id, 5002u);
}

TEST(MgcpAgent, PeerLabelsAreCapped) {
  agent_config cfg = fast_config();
  cfg.max_peer_labels = 2;
  running_agent ca{cfg};
  blocking_queue<command> commands;
  ca.agent().on_command([&](const udp_endpoint&, command cmd) { commands.push(std::move(cmd)); });
  ca.run();
  raw_peer p1, p2, p3, p4;
  std::uint32_t tid = 6000;
  for (auto* p : {&p1, &p2, &p3, &p4}) {
    p->send(ca.endpoint(), "AUEP " + std::to_string(++tid) + " aaln/1@mta.example MGCP 1.0\r\n");
    ASSERT_TRUE(commands.pop());
  }
  EXPECT_EQ(counter(ca, "cms_mgcp_messages_received_total", p1.endpoint()), 1);
  EXPECT_EQ(counter(ca, "cms_mgcp_messages_received_total", p2.endpoint()), 1);
  EXPECT_EQ(counter(ca, "cms_mgcp_messages_received_total", p3.endpoint()), 0);
  EXPECT_EQ(ca.metrics().value("cms_mgcp_messages_received_total", {{"peer", "other"}}), 2);
  auto text = ca.metrics().render_prometheus();
  EXPECT_EQ(text.find(label(p3.endpoint())), std::string::npos);
}

// ---- the socket -----------------------------------------------------------------------------

/// Finds our own descriptor bound to `ep` (the agent does not expose its socket).
int fd_bound_to(const udp_endpoint& ep) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr)
    return -1;
  int found = -1;
  while (dirent* e = ::readdir(dir)) {
    int fd = std::atoi(e->d_name);
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    if (fd <= 2 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0 ||
        sa.sin_family != AF_INET)
      continue;
    int type = 0;
    socklen_t tlen = sizeof type;
    ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen);
    if (type == SOCK_DGRAM && ntohs(sa.sin_port) == ep.port())
      found = fd;
  }
  ::closedir(dir);
  return found;
}

TEST(MgcpAgent, SocketCarriesTheConfiguredDscp) {
  for (int dscp : {26, 24, 46}) {
    agent_config cfg = fast_config();
    cfg.dscp = dscp;
    running_agent ca{cfg};
    ca.run();
    int fd = fd_bound_to(ca.endpoint());
    ASSERT_GE(fd, 0);
    int tos = -1;
    socklen_t len = sizeof tos;
    ASSERT_EQ(::getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &len), 0);
    EXPECT_EQ(tos, dscp << 2);
    // And on the wire: the peer sees it in the received packet's TOS byte.
    raw_peer gw;
    ca.agent().send(gw.endpoint(), auep_to("aaln/1@mta.example"), [](command_outcome) {});
    auto d = gw.receive();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->tos, dscp << 2);
  }
}

TEST(MgcpAgent, SocketGetsTheConfiguredReceiveBufferAndShowsIt) {
  agent_config plain = fast_config();
  running_agent kernel_default{plain};
  kernel_default.run();
  auto default_size = kernel_default.agent().receive_buffer_bytes();
  ASSERT_GT(default_size, 0u);

  agent_config cfg = fast_config();
  cfg.receive_buffer_bytes = 3 * 1024 * 1024; // below this machine's rmem_max or forced as root
  running_agent ca{cfg};
  ca.run();
  int fd = fd_bound_to(ca.endpoint());
  ASSERT_GE(fd, 0);
  int size = 0;
  socklen_t len = sizeof size;
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len), 0);
  EXPECT_GE(static_cast<std::size_t>(size), 2 * cfg.receive_buffer_bytes); // Linux doubles it
  EXPECT_GT(static_cast<std::size_t>(size), default_size);
  EXPECT_EQ(ca.agent().receive_buffer_bytes(), cfg.receive_buffer_bytes);
  EXPECT_EQ(ca.metrics().value("cms_mgcp_receive_buffer_bytes"), cfg.receive_buffer_bytes);
}

TEST(MgcpAgent, BadDscpOrBusyPortIsAClearError) {
  boost::asio::io_context io;
  metrics::registry reg;
  agent_config cfg = fast_config();
  cfg.port = 0;
  cfg.dscp = 64;
  agent a{io, cfg, reg};
  EXPECT_THROW(a.start(), std::invalid_argument);

  raw_peer holder;
  agent_config busy = fast_config();
  busy.port = holder.endpoint().port();
  agent b{io, busy, reg};
  EXPECT_THROW(b.start(), std::system_error);
}

TEST(MgcpAgent, CommandWithoutAHandlerGets501) {
  running_agent ca{fast_config()};
  ca.run();
  raw_peer gw;
  gw.send(ca.endpoint(), "AUEP 7001 aaln/1@mta.example MGCP 1.0\r\n");
  auto r = gw.receive_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 501);
  EXPECT_EQ(r->transaction_id, 7001u);
}

} // namespace
// ---- who may answer, who may be answered --------------------------------------------------------

double rejected(running_agent& a, const std::string& reason) {
  return a.metrics().value("cms_mgcp_rejected_total", {{"reason", reason}});
}

TEST(MgcpAgent, AnAnswerFromAnotherAddressDoesNotCompleteOurCommand) {
  running_agent ca{fast_config()};
  blocking_queue<command_outcome> outcomes;
  ca.run();
  raw_peer gw;
  raw_peer forger{boost::asio::ip::make_address("127.0.0.66")};
  raw_peer same_host_other_port;
  auto tid = ca.agent().send(gw.endpoint(), auep_to("aaln/1@mta-1.example"),
                             [&](command_outcome o) { outcomes.push(std::move(o)); });
  ASSERT_TRUE(gw.receive_command());
  // A forged CRCX/AUEP answer (the id is easy to guess) must not complete the command.
  forger.send(ca.endpoint(), "200 " + std::to_string(tid) + " OK\r\nI: BAD\r\n");
  same_host_other_port.send(ca.endpoint(), "200 " + std::to_string(tid) + " OK\r\nI: BAD\r\n");
  EXPECT_FALSE(outcomes.pop(300ms));
  EXPECT_EQ(rejected(ca, "response_wrong_peer"), 2);
  gw.send(ca.endpoint(), "200 " + std::to_string(tid) + " OK\r\nI: 600D\r\n");
  auto outcome = outcomes.pop();
  ASSERT_TRUE(outcome);
  auto* rsp = std::get_if<response>(&*outcome);
  ASSERT_NE(rsp, nullptr);
  ASSERT_NE(rsp->param("I"), nullptr);
  EXPECT_EQ(*rsp->param("I"), "600D");
}

TEST(MgcpAgent, AFencedAgentAnswersNothingAndRecordsNothing) {
  running_agent ca{fast_config()};
  blocking_queue<command> commands;
  ca.agent().on_command([&](const udp_endpoint&, command cmd) { commands.push(std::move(cmd)); });
  ca.run();
  ca.agent().set_fenced(true);
  raw_peer mta;
  mta.send(ca.endpoint(), "FOOB 5001 aaln/1@mta.example MGCP 1.0\r\n"); // would get 504
  mta.send(ca.endpoint(), "RSIP 5002 aaln/1@mta.example MGCP 1.0\r\nRM: restart\r\n");
  EXPECT_FALSE(mta.receive(300ms));
  EXPECT_EQ(commands.size(), 0u);
  EXPECT_EQ(rejected(ca, "fenced"), 2);
  // An answer the owner had queued before the fence closed does not go out either.
  ca.agent().respond(mta.endpoint(), response{200, 5002, "OK", {}, {}});
  EXPECT_FALSE(mta.receive(200ms));
  // Open again: the retransmission is a fresh command (it was never recorded), not a "100".
  ca.agent().set_fenced(false);
  mta.send(ca.endpoint(), "RSIP 5002 aaln/1@mta.example MGCP 1.0\r\nRM: restart\r\n");
  auto got = commands.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->transaction_id, 5002u);
}

TEST(MgcpAgent, ReceivedTransactionsAreCappedPerPeerWith409) {
  auto cfg = fast_config();
  cfg.receive.max_per_peer = 4;
  running_agent ca{cfg};
  blocking_queue<command> commands;
  ca.agent().on_command([&](const udp_endpoint&, command cmd) { commands.push(std::move(cmd)); });
  ca.run();
  raw_peer noisy, quiet;
  for (int tid = 6001; tid <= 6004; ++tid)
    noisy.send(ca.endpoint(), "NTFY " + std::to_string(tid) + " aaln/1@mta.example MGCP 1.0\r\n");
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(commands.pop());
  noisy.send(ca.endpoint(), "NTFY 6005 aaln/1@mta.example MGCP 1.0\r\n");
  auto r = noisy.receive_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 409);
  EXPECT_EQ(r->transaction_id, 6005u);
  EXPECT_EQ(commands.size(), 0u);
  EXPECT_EQ(rejected(ca, "peer_limit"), 1);
  // Another peer is served.
  quiet.send(ca.endpoint(), "NTFY 6005 aaln/1@mta.example MGCP 1.0\r\n");
  EXPECT_TRUE(commands.pop());
}

TEST(MgcpAgent, AMalformedFloodSilencesOnlyItsOwnAddressAndPort) {
  auto cfg = fast_config();
  cfg.flood.burst = 5;
  cfg.flood.per_second = 0.01;
  running_agent ca{cfg};
  blocking_queue<command> commands;
  ca.agent().on_command([&](const udp_endpoint& from, command cmd) {
    ca.agent().respond(from, response{200, cmd.transaction_id, "OK", {}, {}});
    commands.push(std::move(cmd));
  });
  ca.run();
  raw_peer spoofer; // same address as the MTA (127.0.0.1), another port
  raw_peer mta;
  for (int i = 0; i < 50; ++i)
    spoofer.send(ca.endpoint(), "FOOB " + std::to_string(7000 + i) + " aaln/1@mta MGCP 1.0\r\n");
  int answers = 0;
  while (spoofer.receive(200ms))
    ++answers;
  EXPECT_LE(answers, 5); // the budget, then silence
  // The MTA on the same address is untouched.
  mta.send(ca.endpoint(), "FOOB 7100 aaln/1@mta.example MGCP 1.0\r\n");
  auto err = mta.receive_response();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, 504);
  mta.send(ca.endpoint(), "NTFY 7101 aaln/1@mta.example MGCP 1.0\r\n");
  EXPECT_TRUE(commands.pop());
  // The spoofer's well-formed commands are still served: only what is malformed is shed.
  spoofer.send(ca.endpoint(), "NTFY 7102 aaln/1@mta.example MGCP 1.0\r\n");
  auto good = commands.pop();
  ASSERT_TRUE(good);
  EXPECT_EQ(good->transaction_id, 7102u);
}

} // namespace cms::mgcp
