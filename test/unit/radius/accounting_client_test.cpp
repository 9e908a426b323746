// The EM client against scripted RKSs on loopback: retransmission, failover and the
// return-to-primary rule, the Identifier window over several source ports, and responses that
// must be dropped (forged source, bad authenticator, wrong type, malformed, late duplicate).

#include "fake_rks.hpp"

#include "runtime/radius/accounting_client.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace cms::radius;
using namespace cms::radius::test;
using namespace std::chrono_literals;

namespace {

event_message make_em(std::uint32_t seq, em_type type = em_type::signaling_start) {
  event_message em;
  em.header.billing_correlation_id = bcid{1700000000, "12345", "0+000000", 42};
  em.header.type = type;
  em.header.element_id = "12345";
  em.header.sequence = seq;
  em.header.event_time = "20260101120000.000";
  em.attributes = {attr::calling_party_number("5551234")};
  return em;
}

std::uint32_t sequence_of(const received& r) {
  auto em = decode_event_message(r.p);
  return em ? em->header.sequence : 0xffffffffu;
}

struct results {
  std::vector<send_result> done;
  send_callback collect() {
    return [this](const send_result& r) { done.push_back(r); };
  }
};

accounting_client_options options_for(const fake_rks& primary, const std::string& secret) {
  accounting_client_options o;
  o.primary = {primary.endpoint(), secret};
  o.retry_interval = 50ms;
  o.retry_count = 1;
  o.source_ports = 2;
  o.probe_interval = 100ms;
  o.bind_address = asio::ip::address_v4::loopback();
  return o;
}

} // namespace

TEST(AccountingClient, DeliversAndCounts) {
  asio::io_context io;
  fake_rks rks{io, "k"};
  auto client = accounting_client::create(io, options_for(rks, "k"));
  results res;
  client->send("rec-1", make_em(1), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == 1; }));
  EXPECT_TRUE(res.done[0].ok) << res.done[0].error;
  EXPECT_EQ(res.done[0].record_key, "rec-1");
  EXPECT_EQ(res.done[0].server, 0);
  EXPECT_EQ(res.done[0].transmissions, 1u);
  auto c = client->counters();
  EXPECT_EQ(c.servers[0].requests, 1u);
  EXPECT_EQ(c.servers[0].responses, 1u);
  EXPECT_EQ(c.servers[0].pending_requests, 0u);
  EXPECT_EQ(c.servers[0].retransmissions, 0u);
  EXPECT_GT(c.servers[0].round_trip_time.count(), 0);
  client->stop();
}

TEST(AccountingClient, RetransmitsTheSameBytes) {
  asio::io_context io;
  fake_rks rks{io, "k"};
  rks.answer_if = [&](const received&) { return rks.log.size() >= 2; }; // ignore the first
  auto client = accounting_client::create(io, options_for(rks, "k"));
  results res;
  client->send("rec", make_em(1), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == 1; }));
  EXPECT_TRUE(res.done[0].ok);
  EXPECT_EQ(res.done[0].transmissions, 2u);
  ASSERT_EQ(rks.log.size(), 2u);
  EXPECT_EQ(rks.log[0].data, rks.log[1].data);
  EXPECT_EQ(rks.log[0].from, rks.log[1].from);
  EXPECT_EQ(client->counters().servers[0].retransmissions, 1u);
  client->stop();
}

TEST(AccountingClient, FailsOverToSecondaryAndReturnsAfterStatusServer) {
  asio::io_context io;
  fake_rks primary{io, "k"}, secondary{io, "k2"};
  bool primary_alive = false;
  primary.answer_if = [&](const received&) { return primary_alive; };
  auto o = options_for(primary, "k");
  o.secondary = rks_peer{secondary.endpoint(), "k2"}; // its own secret: re-encoded on the move
  auto client = accounting_client::create(io, o);
  results res;
  client->send("a", make_em(1), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == 1; }));
  ASSERT_TRUE(res.done[0].ok) << res.done[0].error;
  EXPECT_EQ(res.done[0].server, 1);
  EXPECT_EQ(res.done[0].transmissions, 3u); // 1 + retry_count to the primary, then 1
  EXPECT_EQ(primary.count(code::accounting_request), 2u);
  EXPECT_EQ(secondary.count(code::accounting_request), 1u);
  auto c = client->counters();
  EXPECT_EQ(c.failovers, 1u);
  EXPECT_TRUE(c.on_secondary);
  EXPECT_EQ(c.servers[0].timeouts, 1u);
  EXPECT_EQ(c.servers[1].responses, 1u);

  // While the primary stays silent the probes go unanswered and EMs go to the secondary.
  ASSERT_TRUE(run_until(io, [&] { return primary.count(code::status_server) >= 2; }));
  client->send("b", make_em(2), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == 2; }));
  EXPECT_EQ(res.done[1].server, 1);
  EXPECT_EQ(res.done[1].transmissions, 1u);
  EXPECT_EQ(primary.count(code::accounting_request), 2u);
  EXPECT_TRUE(client->counters().on_secondary);

  // The primary answers a Status-Server: the next EM goes to it.
  primary_alive = true;
  ASSERT_TRUE(run_until(io, [&] { return client->counters().returns_to_primary == 1; }));
  EXPECT_FALSE(client->counters().on_secondary);
  client->send("c", make_em(3), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == 3; }));
  EXPECT_TRUE(res.done[2].ok);
  EXPECT_EQ(res.done[2].server, 0);
  EXPECT_EQ(primary.count(code::accounting_request), 3u);
  client->stop();
}

