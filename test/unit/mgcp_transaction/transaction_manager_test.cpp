// The RFC 3435 3.5 transaction layer driven with fake time: no sockets, no sleeping.

#include "runtime/mgcp/transaction_manager.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace cms::mgcp {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

const time_point t0 = time_point{} + 1h;

udp_endpoint gateway(std::uint16_t port = 2427) {
  return {boost::asio::ip::make_address("127.0.0.1"), port};
}

transaction_timers no_jitter() {
  transaction_timers t;
  t.jitter = 0.0;
  return t;
}

command auep(std::string endpoint = "aaln/1@mta.example") {
  command c;
  c.kind = verb::auep;
  c.endpoint = std::move(endpoint);
  return c;
}

command with_tid(command c, std::uint32_t tid) {
  c.transaction_id = tid;
  return c;
}

response final_response(std::uint32_t tid, int code = 200) {
  response r;
  r.code = code;
  r.transaction_id = tid;
  r.comment = "OK";
  return r;
}

const parameter* find(const parameter_list& params, const std::string& name) {
  auto it =
    std::find_if(params.begin(), params.end(), [&](const parameter& p) { return p.name == name; });
  return it == params.end() ? nullptr : &*it;
}

const command& as_command(const outbound& o) { return std::get<command>(o.msg); }
const response& as_response(const outbound& o) { return std::get<response>(o.msg); }

// ---- transaction ids --------------------------------------------------------------------------

TEST(TransactionIds, AreInRangeAndSequential) {
  transaction_manager tm{no_jitter(), 42};
  command c = auep();
  auto first = tm.start_command(gateway(), c, t0);
  EXPECT_GE(first, 1u);
  EXPECT_LE(first, transaction_manager::max_transaction_id);
  EXPECT_EQ(c.transaction_id, first);
  command d = auep();
  auto second = tm.start_command(gateway(), d, t0);
  EXPECT_EQ(second, first == transaction_manager::max_transaction_id ? 1u : first + 1);
}

TEST(TransactionIds, SeedChoosesTheStartingPoint) {
  transaction_manager a{no_jitter(), 1}, b{no_jitter(), 1}, c{no_jitter(), 2};
  command x = auep(), y = auep(), z = auep();
  EXPECT_EQ(a.start_command(gateway(), x, t0), b.start_command(gateway(), y, t0));
  EXPECT_NE(a.start_command(gateway(), x, t0), c.start_command(gateway(), z, t0));
}

TEST(TransactionIds, WrapAfterTheMaximum) {
  transaction_manager tm{no_jitter(), 7};
  tm.restart_ids_at(transaction_manager::max_transaction_id);
  command a = auep(), b = auep();
  EXPECT_EQ(tm.start_command(gateway(), a, t0), transaction_manager::max_transaction_id);
  EXPECT_EQ(tm.start_command(gateway(), b, t0), 1u);
}

TEST(TransactionIds, NeverReuseALiveOrRecentId) {
  transaction_manager tm{no_jitter(), 7};
  tm.restart_ids_at(100);
  command a = auep(), b = auep();
  EXPECT_EQ(tm.start_command(gateway(), a, t0), 100u);
  EXPECT_EQ(tm.start_command(gateway(), b, t0), 101u);
  // 100 completes: it stays reserved for T-hist, 101 is still outstanding.
  EXPECT_EQ(tm.on_response(gateway(), final_response(100), t0 + 10ms).kind,
            incoming_response_kind::final);
  tm.restart_ids_at(100);
  command c = auep();
  EXPECT_EQ(tm.start_command(gateway(), c, t0 + 20ms), 102u);
  // After T-hist the completed id is free again.
  tm.on_response(gateway(), final_response(101), t0 + 20ms);
  tm.on_response(gateway(), final_response(102), t0 + 20ms);
  tm.on_timer(t0 + 31s);
  tm.restart_ids_at(100);
  command d = auep();
  EXPECT_EQ(tm.start_command(gateway(), d, t0 + 31s), 100u);
}

// ---- retransmission ---------------------------------------------------------------------------

