// The simulator's own protocol pieces, checked directly.

#include "test/tools/mtasim/digit_map.hpp"
#include "test/tools/mtasim/event_spec.hpp"
#include "test/tools/mtasim/line.hpp"
#include "test/tools/mtasim/mta.hpp"
#include "test/tools/mtasim/options.hpp"
#include "test/tools/mtasim/report.hpp"
#include "test/tools/mtasim/rtp.hpp"
#include "test/tools/mtasim/sdp_lite.hpp"

#include <gtest/gtest.h>

using namespace cms::sim;

TEST(sim_digit_map, classifies_collected_digits) {
  digit_map m("(0T|00|[2-9]xxxxxx|1[2-9]xxxxxxxxx|011x.T)");
  EXPECT_EQ(m.match("555"), digit_match::partial);
  EXPECT_EQ(m.match("5551002"), digit_match::full);
  EXPECT_EQ(m.match("55510023"), digit_match::none);
  EXPECT_EQ(m.match("0"), digit_match::partial);
  EXPECT_EQ(m.match("0T"), digit_match::full);
  EXPECT_EQ(m.match("00"), digit_match::full);
  EXPECT_EQ(m.match("0114"), digit_match::partial);
  EXPECT_TRUE(m.timer_completes("0114"));
  EXPECT_FALSE(m.timer_completes("555"));
  EXPECT_EQ(m.match("1"), digit_match::partial);
  EXPECT_EQ(m.match("10"), digit_match::none);
  digit_map overlap("(xxx|xxxx)");
  EXPECT_EQ(overlap.match("123"), digit_match::full_or_more);
}

TEST(sim_digit_map, refuses_bad_syntax) {
  EXPECT_THROW(digit_map("(xx"), std::invalid_argument);
  EXPECT_THROW(digit_map("x[9-1]"), std::invalid_argument);
  EXPECT_THROW(digit_map(".x"), std::invalid_argument);
  EXPECT_THROW(digit_map("()"), std::invalid_argument);
  EXPECT_THROW(digit_map("xq"), std::invalid_argument);
}

TEST(sim_event_spec, parses_actions_and_embedded_requests) {
  auto evs = parse_requested_events(
    "L/hu(N), D/[0-9#*T](D), L/hf(A,K), L/hd(E(S(L/dl),R(L/hu(N),D/x(D)),D((xxxxxxx))))");
  ASSERT_EQ(evs.size(), 4u);
  EXPECT_TRUE(evs[0].notify);
  EXPECT_TRUE(evs[1].digit_map);
  EXPECT_EQ(evs[1].event.name, "[0-9#*T]");
  EXPECT_TRUE(evs[2].accumulate && evs[2].keep_signals);
  ASSERT_EQ(evs[3].embedded.size(), 1u);
  ASSERT_TRUE(evs[3].embedded[0].signals);
  EXPECT_EQ((*evs[3].embedded[0].signals)[0].signal.name, "dl");
  ASSERT_TRUE(evs[3].embedded[0].events);
  EXPECT_EQ(evs[3].embedded[0].events->size(), 2u);
  EXPECT_EQ(*evs[3].embedded[0].digit_map, "(xxxxxxx)");
  EXPECT_THROW(parse_requested_events("L/hd(N"), std::invalid_argument);
  EXPECT_THROW(parse_requested_events("L/hd(Z)"), std::invalid_argument);

  EXPECT_TRUE(event_matches(parse_event_name("D/[0-9#*T]"), {"D", "5"}));
  EXPECT_TRUE(event_matches(parse_event_name("D/[0-9#*T]"), {"D", "T"}));
  EXPECT_FALSE(event_matches(parse_event_name("D/[0-4]"), {"D", "7"}));
  EXPECT_TRUE(event_matches(parse_event_name("D/x"), {"D", "7"}));
  EXPECT_TRUE(event_matches(parse_event_name("hd"), {"L", "hd"}));
  EXPECT_FALSE(event_matches(parse_event_name("L/hd"), {"L", "hu"}));
  auto sigs = parse_signals("L/ci(10/14/08/30,5551001,\"Alice\"), L/rg");
  ASSERT_EQ(sigs.size(), 2u);
  EXPECT_EQ(sigs[1].signal.name, "rg");
}