TEST(AccountingClient, ReportsFailureWhenBothAreSilent) {
  asio::io_context io;
  fake_rks primary{io, "k"}, secondary{io, "k"};
  primary.answer_if = secondary.answer_if = [](const received&) { return false; };
  auto o = options_for(primary, "k");
  o.secondary = rks_peer{secondary.endpoint(), "k"};
  auto client = accounting_client::create(io, o);
  results res;
  auto start = std::chrono::steady_clock::now();
  client->send("x", make_em(1), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == 1; }));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(res.done[0].ok);
  EXPECT_FALSE(res.done[0].error.empty());
  EXPECT_EQ(res.done[0].transmissions, 4u);
  EXPECT_GE(took, 4 * 50ms); // retry_interval x (1 + retry_count) per RKS
  auto c = client->counters();
  EXPECT_EQ(c.servers[0].timeouts, 1u);
  EXPECT_EQ(c.servers[1].timeouts, 1u);
  EXPECT_EQ(c.servers[0].pending_requests, 0u);
  EXPECT_EQ(c.servers[1].pending_requests, 0u);
  client->stop();
}

TEST(AccountingClient, IdentifierWindowSpansSourcePortsInOrder) {
  asio::io_context io;
  fake_rks rks{io, "k"};
  bool answering = false;
  rks.answer_if = [&](const received&) { return answering; };
  ASSERT_GE(rks.receive_buffer(), 2 << 20) << "raise net.core.rmem_max: the burst would be dropped";
  auto o = options_for(rks, "k");
  o.source_ports = 4;
  o.retry_interval = 20s; // no retransmission during the test
  auto client = accounting_client::create(io, o);
  results res;
  const std::uint32_t total = 1100;
  for (std::uint32_t i = 0; i < total; ++i)
    client->send("r" + std::to_string(i), make_em(i), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return rks.log.size() == 1024; }));
  // The window is full: 4 ports x 256 Identifiers, each pair once, the rest queued.
  std::set<std::pair<std::uint16_t, int>> pairs;
  std::map<std::uint16_t, int> per_port;
  for (std::size_t i = 0; i < rks.log.size(); ++i) {
    const auto& r = rks.log[i];
    pairs.emplace(r.from.port(), r.p.identifier);
    ++per_port[r.from.port()];
    EXPECT_EQ(sequence_of(r), i) << "sent out of order";
  }
  EXPECT_EQ(pairs.size(), 1024u);
  EXPECT_EQ(per_port.size(), 4u);
  for (auto& [port, n] : per_port)
    EXPECT_EQ(n, 256) << port;
  auto ports = client->local_ports();
  EXPECT_EQ(std::set<std::uint16_t>(ports.begin(), ports.end()).size(), 4u);
  EXPECT_EQ(client->counters().servers[0].pending_requests, 1024u);
  // Answer everything in flight: the queued 76 follow, still in order.
  answering = true;
  auto backlog = rks.log;
  for (std::size_t i = 0; i < backlog.size(); ++i) {
    rks.reply(backlog[i]);
    if (i % 64 == 63) // let the client read between bursts, as a real RKS's pace would
      io.poll();
  }
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == total; }));
  for (const auto& r : res.done)
    EXPECT_TRUE(r.ok) << r.record_key;
  for (std::size_t i = 1024; i < rks.log.size(); ++i)
    EXPECT_EQ(sequence_of(rks.log[i]), i);
  EXPECT_EQ(client->counters().servers[0].responses, total);
  client->stop();
}