TEST(Retransmission, BacksOffExponentiallyUpToTheCap) {
  transaction_manager tm{no_jitter(), 1};
  command c = auep();
  auto tid = tm.start_command(gateway(), c, t0);
  // NCS: 200 ms doubling, capped at 4 s; retransmissions 1..7 then failure.
  const std::vector<ms> gaps{200ms, 400ms, 800ms, 1600ms, 3200ms, 4000ms, 4000ms, 4000ms};
  time_point now = t0;
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    ASSERT_TRUE(tm.next_deadline());
    EXPECT_EQ(*tm.next_deadline() - now, gaps[i]) << "gap " << i;
    // Nothing happens a millisecond early.
    auto early = tm.on_timer(now + gaps[i] - 1ms);
    EXPECT_TRUE(early.retransmissions.empty());
    EXPECT_TRUE(early.failed.empty());
    now += gaps[i];
    auto due = tm.on_timer(now);
    if (i < 7) {
      ASSERT_EQ(due.retransmissions.size(), 1u) << "retransmission " << i + 1;
      EXPECT_EQ(as_command(due.retransmissions[0]).transaction_id, tid);
      EXPECT_EQ(due.retransmissions[0].peer, gateway());
      EXPECT_TRUE(due.failed.empty());
      // Max1 = 5: the fifth retransmission marks the peer suspect, once.
      EXPECT_EQ(due.suspect.size(), i + 1 == 5 ? 1u : 0u) << "retransmission " << i + 1;
    } else {
      EXPECT_TRUE(due.retransmissions.empty());
      ASSERT_EQ(due.failed.size(), 1u);
      EXPECT_EQ(due.failed[0].first, tid);
      EXPECT_EQ(due.failed[0].second, gateway());
    }
  }
  EXPECT_EQ(tm.outstanding(), 0u);
  // A response arriving after the failure is a duplicate, not a new completion.
  EXPECT_EQ(tm.on_response(gateway(), final_response(tid), now + 1s).kind,
            incoming_response_kind::duplicate);
}

TEST(Retransmission, JitterStaysInsideItsBandAndUnderTheCap) {
  transaction_timers t; // jitter 0.1
  transaction_manager tm{t, 99};
  for (int attempt = 0; attempt < 10; ++attempt) {
    double base = std::min(200.0 * (1 << std::min(attempt, 10)), 4000.0);
    for (int i = 0; i < 50; ++i) {
      auto v = static_cast<double>(tm.next_timeout(attempt).count());
      EXPECT_GE(v, base * 0.9 - 1) << attempt;
      EXPECT_LE(v, std::min(base * 1.1, 4000.0)) << attempt;
    }
  }
}

TEST(Retransmission, JitterIsDeterministicForASeedAndActuallyVaries) {
  transaction_manager a{transaction_timers{}, 5}, b{transaction_timers{}, 5};
  std::set<long> seen;
  for (int i = 0; i < 20; ++i) {
    auto x = a.next_timeout(0).count();
    EXPECT_EQ(x, b.next_timeout(0).count());
    seen.insert(x);
  }
  EXPECT_GT(seen.size(), 3u);
}

TEST(Retransmission, CustomMaxThresholds) {
  transaction_timers t = no_jitter();
  t.initial = 10ms;
  t.max = 20ms;
  t.max1 = 1;
  t.max2 = 2;
  transaction_manager tm{t, 3};
  command c = auep();
  tm.start_command(gateway(), c, t0);
  auto r1 = tm.on_timer(t0 + 10ms);
  EXPECT_EQ(r1.retransmissions.size(), 1u);
  EXPECT_EQ(r1.suspect.size(), 1u);
  auto r2 = tm.on_timer(t0 + 30ms);
  EXPECT_EQ(r2.retransmissions.size(), 1u);
  EXPECT_TRUE(r2.failed.empty());
  auto r3 = tm.on_timer(t0 + 50ms);
  EXPECT_TRUE(r3.retransmissions.empty());
  EXPECT_EQ(r3.failed.size(), 1u);
}

