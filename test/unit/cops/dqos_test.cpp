// PacketCable DQoS objects: exact bytes (written out by hand from the DQoS layouts, not produced
// by our encoder) and round trips of gate commands through DEC and RPT.

#include "runtime/cops/dqos.hpp"

#include <gtest/gtest.h>

namespace cms::cops {
namespace {

gate_spec upstream_spec() {
  gate_spec g;
  g.direction = gate_direction::upstream;
  g.protocol = 17;
  g.flags = 0;
  g.session_class = 1;
  g.src_ip = 0x0a000002; // 10.0.0.2
  g.dst_ip = 0xc0a80101; // 192.168.1.1
  g.src_port = 0;
  g.dst_port = 16384;
  g.dscp_tos = 0xb8;
  g.t1_s = 250;
  g.t7_s = 200;
  g.t8_s = 300;
  g.r = 12000.0f; // 0x463b8000
  g.b = 200.0f;   // 0x43480000
  g.p = 12000.0f;
  g.m = 200;
  g.M = 200;
  g.R = 12000.0f;
  g.S = 800;
  return g;
}

TEST(Dqos, GateSpecBytes) {
  gate_command c;
  c.command = gate_command_type::gate_set;
  c.transaction_id = 0x1234;
  c.gate_specs.push_back(upstream_spec());
  const bytes expected{
    0x00, 0x08, 0x01, 0x01, 0x12, 0x34, 0x00, 0x04, // Transaction ID 0x1234, Gate-Set
    0x00, 0x3c, 0x05, 0x01,                         // Gate Spec, length 60
    0x01, 0x11, 0x00, 0x01,                         // upstream, UDP, flags 0, session class 1
    0x0a, 0x00, 0x00, 0x02, 0xc0, 0xa8, 0x01, 0x01, // src 10.0.0.2, dst 192.168.1.1
    0x00, 0x00, 0x40, 0x00,                         // src port 0, dst port 16384
    0xb8, 0x00, 0x00, 0x00,                         // DS field, 3 reserved
    0x00, 0xfa, 0x00, 0x00, 0x00, 0xc8, 0x01, 0x2c, // T1 250, reserved, T7 200, T8 300
    0x46, 0x3b, 0x80, 0x00, 0x43, 0x48, 0x00, 0x00, // r 12000.0, b 200.0
    0x46, 0x3b, 0x80, 0x00, 0x00, 0x00, 0x00, 0xc8, // p 12000.0, m 200
    0x00, 0x00, 0x00, 0xc8, 0x46, 0x3b, 0x80, 0x00, // M 200, R 12000.0
    0x00, 0x00, 0x03, 0x20};                        // S 800
  EXPECT_EQ(encode_objects(c), expected);
  auto back = decode_objects(expected.data(), expected.size());
  ASSERT_TRUE(back) << back.detail();
  ASSERT_EQ(back->gate_specs.size(), 1u);
  EXPECT_EQ(back->gate_specs[0], upstream_spec());
  EXPECT_EQ(back->transaction_id, 0x1234);
  EXPECT_EQ(back->command, gate_command_type::gate_set);
}

TEST(Dqos, EventGenerationInfoAndSmallObjectBytes) {
  gate_command c;
  c.command = gate_command_type::set_ack;
  c.transaction_id = 1;
  c.subscriber = 0x0a000002;
  c.gate_id = 0xdeadbeef;
  c.activity_count = 2;
  event_generation_info e;
  e.primary_rks_ip = 0x7f000001;
  e.primary_rks_port = 1813;
  e.flags = 0;
  e.secondary_rks_ip = 0x7f000002;
  e.secondary_rks_port = 1814;
  for (std::size_t i = 0; i < e.bcid.size(); ++i)
    e.bcid[i] = static_cast<std::uint8_t>(i + 1);
  c.event_generation = e;
  c.error = packetcable_error{2, 0};
  c.reason = packetcable_reason{1, 5};
  bytes expected{
    0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x00, 0x05, // Transaction ID 1, Set-Ack
    0x00, 0x08, 0x02, 0x01, 0x0a, 0x00, 0x00, 0x02, // Subscriber 10.0.0.2
    0x00, 0x08, 0x03, 0x01, 0xde, 0xad, 0xbe, 0xef, // Gate ID
    0x00, 0x08, 0x04, 0x01, 0x00, 0x00, 0x00, 0x02, // Activity Count 2
    0x00, 0x2c, 0x07, 0x01,                         // Event Generation Info, length 44
    0x7f, 0x00, 0x00, 0x01, 0x07, 0x15, 0x00, 0x00, // PRKS 127.0.0.1:1813, flags, reserved
    0x7f, 0x00, 0x00, 0x02, 0x07, 0x16, 0x00, 0x00, // SRKS 127.0.0.2:1814, reserved
  };
  for (std::uint8_t i = 1; i <= 24; ++i)
    expected.push_back(i);                                          // BCID
  const bytes tail{0x00, 0x08, 0x09, 0x01, 0x00, 0x02, 0x00, 0x00,  // PacketCable Error 2
                   0x00, 0x08, 0x0d, 0x01, 0x00, 0x01, 0x00, 0x05}; // Reason: close, T1
  expected.insert(expected.end(), tail.begin(), tail.end());
  EXPECT_EQ(encode_objects(c), expected);
  auto back = decode_objects(expected.data(), expected.size());
  ASSERT_TRUE(back) << back.detail();
  EXPECT_EQ(back->subscriber, c.subscriber);
  EXPECT_EQ(back->gate_id, c.gate_id);
  EXPECT_EQ(back->activity_count, c.activity_count);
  EXPECT_EQ(back->event_generation, c.event_generation);
  EXPECT_EQ(back->error, c.error);
  EXPECT_EQ(back->reason, c.reason);
}

TEST(Dqos, GateSetRoundTripsThroughDecision) {
  gate_command c;
  c.command = gate_command_type::gate_set;
  c.transaction_id = 42;
  c.subscriber = 0x0a000002;
  c.activity_count = 4;
  auto down = upstream_spec();
  down.direction = gate_direction::downstream;
  std::swap(down.src_ip, down.dst_ip);
  c.gate_specs = {down, upstream_spec()};
  c.event_generation = event_generation_info{};
  const bytes handle{0, 0xc0, 0xff, 0xee};
  const message dec = to_decision(c, handle);
  const bytes wire = encode(dec);
  auto m = decode(wire);
  ASSERT_TRUE(m) << m.detail();
  EXPECT_EQ(m->op, op_code::dec);
  auto back = gate_command_from(m.value());
  ASSERT_TRUE(back) << back.detail();
  EXPECT_EQ(back->transaction_id, 42);
  EXPECT_EQ(back->gate_specs.size(), 2u);
  EXPECT_EQ(back->gate_specs[0], down);
  EXPECT_EQ(back->gate_specs[1], upstream_spec());
  EXPECT_TRUE(missing_objects(back.value()).empty());
  // The DQoS payload rides in the client-specific Decision (C-Num 6, C-Type 4), last.
  ASSERT_EQ(m->objects.size(), 4u);
  EXPECT_EQ(m->objects.back().c_num, 6);
  EXPECT_EQ(m->objects.back().c_type, 4);
}

TEST(Dqos, ReportTypesFollowTheCommand) {
  const bytes handle{1, 2, 3, 4};
  auto rpt_of = [&](gate_command_type t) {
    gate_command c;
    c.command = t;
    c.gate_id = 1;
    return parse_report(decode(encode(to_report(c, handle))).value()).value();
  };
  EXPECT_EQ(rpt_of(gate_command_type::set_ack).type, report_type::success);
  EXPECT_TRUE(rpt_of(gate_command_type::set_ack).solicited);
  EXPECT_EQ(rpt_of(gate_command_type::delete_err).type, report_type::failure);
  EXPECT_EQ(rpt_of(gate_command_type::gate_close).type, report_type::accounting);
  EXPECT_FALSE(rpt_of(gate_command_type::gate_open).solicited);
}

TEST(Dqos, CommandClassification) {
  using t = gate_command_type;
  for (auto r : {t::gate_alloc, t::gate_set, t::gate_info, t::gate_delete}) {
    EXPECT_TRUE(is_request(r));
    EXPECT_TRUE(is_ack(ack_of(r)));
    EXPECT_TRUE(is_err(err_of(r)));
    EXPECT_EQ(request_of(ack_of(r)), r);
    EXPECT_EQ(request_of(err_of(r)), r);
  }
  EXPECT_EQ(ack_of(t::gate_set), t::set_ack);
  EXPECT_EQ(err_of(t::gate_delete), t::delete_err);
  EXPECT_FALSE(is_request(t::gate_open));
  EXPECT_FALSE(is_ack(t::gate_close));
  EXPECT_TRUE(is_unsolicited(t::gate_close));
}

TEST(Dqos, MissingObjectsPerCommand) {
  gate_command set;
  set.command = gate_command_type::gate_set;
  EXPECT_EQ(missing_objects(set), "Subscriber ID, Gate Spec");
  gate_command ack;
  ack.command = gate_command_type::set_ack;
  EXPECT_EQ(missing_objects(ack), "Gate ID");
  gate_command err;
  err.command = gate_command_type::set_err;
  EXPECT_EQ(missing_objects(err), "PacketCable Error");
}

TEST(Dqos, DecoderRules) {
  // No Transaction ID.
  const bytes gate_only{0x00, 0x08, 0x03, 0x01, 0, 0, 0, 1};
  EXPECT_EQ(decode_objects(gate_only.data(), gate_only.size()).error(),
            decode_error::missing_object);
  // Gate command type 15 does not exist.
  const bytes bad_cmd{0x00, 0x08, 0x01, 0x01, 0, 1, 0, 15};
  EXPECT_EQ(decode_objects(bad_cmd.data(), bad_cmd.size()).error(), decode_error::bad_object);
  // Unknown (well-formed) objects are skipped: Remote Gate Info, 8-byte body.
  const bytes with_unknown{0x00, 0x08, 0x01, 0x01, 0, 1, 0, 4, 0x00, 0x0c,
                           0x06, 0x01, 1,    2,    3, 4, 5, 6, 7,    8};
  EXPECT_TRUE(decode_objects(with_unknown.data(), with_unknown.size()));
  // IPv6 subscribers are refused explicitly rather than misread.
  bytes v6{0x00, 0x08, 0x01, 0x01, 0, 1, 0, 4, 0x00, 0x14, 0x02, 0x02};
  v6.resize(v6.size() + 16, 0);
  EXPECT_EQ(decode_objects(v6.data(), v6.size()).error(), decode_error::bad_object);
  // Three Gate Specs.
  gate_command c;
  c.gate_specs = {gate_spec{}, gate_spec{}, gate_spec{}};
  const bytes three = encode_objects(c);
  EXPECT_EQ(decode_objects(three.data(), three.size()).error(), decode_error::bad_object);
}

TEST(Dqos, GateCommandsNeedTheDqosClientTypeAndACarrier) {
  gate_command c;
  c.gate_id = 5;
  message rpt = to_report(c, {1});
  rpt.client_type = 0x800a; // PacketCable Multimedia
  EXPECT_EQ(gate_command_from(rpt).error(), decode_error::wrong_message);
  message bare = to_message(report{client_type_dqos, {1}, report_type::success, {}, true});
  EXPECT_EQ(gate_command_from(bare).error(), decode_error::missing_object);
  EXPECT_EQ(gate_command_from(to_message(keep_alive{})).error(), decode_error::wrong_message);
}

TEST(Dqos, Ipv4Text) {
  EXPECT_EQ(ipv4_to_string(0x0a000002), "10.0.0.2");
  EXPECT_EQ(ipv4_from_string("192.168.1.1"), 0xc0a80101u);
  EXPECT_FALSE(ipv4_from_string("300.1.1.1").has_value());
}

} // namespace
} // namespace cms::cops