TEST(sim_sdp, builds_and_reads_media_targets) {
  auto sdp = make_audio_sdp("127.0.0.1", 40000, 7);
  auto t = parse_media_target(sdp);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->port(), 40000);
  EXPECT_EQ(t->address().to_string(), "127.0.0.1");
  // Media-level c= wins over the session-level one; port 0 and 0.0.0.0 mean no target (hold).
  auto two = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 127.0.0.2\r\n";
  EXPECT_EQ(parse_media_target(two)->address().to_string(), "127.0.0.2");
  EXPECT_FALSE(parse_media_target("v=0\nc=IN IP4 0.0.0.0\nm=audio 5000 RTP/AVP 0\n"));
  EXPECT_FALSE(parse_media_target("v=0\nc=IN IP4 127.0.0.1\nm=audio 0 RTP/AVP 0\n"));
  EXPECT_FALSE(parse_media_target("v=0\nc=IN IP4 nonsense\nm=audio 5000 RTP/AVP 0\n"));
  EXPECT_FALSE(parse_media_target("v=0\nc=IN IP4 127.0.0.1\nm=audio 99999 RTP/AVP 0\n"));
}

TEST(sim_rtp, loss_and_wraparound_from_sequence_numbers) {
  rtp_receive_stats s;
  std::uint16_t seq = 65530;
  std::uint32_t ts = 0;
  for (int i = 0; i < 20; ++i, ++seq, ts += 160)
    if (i != 3 && i != 10) // two packets lost, one of them after the wrap
      s.on_packet(seq, ts, static_cast<std::int64_t>(ts));
  EXPECT_EQ(s.received(), 18u);
  EXPECT_EQ(s.expected(), 20u);
  EXPECT_EQ(s.lost(), 2u);
  EXPECT_DOUBLE_EQ(s.jitter_units(), 0.0);
  rtp_receive_stats late;
  late.on_packet(100, 0, 0);
  late.on_packet(102, 320, 320);
  late.on_packet(101, 160, 400); // reordered, arrives late: not lost, adds jitter
  EXPECT_EQ(late.lost(), 0u);
  EXPECT_GT(late.jitter_units(), 0.0);
}

TEST(sim_rtp, sessions_exchange_packets_on_the_media_clock) {
  boost::asio::io_context io;
  media_clock clock(io);
  auto lo = boost::asio::ip::make_address("127.0.0.1");
  auto a = std::make_shared<rtp_session>(io, lo, clock);
  auto b = std::make_shared<rtp_session>(io, lo, clock);
  a->start();
  b->start();
  a->set_remote(boost::asio::ip::udp::endpoint(lo, b->local_port()));
  b->set_remote(boost::asio::ip::udp::endpoint(lo, a->local_port()));
  a->set_sending(true);
  EXPECT_FALSE(b->sending());
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_GT(a->counters().packets_sent, 3u);
  EXPECT_GT(b->counters().packets_received, 3u);
  EXPECT_EQ(b->counters().octets_received, b->counters().packets_received * 160);
  EXPECT_EQ(a->counters().packets_received, 0u);
  a->close();
  b->close();
  clock.stop();
  io.run_for(std::chrono::milliseconds(50));
}