TEST(Retransmission, FinalResponseStopsIt) {
  transaction_manager tm{no_jitter(), 1};
  command c = auep();
  auto tid = tm.start_command(gateway(), c, t0);
  auto r = tm.on_response(gateway(), final_response(tid), t0 + 50ms);
  EXPECT_EQ(r.kind, incoming_response_kind::final);
  EXPECT_FALSE(r.ack);
  EXPECT_FALSE(tm.is_outstanding(tid));
  auto later = tm.on_timer(t0 + 10s);
  EXPECT_TRUE(later.retransmissions.empty());
  EXPECT_TRUE(later.failed.empty());
  // A retransmitted copy of the final response is recognised and ignored.
  EXPECT_EQ(tm.on_response(gateway(), final_response(tid), t0 + 11s).kind,
            incoming_response_kind::duplicate);
  EXPECT_EQ(tm.on_response(gateway(), final_response(12345), t0 + 11s).kind,
            incoming_response_kind::unknown);
}

TEST(Retransmission, ProvisionalStopsRetransmittingAndExtendsTheWait) {
  transaction_manager tm{no_jitter(), 1};
  command c = auep();
  auto tid = tm.start_command(gateway(), c, t0);
  EXPECT_EQ(tm.on_timer(t0 + 200ms).retransmissions.size(), 1u);
  EXPECT_EQ(tm.on_response(gateway(), final_response(tid, 100), t0 + 300ms).kind,
            incoming_response_kind::provisional);
  // Well past Max2 worth of backoff (about 18 s) nothing is resent and nothing fails...
  auto mid = tm.on_timer(t0 + 29s);
  EXPECT_TRUE(mid.retransmissions.empty());
  EXPECT_TRUE(mid.failed.empty());
  EXPECT_TRUE(tm.is_outstanding(tid));
  // ...and the final response still completes it.
  EXPECT_EQ(tm.on_response(gateway(), final_response(tid), t0 + 29s).kind,
            incoming_response_kind::final);
}

TEST(Retransmission, ProvisionalWithoutFinalFailsAfterTHist) {
  transaction_manager tm{no_jitter(), 1};
  command c = auep();
  auto tid = tm.start_command(gateway(), c, t0);
  tm.on_response(gateway(), final_response(tid, 101), t0 + 100ms);
  EXPECT_TRUE(tm.on_timer(t0 + 30099ms).failed.empty());
  auto r = tm.on_timer(t0 + 30100ms);
  ASSERT_EQ(r.failed.size(), 1u);
  EXPECT_EQ(r.failed[0].first, tid);
}

// ---- response acknowledgement (our side) ------------------------------------------------------

TEST(ResponseAck, ReceivedFinalResponsesRideOnTheNextCommandAsRanges) {
  transaction_manager tm{no_jitter(), 1};
  tm.restart_ids_at(10);
  std::vector<command> cmds(5, auep());
  for (auto& c : cmds)
    tm.start_command(gateway(), c, t0); // 10..14
  for (std::uint32_t tid : {10u, 11u, 12u, 14u})
    tm.on_response(gateway(), final_response(tid), t0 + 10ms);
  EXPECT_EQ(tm.unacknowledged(gateway()), (std::vector<std::uint32_t>{10, 11, 12, 14}));
  // A command to another peer carries nothing.
  command other = auep();
  tm.start_command(gateway(2428), other, t0 + 20ms);
  EXPECT_EQ(find(other.params, "K"), nullptr);
  command next = auep();
  tm.start_command(gateway(), next, t0 + 20ms);
  const auto* k = find(next.params, "K");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->value, "10-12, 14");
  EXPECT_TRUE(tm.unacknowledged(gateway()).empty());
  // Sent once only.
  command again = auep();
  tm.start_command(gateway(), again, t0 + 30ms);
  EXPECT_EQ(find(again.params, "K"), nullptr);
  // Retransmissions of the command carry the same K:.
  auto r = tm.on_timer(t0 + 220ms);
  bool found = false;
  for (auto& o : r.retransmissions)
    if (as_command(o).transaction_id == next.transaction_id) {
      found = true;
      ASSERT_NE(find(as_command(o).params, "K"), nullptr);
      EXPECT_EQ(find(as_command(o).params, "K")->value, "10-12, 14");
    }
  EXPECT_TRUE(found);
}