TEST(AccountingClient, DropsAndCountsWhatIsNotTheAnswer) {
  asio::io_context io;
  fake_rks rks{io, "k"};
  rks.answer_if = [](const received&) { return false; };
  fake_rks forger{io, "k"}; // same secret, another port: still not the RKS
  auto o = options_for(rks, "k");
  o.retry_interval = 20s;
  auto client = accounting_client::create(io, o);
  results res;
  client->send("x", make_em(1), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return rks.log.size() == 1; }));
  const auto req = rks.log[0];
  auto counters = [&] { return client->counters(); };

  // 1. A correctly signed answer, but from another port: dropped.
  forger.send_to(req.from, rks.answer_for(req));
  ASSERT_TRUE(run_until(io, [&] { return counters().invalid_server_addresses == 1; }));
  // 2. From the RKS, bad authenticator (signed with another secret).
  rks.send_to(req.from, encode_response(code::accounting_response, req.p.identifier,
                                        req.p.authenticator, {}, "not-k"));
  ASSERT_TRUE(run_until(io, [&] { return counters().servers[0].bad_authenticators == 1; }));
  // 3. From the RKS, right signature, wrong packet type.
  rks.send_to(req.from, rks.answer_for(req, code::access_reject));
  ASSERT_TRUE(run_until(io, [&] { return counters().servers[0].unknown_types == 1; }));
  // 4. From the RKS, garbage.
  rks.send_to(req.from, bytes{5, req.p.identifier, 0, 30, 1, 2});
  ASSERT_TRUE(run_until(io, [&] { return counters().servers[0].malformed_responses == 1; }));
  // 5. From the RKS, an Identifier nobody is waiting for.
  auto stray = req;
  stray.p.identifier = static_cast<std::uint8_t>(req.p.identifier + 1);
  rks.send_to(req.from, rks.answer_for(stray));
  ASSERT_TRUE(run_until(io, [&] { return counters().servers[0].packets_dropped == 1; }));
  EXPECT_TRUE(res.done.empty()); // none of that completed the request
  EXPECT_EQ(counters().servers[0].responses, 0u);

  // The real answer completes it; a duplicate of it afterwards is dropped.
  rks.reply(req);
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == 1; }));
  EXPECT_TRUE(res.done[0].ok);
  rks.reply(req);
  ASSERT_TRUE(run_until(io, [&] { return counters().servers[0].packets_dropped == 2; }));
  EXPECT_EQ(counters().servers[0].responses, 1u);
  client->stop();
}

TEST(AccountingClient, StatusServerProbe) {
  asio::io_context io;
  fake_rks rks{io, "k"};
  auto client = accounting_client::create(io, options_for(rks, "k"));
  std::vector<probe_result> probes;
  client->status_server({rks.endpoint(), "k"}, [&](const probe_result& r) { probes.push_back(r); });
  ASSERT_TRUE(run_until(io, [&] { return probes.size() == 1; }));
  EXPECT_TRUE(probes[0].ok) << probes[0].error;
  ASSERT_EQ(rks.log.size(), 1u);
  EXPECT_EQ(rks.log[0].p.packet_code, code::status_server);
  // Wrong secret: the responder refuses the Message-Authenticator and stays silent.
  client->status_server({rks.endpoint(), "wrong"},
                        [&](const probe_result& r) { probes.push_back(r); });
  ASSERT_TRUE(run_until(io, [&] { return probes.size() == 2; }));
  EXPECT_FALSE(probes[1].ok);
  client->stop();
}

TEST(AccountingClient, StopFailsWhatIsPending) {
  asio::io_context io;
  fake_rks rks{io, "k"};
  rks.answer_if = [](const received&) { return false; };
  auto o = options_for(rks, "k");
  o.retry_interval = 20s;
  auto client = accounting_client::create(io, o);
  results res;
  client->send("x", make_em(1), res.collect());
  ASSERT_TRUE(run_until(io, [&] { return rks.log.size() == 1; }));
  client->stop();
  ASSERT_TRUE(run_until(io, [&] { return res.done.size() == 1; }));
  EXPECT_FALSE(res.done[0].ok);
  EXPECT_EQ(res.done[0].error, "stopped");
}

TEST(AccountingClient, RejectsBadOptions) {
  asio::io_context io;
  accounting_client_options o;
  o.primary = {udp::endpoint{asio::ip::address_v4::loopback(), 1}, ""};
  EXPECT_THROW(accounting_client::create(io, o), std::invalid_argument);
  o.primary.secret = "k";
  o.window_per_port = 257;
  EXPECT_THROW(accounting_client::create(io, o), std::invalid_argument);
}
