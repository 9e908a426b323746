// The mapping of outbox records to PacketCable Event Messages (actors/billing/event_messages.hpp):
// which EMs each call type gives, their BCIDs and sequence numbers, and that the same record gives
// the same bytes every time.

#include "actors/billing/event_messages.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace cms;
using namespace cms::billing;
namespace r = cms::radius;

namespace {

const em_identity identity{"12345", "0+010000", "cms-operator"};

billing_record record(const std::string& event, std::uint64_t sequence, std::int64_t at_ms) {
  billing_record x;
  x.call_id = "c7@node-a";
  x.record_id = x.call_id + ":" + event;
  x.event = event;
  x.sequence = sequence;
  x.timestamp_ms = at_ms;
  x.calling_number = "5551000";
  x.called_number = "5552001";
  x.originating = "aaln/1@mta-a.example";
  return x;
}

billing_record on_net(billing_record x) {
  x.terminating = "aaln/1@mta-b.example";
  x.route = "on-net";
  return x;
}

billing_record off_net(billing_record x) {
  x.terminating = "ds/ds1-0/3@mgw.example";
  x.route = "offnet:555:tg17/span-a";
  x.carrier = "0288";
  return x;
}

std::vector<r::em_type> types(const std::vector<r::event_message>& ems) {
  std::vector<r::em_type> out;
  for (const auto& em : ems)
    out.push_back(em.header.type);
  return out;
}

const r::cl_attribute* find(const r::event_message& em, r::cl_attr type) {
  for (const auto& a : em.attributes)
    if (a.type == static_cast<std::uint8_t>(type))
      return &a;
  return nullptr;
}

std::string text(const r::cl_attribute* a) {
  return a ? std::string(a->value.begin(), a->value.end()) : std::string{"<absent>"};
}

const std::int64_t t0 = 1767268800250; // 2026-01-01 12:00:00.250 UTC

} // namespace

TEST(event_messages, signaling_start_opens_the_originating_half_with_its_bcid) {
  auto start = record("signaling_start", 41, t0);
  auto ems = event_messages_for(start, {}, identity);
  ASSERT_EQ(ems.size(), 1u);
  const auto& em = ems[0];
  EXPECT_EQ(em.header.type, r::em_type::signaling_start);
  EXPECT_EQ(em.header.billing_correlation_id.timestamp, 1767268800u);
  EXPECT_EQ(em.header.billing_correlation_id.event_counter, 82u); // 2 x 41: originating half
  EXPECT_EQ(em.header.billing_correlation_id.element_id, "12345");
  EXPECT_EQ(em.header.billing_correlation_id.time_zone, "0+010000");
  EXPECT_EQ(em.header.sequence, 41u * 8);
  EXPECT_EQ(em.header.event_time, "20260101120000.250");
  EXPECT_EQ(text(find(em, r::cl_attr::mta_endpoint_name)), "aaln/1@mta-a.example");
  EXPECT_EQ(text(find(em, r::cl_attr::calling_party_number)), "5551000");
  EXPECT_EQ(text(find(em, r::cl_attr::called_party_number)), "5552001");
  EXPECT_EQ(text(find(em, r::cl_attr::routing_number)), "5552001");
  EXPECT_EQ(text(find(em, r::cl_attr::financial_entity_id)), "cms-operator");
  ASSERT_NE(find(em, r::cl_attr::direction_indicator), nullptr);
  EXPECT_EQ(find(em, r::cl_attr::direction_indicator)->value, (r::bytes{0, 0, 0, 1}));
}

TEST(event_messages, an_answered_on_net_call_gives_both_halves_their_own_bcid) {
  auto start = record("signaling_start", 41, t0);
  em_call_context ctx{start, false};
  auto answer = event_messages_for(on_net(record("call_answer", 44, t0 + 5000)), ctx, identity);
  ASSERT_EQ(types(answer),
            (std::vector<r::em_type>{r::em_type::signaling_start, r::em_type::call_answer,
                                     r::em_type::call_answer}));
  EXPECT_EQ(answer[0].header.billing_correlation_id.event_counter, 83u); // terminating half
  EXPECT_EQ(text(find(answer[0], r::cl_attr::mta_endpoint_name)), "aaln/1@mta-b.example");
  EXPECT_EQ(find(answer[0], r::cl_attr::direction_indicator)->value, (r::bytes{0, 0, 0, 2}));
  EXPECT_EQ(answer[1].header.billing_correlation_id.event_counter, 82u);
  EXPECT_EQ(answer[2].header.billing_correlation_id.event_counter, 83u);
  EXPECT_EQ(answer[0].header.billing_correlation_id.timestamp, 1767268800u); // the call's start
  EXPECT_EQ((std::vector<std::uint32_t>{answer[0].header.sequence, answer[1].header.sequence,
                                        answer[2].header.sequence}),
            (std::vector<std::uint32_t>{44 * 8, 44 * 8 + 1, 44 * 8 + 2}));

  ctx.answered = true;
  auto stop = on_net(record("signaling_stop", 50, t0 + 65000));
  stop.release_cause = 16;
  auto ems = event_messages_for(stop, ctx, identity);
  ASSERT_EQ(types(ems),
            (std::vector<r::em_type>{r::em_type::call_disconnect, r::em_type::call_disconnect,
                                     r::em_type::signaling_stop, r::em_type::signaling_stop}));
  auto cause = r::decode_termination_cause(find(ems[2], r::cl_attr::call_termination_cause)->value);
  ASSERT_TRUE(cause);
  EXPECT_EQ(cause->source_document, 1);
  EXPECT_EQ(cause->cause_code, 16u);
  EXPECT_EQ(ems[3].header.sequence, 50u * 8 + 3);
}