TEST(ResponseAck, OwedAcksExpireWithTHist) {
  transaction_manager tm{no_jitter(), 1};
  command c = auep();
  auto tid = tm.start_command(gateway(), c, t0);
  tm.on_response(gateway(), final_response(tid), t0 + 1ms);
  tm.on_timer(t0 + 31s);
  EXPECT_TRUE(tm.unacknowledged(gateway()).empty());
}

TEST(ResponseAck, EmptyKInFinalResponseIsAnsweredWith000EveryTime) {
  transaction_manager tm{no_jitter(), 1};
  command c = auep();
  auto tid = tm.start_command(gateway(), c, t0);
  tm.on_response(gateway(), final_response(tid, 100), t0 + 1ms);
  response fin = final_response(tid);
  fin.params.push_back({"K", ""});
  auto r = tm.on_response(gateway(), fin, t0 + 2s);
  EXPECT_EQ(r.kind, incoming_response_kind::final);
  ASSERT_TRUE(r.ack);
  EXPECT_EQ(r.ack->code, 0);
  EXPECT_EQ(r.ack->transaction_id, tid);
  // 000 already acknowledges it: no K: needed on the next command.
  EXPECT_TRUE(tm.unacknowledged(gateway()).empty());
  // Our 000 got lost, the gateway repeats its final response: 000 again, no second completion.
  auto dup = tm.on_response(gateway(), fin, t0 + 3s);
  EXPECT_EQ(dup.kind, incoming_response_kind::duplicate);
  ASSERT_TRUE(dup.ack);
  EXPECT_EQ(dup.ack->transaction_id, tid);
}

TEST(ResponseAck, FormatAndParseRanges) {
  auto [text, used] = transaction_manager::format_ack_ranges({1, 2, 3, 7, 9, 10}, 10);
  EXPECT_EQ(text, "1-3, 7, 9-10");
  EXPECT_EQ(used, 6u);
  auto [cut, cut_used] = transaction_manager::format_ack_ranges({1, 2, 3, 7, 9, 10}, 2);
  EXPECT_EQ(cut, "1-3, 7");
  EXPECT_EQ(cut_used, 4u);
  using ranges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
  EXPECT_EQ(transaction_manager::parse_ack_ranges("6234-6255, 6257,19030-19044"),
            (ranges{{6234, 6255}, {6257, 6257}, {19030, 19044}}));
  // Garbage items are skipped, never trusted.
  EXPECT_EQ(transaction_manager::parse_ack_ranges("x, 5-3, -, 1234567890, 7-, 8"),
            (ranges{{8, 8}}));
  EXPECT_TRUE(transaction_manager::parse_ack_ranges("").empty());
}

// ---- commands we receive -----------------------------------------------------------------------

TEST(IncomingCommand, RetransmissionIsNeverDeliveredTwiceAndGetsTheCachedResponse) {
  transaction_manager tm{no_jitter(), 1};
  auto cmd = with_tid(auep(), 555);
  EXPECT_EQ(tm.on_command(gateway(), cmd, t0).kind, incoming_command_kind::fresh);
  // Same tid from another peer is another transaction.
  EXPECT_EQ(tm.on_command(gateway(2500), cmd, t0).kind, incoming_command_kind::fresh);
  auto early = tm.on_command(gateway(), cmd, t0 + 50ms);
  EXPECT_EQ(early.kind, incoming_command_kind::duplicate_pending);
  EXPECT_FALSE(early.reply); // before provisional_after: absorbed silently

  response rsp = final_response(555);
  rsp.params.push_back({"I", "A3C47F21"});
  auto out = tm.respond(gateway(), rsp, t0 + 100ms);
  EXPECT_EQ(out.kind, outgoing_response_kind::cached);
  EXPECT_EQ(out.msg, rsp); // no provisional went out: unchanged, no K:

  auto dup = tm.on_command(gateway(), cmd, t0 + 5s);
  EXPECT_EQ(dup.kind, incoming_command_kind::duplicate_answered);
  ASSERT_TRUE(dup.reply);
  EXPECT_EQ(*dup.reply, rsp);
  EXPECT_EQ(tm.cached_responses(), 1u);

  // Answering twice is refused.
  EXPECT_EQ(tm.respond(gateway(), rsp, t0 + 6s).kind, outgoing_response_kind::duplicate);
  // A response for something we never received is sent but not cached.
  EXPECT_EQ(tm.respond(gateway(), final_response(777, 510), t0 + 6s).kind,
            outgoing_response_kind::uncached);
  EXPECT_EQ(tm.cached_responses(), 1u);
}

