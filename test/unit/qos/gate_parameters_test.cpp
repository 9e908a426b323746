// What a Gate-Set carries: the flowspec derived from the codec, both directions' Gate Specs, the
// session class of emergency calls, the Event Generation Info with the BCID; and which CMTS
// serves an MTA.

#include "actors/billing/event_messages.hpp"
#include "actors/qos/flowspec.hpp"
#include "actors/qos/gate_directory.hpp"
#include "actors/qos/gate_parameters.hpp"
#include "runtime/cops/message.hpp"

#include <gtest/gtest.h>

using namespace cms;

TEST(flowspec, pcmu_at_20_ms_counts_ip_udp_rtp_headers) {
  auto f = qos::voice_flowspec("PCMU", 20);
  ASSERT_TRUE(f);
  EXPECT_FLOAT_EQ(f->r, 10000.0f); // 50 packets/s x (160 + 40) B
  EXPECT_FLOAT_EQ(f->b, 200.0f);
  EXPECT_FLOAT_EQ(f->p, 10000.0f);
  EXPECT_EQ(f->m, 200u);
  EXPECT_EQ(f->M, 200u);
  EXPECT_FLOAT_EQ(f->R, 10000.0f);
}

TEST(flowspec, other_codecs_and_periods) {
  auto g729 = qos::voice_flowspec("G729", 10);
  ASSERT_TRUE(g729);
  EXPECT_FLOAT_EQ(g729->b, 50.0f);   // 10 B + 40 B
  EXPECT_FLOAT_EQ(g729->r, 5000.0f); // 100 packets/s
  auto pcma30 = qos::voice_flowspec("PCMA", 30);
  ASSERT_TRUE(pcma30);
  EXPECT_FLOAT_EQ(pcma30->b, 280.0f); // 240 + 40
  EXPECT_NEAR(pcma30->r, 9333.33f, 0.01f);
  EXPECT_FALSE(qos::voice_flowspec("OPUS", 20));
  EXPECT_FALSE(qos::voice_flowspec("PCMU", 0));
}

TEST(gate_set, both_directions_classifiers_class_and_event_generation) {
  qos::gate_parameters p;
  p.flow = *qos::voice_flowspec("PCMU", 20);
  p.primary_rks_ip = 0x7f000001;
  p.primary_rks_port = 1813;
  qos::gate_set_request r;
  r.subscriber = 0x0a010203;
  r.remote_ip = 0x0a020304;
  r.remote_port = 30002;
  r.bcid =
    billing::half_call_bcid({"12345", "0+000000", {}}, 0x1234, 1'700'000'000'123, true).encode();
  auto c = qos::make_gate_set(p, r);
  EXPECT_EQ(cops::missing_objects(c), "");
  ASSERT_EQ(c.gate_specs.size(), 2u);
  const auto& up = c.gate_specs[0];
  const auto& down = c.gate_specs[1];
  EXPECT_EQ(up.direction, cops::gate_direction::upstream);
  EXPECT_EQ(up.src_ip, r.subscriber);
  EXPECT_EQ(up.dst_ip, r.remote_ip);
  EXPECT_EQ(up.dst_port, 30002);
  EXPECT_EQ(down.direction, cops::gate_direction::downstream);
  EXPECT_EQ(down.dst_ip, r.subscriber);
  EXPECT_EQ(down.src_ip, r.remote_ip);
  EXPECT_EQ(up.session_class, 1);
  EXPECT_EQ(up.dscp_tos, 46 << 2);
  EXPECT_EQ(up.t1_s, 200);
  ASSERT_TRUE(c.event_generation);
  EXPECT_EQ(c.event_generation->primary_rks_port, 1813);
  EXPECT_EQ(c.event_generation->bcid, r.bcid);
  EXPECT_EQ(*c.activity_count, 4u);
  // Round trip through the codec: what the CMTS decodes is what we meant.
  auto bytes = cops::encode_objects(c);
  auto back = cops::decode_objects(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().gate_specs, c.gate_specs);
  r.emergency = true;
  EXPECT_EQ(qos::make_gate_set(p, r).gate_specs[0].session_class, 2);
}

TEST(gate_directory, longest_subnet_wins_and_best_effort_cmts_is_reported) {
  persistence::cmts north{"north", "10.0.0.1", 2126, true, {"10.1.0.0/16"}};
  persistence::cmts lab{"lab", "10.0.0.2", 2126, false, {"10.1.9.0/24", "10.3.0.7"}};
  qos::gate_directory d{{north, lab}, "12345"};
  EXPECT_EQ(d.element_id(), "12345");
  auto r = d.route("10.1.2.3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cmts, "north");
  EXPECT_TRUE(r->dqos);
  r = d.route("10.1.9.3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cmts, "lab");
  EXPECT_FALSE(r->dqos);
  EXPECT_TRUE(d.route("10.3.0.7"));
  EXPECT_FALSE(d.route("10.3.0.8"));
  EXPECT_FALSE(d.route("not-an-address"));
}