TEST(event_messages, an_off_net_call_bills_the_trunk_half_as_interconnect) {
  auto start = record("signaling_start", 7, t0);
  auto answer =
    event_messages_for(off_net(record("call_answer", 9, t0 + 4000)), {start, false}, identity);
  ASSERT_EQ(answer[0].header.type, r::em_type::interconnect_signaling_start);
  auto tg = r::decode_trunk_group(find(answer[0], r::cl_attr::trunk_group_id)->value);
  ASSERT_TRUE(tg);
  EXPECT_EQ(tg->trunk_number, 17u);
  EXPECT_EQ(text(find(answer[0], r::cl_attr::carrier_identification_code)), "0288");
  EXPECT_EQ(find(answer[0], r::cl_attr::mta_endpoint_name), nullptr);

  auto stop = off_net(record("signaling_stop", 12, t0 + 9000));
  stop.release_cause = 16;
  auto ems = event_messages_for(stop, {start, true}, identity);
  ASSERT_EQ(types(ems), (std::vector<r::em_type>{
                          r::em_type::call_disconnect, r::em_type::call_disconnect,
                          r::em_type::signaling_stop, r::em_type::interconnect_signaling_stop}));
}

TEST(event_messages, busy_and_no_answer_open_and_close_the_terminating_half_at_release) {
  auto start = record("signaling_start", 3, t0);
  auto busy = on_net(record("signaling_stop", 4, t0 + 2000));
  busy.release_cause = 17;
  auto ems = event_messages_for(busy, {start, false}, identity);
  ASSERT_EQ(types(ems),
            (std::vector<r::em_type>{r::em_type::signaling_start, r::em_type::signaling_stop,
                                     r::em_type::signaling_stop}));
  EXPECT_EQ(r::decode_termination_cause(find(ems[1], r::cl_attr::call_termination_cause)->value)
              ->cause_code,
            17u);
  EXPECT_EQ(ems[0].header.billing_correlation_id.event_counter, 7u);
}

TEST(event_messages, an_abandoned_or_failed_call_closes_the_originating_half_only) {
  auto start = record("signaling_start", 3, t0);
  auto abandoned = record("signaling_stop", 4, t0 + 2000);
  abandoned.called_number.clear();
  abandoned.release_cause = 16;
  auto ems = event_messages_for(abandoned, {start, false}, identity);
  ASSERT_EQ(types(ems), (std::vector<r::em_type>{r::em_type::signaling_stop}));
  EXPECT_EQ(ems[0].header.billing_correlation_id.event_counter, 6u);
}

TEST(event_messages, the_same_record_gives_the_same_bytes_every_time) {
  auto start = record("signaling_start", 41, t0);
  auto stop = off_net(record("signaling_stop", 50, t0 + 65000));
  stop.release_cause = 16;
  auto once = event_messages_for(stop, {start, true}, identity);
  auto again = event_messages_for(stop, {start, true}, identity);
  ASSERT_EQ(once.size(), again.size());
  for (std::size_t i = 0; i < once.size(); ++i)
    EXPECT_EQ(r::encode_event_message(once[i]), r::encode_event_message(again[i]));
}

TEST(event_messages, sequences_of_consecutive_records_never_collide) {
  // 8 slots per record: record R's EMs use 8R..8R+7, the next record starts above.
  auto start = record("signaling_start", 1, t0);
  std::vector<std::uint32_t> seen;
  for (std::uint64_t seq = 1; seq < 40; ++seq) {
    auto rec = on_net(record(seq % 3 == 0 ? "call_answer" : "signaling_stop", seq, t0));
    for (const auto& em : event_messages_for(rec, {start, seq % 2 == 0}, identity))
      seen.push_back(em.header.sequence);
  }
  auto sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

TEST(event_messages, the_default_element_id_is_five_digits_from_the_cluster) {
  auto a = default_element_id("cms-lab");
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a, default_element_id("cms-lab"));
  EXPECT_NE(a, default_element_id("cms-prod"));
  EXPECT_TRUE(std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

TEST(event_messages, a_clock_step_during_a_call_gives_a_time_change_on_each_half) {
  auto start = record("signaling_start", 41, t0);
  em_call_context ctx{start, true};
  auto step = on_net(record("time_change", 45, t0 + 30000));
  step.record_id = step.call_id + ":time_change:" + std::to_string(t0 + 30000);
  step.time_adjustment_ms = -7'200'000;
  auto ems = event_messages_for(step, ctx, identity);
  ASSERT_EQ(types(ems),
            (std::vector<r::em_type>{r::em_type::time_change, r::em_type::time_change}));
  EXPECT_EQ(ems[0].header.billing_correlation_id.event_counter, 82u); // the halves' own BCIDs
  EXPECT_EQ(ems[1].header.billing_correlation_id.event_counter, 83u);
  EXPECT_EQ(ems[0].header.billing_correlation_id.timestamp, 1767268800u);
  EXPECT_EQ(ems[1].header.sequence, 45u * 8 + 1);
  for (const auto& em : ems) {
    auto* adj = find(em, r::cl_attr::time_adjustment);
    ASSERT_NE(adj, nullptr);
    EXPECT_EQ(r::decode_time_adjustment(r::byte_view{adj->value.data(), adj->value.size()}),
              -7'200'000);
  }
  // A call that has not reached a line yet has one half to tell.
  auto early = record("time_change", 42, t0 + 1000);
  early.time_adjustment_ms = 3'600'000;
  EXPECT_EQ(types(event_messages_for(early, {start, false}, identity)),
            (std::vector<r::em_type>{r::em_type::time_change}));
}