TEST(IncomingCommand, CacheExpiresAfterTHist) {
  transaction_manager tm{no_jitter(), 1};
  auto cmd = with_tid(auep(), 9);
  tm.on_command(gateway(), cmd, t0);
  tm.respond(gateway(), final_response(9), t0 + 1s);
  EXPECT_EQ(tm.on_timer(t0 + 30999ms).expired, 0u);
  EXPECT_EQ(tm.on_command(gateway(), cmd, t0 + 30999ms).kind,
            incoming_command_kind::duplicate_answered);
  EXPECT_EQ(tm.on_timer(t0 + 31s).expired, 1u);
  EXPECT_EQ(tm.known_commands(), 0u);
  EXPECT_FALSE(tm.next_deadline());
}

TEST(IncomingCommand, SlowCommandGetsProvisionalThenFinalWithEmptyKUntil000) {
  transaction_manager tm{no_jitter(), 1};
  auto cmd = with_tid(auep(), 77);
  tm.on_command(gateway(), cmd, t0);
  auto dup = tm.on_command(gateway(), cmd, t0 + 200ms);
  EXPECT_EQ(dup.kind, incoming_command_kind::duplicate_pending);
  ASSERT_TRUE(dup.reply);
  EXPECT_EQ(dup.reply->code, 100);
  EXPECT_EQ(dup.reply->transaction_id, 77u);

  auto out = tm.respond(gateway(), final_response(77), t0 + 1s);
  EXPECT_EQ(out.kind, outgoing_response_kind::cached);
  const auto* k = find(out.msg.params, "K");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->value, "");

  // No 000 yet: the final response is repeated with backoff.
  auto r1 = tm.on_timer(t0 + 1200ms);
  ASSERT_EQ(r1.retransmissions.size(), 1u);
  EXPECT_EQ(as_response(r1.retransmissions[0]), out.msg);
  EXPECT_EQ(tm.on_timer(t0 + 1599ms).retransmissions.size(), 0u);
  EXPECT_EQ(tm.on_timer(t0 + 1600ms).retransmissions.size(), 1u);

  response ack;
  ack.code = 0;
  ack.transaction_id = 77;
  EXPECT_EQ(tm.on_response(gateway(), ack, t0 + 1700ms).kind, incoming_response_kind::response_ack);
  EXPECT_EQ(tm.cached_responses(), 0u);
  EXPECT_TRUE(tm.on_timer(t0 + 10s).retransmissions.empty());
  // Still remembered: a late copy of the command is dropped, not executed.
  EXPECT_EQ(tm.on_command(gateway(), cmd, t0 + 10s).kind,
            incoming_command_kind::duplicate_acknowledged);
}

TEST(IncomingCommand, FinalResponseRepetitionGivesUpAfterMax2) {
  transaction_timers t = no_jitter();
  t.max2 = 2;
  t.max1 = 1;
  transaction_manager tm{t, 1};
  auto cmd = with_tid(auep(), 78);
  tm.on_command(gateway(), cmd, t0);
  tm.on_command(gateway(), cmd, t0 + 300ms);
  tm.respond(gateway(), final_response(78), t0 + 1s);
  std::size_t sent = 0;
  for (auto now = t0 + 1s; now < t0 + 20s; now += 100ms)
    sent += tm.on_timer(now).retransmissions.size();
  EXPECT_EQ(sent, 2u);
  // The cache itself lives on until T-hist.
  EXPECT_EQ(tm.on_command(gateway(), cmd, t0 + 20s).kind,
            incoming_command_kind::duplicate_answered);
}