TEST(sim_options, parses_and_refuses) {
  auto o = parse_options({"--ca", "127.0.0.1:2727,127.0.0.2:2727", "--mtas", "10", "--lines", "2",
                          "--scenario", "calls", "--rate", "2.5", "--hold", "1.5", "--json"});
  ASSERT_EQ(o.call_agents.size(), 2u);
  EXPECT_EQ(o.call_agents[1].address().to_string(), "127.0.0.2");
  EXPECT_EQ(o.mtas, 10);
  EXPECT_DOUBLE_EQ(o.rate, 2.5);
  EXPECT_EQ(o.hold.count(), 1500);
  EXPECT_EQ(o.hold_max.count(), 1500) << "one value: every call holds that long";
  auto ranged = parse_options({"--hold", "30-90"});
  EXPECT_EQ(ranged.hold.count(), 30000);
  EXPECT_EQ(ranged.hold_max.count(), 90000);
  EXPECT_THROW(parse_options({"--hold", "90-30"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--hold", "30-"}), std::invalid_argument);
  EXPECT_TRUE(o.json);
  EXPECT_EQ(parse_options({}).call_agents[0].port(), 2727);
  EXPECT_THROW(parse_options({"--mtas"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--mtas", "-1"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--ca", "host.example:2727"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--ca", "127.0.0.1:99999"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--answer", "maybe"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--scenario", "calls", "--mtas", "1", "--lines", "1"}),
               std::invalid_argument);
  EXPECT_THROW(parse_options({"--bogus"}), std::invalid_argument);
  // Trunking gateways: --gateway NAME@IP:PORT, the PSTN behaviour, the offnet scenario.
  auto g =
    parse_options({"--mtas", "0", "--gateway", "gw-1.example@127.0.0.1:2431", "--gateways", "2",
                   "--pstn-answer", "busy", "--pstn-answer-delay", "250", "--pstn-hold", "1.5"});
  ASSERT_EQ(g.gateway_list.size(), 1u);
  EXPECT_EQ(g.gateway_list[0].name, "gw-1.example");
  EXPECT_EQ(g.gateway_list[0].port, 2431);
  EXPECT_EQ(g.gateways, 2);
  EXPECT_EQ(g.pstn_answer, answer_policy::busy);
  EXPECT_EQ(g.pstn_answer_delay.count(), 250);
  EXPECT_EQ(g.pstn_hold.count(), 1500);
  EXPECT_THROW(parse_options({"--gateway", "127.0.0.1:2431"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--pstn-answer", "later"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--mtas", "0"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--scenario", "offnet"}), std::invalid_argument);
  EXPECT_THROW(parse_options({"--scenario", "offnet", "--called", "12x"}), std::invalid_argument);
  EXPECT_EQ(parse_options({"--scenario", "offnet", "--called", "1212,4441234"}).called.size(), 2u);
  EXPECT_EQ(expand_pattern("mta-{n}.cable.example", 7), "mta-0007.cable.example");
  EXPECT_EQ(expand_pattern("gw{i}", 12), "gw12");
}

TEST(sim_names, wildcards_and_notified_entities) {
  EXPECT_TRUE(local_name_matches("*", "aaln/1"));
  EXPECT_TRUE(local_name_matches("aaln/*", "aaln/2"));
  EXPECT_TRUE(local_name_matches("AALN/1", "aaln/1"));
  EXPECT_FALSE(local_name_matches("aaln/2", "aaln/1"));
  cms::mgcp::udp_endpoint from(boost::asio::ip::make_address("127.0.0.9"), 2727);
  auto a = parse_notified_entity("ca@[127.0.0.2]:2800", from);
  EXPECT_EQ(a.address.address().to_string(), "127.0.0.2");
  EXPECT_EQ(a.address.port(), 2800);
  auto b = parse_notified_entity("ca@cms.cable.example:2900", from);
  EXPECT_EQ(b.address.address().to_string(), "127.0.0.9"); // no DNS: the sender's address
  EXPECT_EQ(b.address.port(), 2900);
  auto c = parse_notified_entity("127.0.0.3", from);
  EXPECT_EQ(c.address.port(), 2727);
  EXPECT_THROW(parse_notified_entity("ca@[127.0.0.1:2727", from), std::invalid_argument);
  EXPECT_THROW(parse_notified_entity("ca@127.0.0.1:70000", from), std::invalid_argument);
}

TEST(sim_report, percentiles_and_json) {
  latency_samples s;
  for (int i = 1; i <= 100; ++i)
    s.add(i);
  EXPECT_DOUBLE_EQ(s.percentile(50), 50);
  EXPECT_DOUBLE_EQ(s.percentile(95), 95);
  EXPECT_DOUBLE_EQ(s.percentile(99), 99);
  EXPECT_DOUBLE_EQ(latency_samples{}.percentile(50), 0);
  report_data r;
  r.mode = "calls";
  r.calls.attempts = 3;
  r.calls.failures["busy"] = 1;
  r.rtp.packets_received = 90;
  r.rtp.packets_lost = 10;
  auto j = to_json(r);
  EXPECT_EQ(j.at("calls").at("failed").as_uint64(), 1u);
  EXPECT_DOUBLE_EQ(j.at("rtp").at("loss_pct").as_double(), 10.0);
  EXPECT_NE(to_text(r).find("failed busy"), std::string::npos);
}