TEST(IncomingCommand, KInACommandReleasesCachedResponsesOfThatPeerOnly) {
  transaction_manager tm{no_jitter(), 1};
  for (std::uint32_t tid : {5u, 6u, 7u, 9u}) {
    tm.on_command(gateway(), with_tid(auep(), tid), t0);
    tm.respond(gateway(), final_response(tid), t0);
  }
  tm.on_command(gateway(2500), with_tid(auep(), 6), t0);
  tm.respond(gateway(2500), final_response(6), t0);
  EXPECT_EQ(tm.cached_responses(), 5u);

  command next = with_tid(auep(), 10);
  next.params.push_back({"K", "5-6, 9"});
  auto r = tm.on_command(gateway(), next, t0 + 1s);
  EXPECT_EQ(r.kind, incoming_command_kind::fresh);
  EXPECT_EQ(r.released, 3u);
  EXPECT_EQ(tm.cached_responses(), 2u); // 7 from gateway(), 6 from gateway(2500)
  EXPECT_EQ(tm.on_command(gateway(), with_tid(auep(), 6), t0 + 2s).kind,
            incoming_command_kind::duplicate_acknowledged);
  EXPECT_EQ(tm.on_command(gateway(), with_tid(auep(), 7), t0 + 2s).kind,
            incoming_command_kind::duplicate_answered);
  EXPECT_EQ(tm.on_command(gateway(2500), with_tid(auep(), 6), t0 + 2s).kind,
            incoming_command_kind::duplicate_answered);
  // A K: covering the whole id space costs no more than the entries it finds.
  command wide = with_tid(auep(), 11);
  wide.params.push_back({"k", "1-999999999"});
  EXPECT_EQ(tm.on_command(gateway(), wide, t0 + 3s).released, 1u);
}

TEST(IncomingCommand, PendingCommandsAreNotReleasedByK) {
  transaction_manager tm{no_jitter(), 1};
  tm.on_command(gateway(), with_tid(auep(), 5), t0);
  command next = with_tid(auep(), 6);
  next.params.push_back({"K", "5"});
  EXPECT_EQ(tm.on_command(gateway(), next, t0).released, 0u);
  EXPECT_EQ(tm.respond(gateway(), final_response(5), t0).kind, outgoing_response_kind::cached);
}

TEST(ResponseMatching, AResponseFromAnotherAddressOrPortCompletesNothing) {
  // A transaction id is easy to guess: a forged CRCX answer from elsewhere would redirect media.
  transaction_manager tm{no_jitter(), 1};
  command c = auep();
  auto tid = tm.start_command(gateway(), c, t0);
  udp_endpoint forger{boost::asio::ip::make_address("127.0.0.66"), 2427};
  EXPECT_EQ(tm.on_response(forger, final_response(tid), t0 + 10ms).kind,
            incoming_response_kind::wrong_peer);
  EXPECT_EQ(tm.on_response(gateway(2428), final_response(tid), t0 + 10ms).kind,
            incoming_response_kind::wrong_peer);
  EXPECT_TRUE(tm.is_outstanding(tid));
  EXPECT_EQ(tm.on_response(gateway(), final_response(tid), t0 + 20ms).kind,
            incoming_response_kind::final);
  // Completed: a copy from elsewhere is not even a duplicate (no 000 goes to the forger).
  EXPECT_EQ(tm.on_response(forger, final_response(tid), t0 + 30ms).kind,
            incoming_response_kind::wrong_peer);
}

TEST(ReceiveLimits, APeerOverItsShareIsRefused409WithoutBeingRecorded) {
  receive_limits limits;
  limits.max_per_peer = 3;
  limits.max_transactions = 5;
  transaction_manager tm{no_jitter(), 1, true, limits};
  for (std::uint32_t tid = 1; tid <= 3; ++tid)
    ASSERT_EQ(tm.on_command(gateway(), with_tid(auep(), tid), t0).kind,
              incoming_command_kind::fresh);
  auto over = tm.on_command(gateway(), with_tid(auep(), 4), t0);
  EXPECT_EQ(over.kind, incoming_command_kind::refused_peer_limit);
  ASSERT_TRUE(over.reply);
  EXPECT_EQ(over.reply->code, 409);
  EXPECT_EQ(over.reply->transaction_id, 4u);
  EXPECT_EQ(tm.known_commands(), 3u);
  // A retransmission of a known command is still recognised.
  EXPECT_EQ(tm.on_command(gateway(), with_tid(auep(), 2), t0).kind,
            incoming_command_kind::duplicate_pending);
  // Another peer has its own share, up to the global bound.
  EXPECT_EQ(tm.on_command(gateway(2500), with_tid(auep(), 1), t0).kind,
            incoming_command_kind::fresh);
  EXPECT_EQ(tm.on_command(gateway(2500), with_tid(auep(), 2), t0).kind,
            incoming_command_kind::fresh);
  EXPECT_EQ(tm.on_command(gateway(2600), with_tid(auep(), 1), t0).kind,
            incoming_command_kind::refused_global_limit);
  EXPECT_EQ(tm.known_commands(), 5u);
}

TEST(ReceiveLimits, ACommandNobodyAnswersIsForgottenAfterThePendingTimeout) {
  receive_limits limits;
  limits.pending_timeout = 5s;
  transaction_manager tm{no_jitter(), 1, true, limits};
  tm.on_command(gateway(), with_tid(auep(), 7), t0);
  tm.on_command(gateway(), with_tid(auep(), 8), t0 + 1s);
  EXPECT_EQ(tm.on_timer(t0 + 4999ms).pending_expired, 0u);
  EXPECT_EQ(tm.known_commands(), 2u);
  EXPECT_EQ(tm.on_timer(t0 + 5s).pending_expired, 1u);
  EXPECT_EQ(tm.known_commands(), 1u);
  // The one answered in time follows the usual T-hist life.
  EXPECT_EQ(tm.respond(gateway(), final_response(8), t0 + 2s).kind, outgoing_response_kind::cached);
  EXPECT_EQ(tm.on_timer(t0 + 10s).pending_expired, 0u);
  EXPECT_EQ(tm.known_commands(), 1u);
  EXPECT_EQ(tm.on_timer(t0 + 33s).expired, 1u);
  EXPECT_EQ(tm.known_commands(), 0u);
  EXPECT_FALSE(tm.next_deadline());
  // A late answer to the forgotten one goes out uncached.
  EXPECT_EQ(tm.respond(gateway(), final_response(7), t0 + 40s).kind,
            outgoing_response_kind::uncached);
}

TEST(Shutdown, AbandonAllReturnsOutstandingIds) {
  transaction_manager tm{no_jitter(), 1};
  command a = auep(), b = auep();
  auto ta = tm.start_command(gateway(), a, t0);
  auto tb = tm.start_command(gateway(), b, t0);
  EXPECT_TRUE(tm.abandon(ta));
  EXPECT_FALSE(tm.abandon(ta));
  EXPECT_EQ(tm.abandon_all(), (std::vector<std::uint32_t>{tb}));
  EXPECT_EQ(tm.outstanding(), 0u);
  EXPECT_FALSE(tm.next_deadline());
}

} // namespace
} // namespace cms::mgcp

namespace cms::mgcp {
namespace {

TEST(ResponseAck, CanBeTurnedOffForPeersThatRejectK) {
  transaction_manager tm{no_jitter(), 1, false};
  command c = auep();
  auto tid = tm.start_command(gateway(), c, t0);
  tm.on_response(gateway(), final_response(tid), t0 + 1ms);
  EXPECT_TRUE(tm.unacknowledged(gateway()).empty());
  command next = auep();
  tm.start_command(gateway(), next, t0 + 2ms);
  EXPECT_EQ(find(next.params, "K"), nullptr);
}

} // namespace
} // namespace cms::mgcp
