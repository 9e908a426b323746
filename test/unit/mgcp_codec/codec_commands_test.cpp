// Every RFC 3435 command decodes into the right fields and re-encodes to the same wire text.
// Examples are those of RFC 3435 section 2.3 / Appendix E and PacketCable NCS.

#include "codec_test_support.hpp"

namespace cms::mgcp {
namespace {

using test::crlf;
using test::decode_command;

struct example {
  verb kind;
  const char* text; ///< LF line endings; sent as CRLF and as LF
};

const example rfc_examples[] = {
  {verb::epcf, "EPCF 2012 wxx/T2@tgw.whatever.net MGCP 1.0\n"
               "B: e:mu\n"},
  {verb::crcx, "CRCX 1204 aaln/1@rgw-2567.whatever.net MGCP 1.0\n"
               "C: A3C47F21456789F0\n"
               "L: p:10, a:PCMU\n"
               "M: recvonly\n"},
  {verb::crcx, "CRCX 1205 aaln/1@rgw-2567.whatever.net MGCP 1.0 NCS 1.0\n"
               "C: A3C47F21456789F0\n"
               "L: p:10, a:PCMU\n"
               "M: sendrecv\n"
               "X: 0123456789AD\n"
               "R: L/hu\n"
               "S: L/rt\n"
               "\n"
               "v=0\n"
               "o=- 25678 753849 IN IP4 128.96.41.1\n"
               "s=-\n"
               "c=IN IP4 128.96.41.1\n"
               "t=0 0\n"
               "m=audio 3456 RTP/AVP 0\n"},
  {verb::mdcx, "MDCX 1210 aaln/1@rgw-2567.whatever.net MGCP 1.0\n"
               "C: A3C47F21456789F0\n"
               "I: FDE234C8\n"
               "N: ca@ca1.whatever.net\n"
               "M: sendrecv\n"
               "X: 0123456789AE\n"
               "R: L/hu\n"
               "S: L/rt\n"
               "Q: process,loop\n"
               "\n"
               "v=0\n"
               "o=- 4723891 7428910 IN IP4 128.96.63.25\n"
               "s=-\n"
               "c=IN IP4 128.96.63.25\n"
               "t=0 0\n"
               "m=audio 3456 RTP/AVP 0\n"},
  {verb::dlcx, "DLCX 1210 aaln/1@rgw-2567.whatever.net MGCP 1.0\n"
               "C: A3C47F21456789F0\n"
               "I: FDE234C8\n"},
  {verb::dlcx, "DLCX 1241 aaln/*@rgw-2567.whatever.net MGCP 1.0\n"
               "C: A3C47F21456789F0\n"},
  {verb::rqnt, "RQNT 1201 aaln/1@rgw-2567.whatever.net MGCP 1.0\n"
               "N: ca@ca1.whatever.net:5678\n"
               "X: 0123456789AC\n"
               "R: L/hd(N)\n"
               "S: L/rg\n"},
  {verb::rqnt, "RQNT 1202 aaln/1@rgw-2567.whatever.net MGCP 1.0 NCS 1.0\n"
               "X: 0123456789AA\n"
               "R: L/hu(N), L/hf(N), D/[0-9#*T](D)\n"
               "D: (0T|00T|[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx|011x.T|*xx|911|411)\n"
               "S: L/dl\n"},
  {verb::rqnt, "RQNT 1203 aaln/1@rgw-2567.whatever.net MGCP 1.0\n"
               "X: 0123456789AB\n"
               "R: L/hd(A, E(S(L/dl),R(L/oc,L/hu,D/[0-9#*T](D))))\n"
               "S:\n"},
  {verb::ntfy, "NTFY 2002 aaln/1@rgw-2567.whatever.net MGCP 1.0\n"
               "N: ca@ca1.whatever.net:5678\n"
               "X: 0123456789AC\n"
               "O: L/hd,D/9,D/1,D/1\n"},
  {verb::auep, "AUEP 1201 aaln/1@rgw-2567.whatever.net MGCP 1.0\n"
               "F: A, R,D,S,X,N,I,T,O,ES\n"},
  {verb::aucx, "AUCX 1203 aaln/1@rgw-2567.whatever.net MGCP 1.0\n"
               "I: 32F345E2\n"
               "F: C,N,L,M,LC,P\n"},
  {verb::rsip, "RSIP 1200 aaln/*@rgw-2567.whatever.net MGCP 1.0 NCS 1.0\n"
               "RM: restart\n"
               "RD: 0\n"},
  {verb::rsip, "RSIP 5200 aaln/1@rgw-2567.whatever.net MGCP 1.0 TGCP 1.0\n"
               "RM: graceful\n"
               "RD: 300\n"},
  {verb::rsip, "RSIP 5201 $@tgw.whatever.net MGCP 1.0\n"
               "RM: disconnected\n"},
};

class command_examples : public ::testing::TestWithParam<example> {};

TEST_P(command_examples, decode_then_encode_is_the_identity) {
  const auto& ex = GetParam();
  auto wire = crlf(ex.text);
  auto cmd = decode_command(wire);
  EXPECT_EQ(cmd.kind, ex.kind);
  EXPECT_EQ(encode(cmd), wire);
}

TEST_P(command_examples, bare_lf_decodes_like_crlf) {
  const auto& ex = GetParam();
  EXPECT_EQ(decode_command(ex.text), decode_command(crlf(ex.text)));
}

INSTANTIATE_TEST_SUITE_P(rfc3435, command_examples, ::testing::ValuesIn(rfc_examples));

TEST(codec_command, every_verb_round_trips_through_the_model) {
  for (auto v : {verb::epcf, verb::crcx, verb::mdcx, verb::dlcx, verb::rqnt, verb::ntfy, verb::auep,
                 verb::aucx, verb::rsip}) {
    command cmd;
    cmd.kind = v;
    cmd.transaction_id = 999999999;
    cmd.endpoint = "aaln/2@mta-7.cable.example";
    cmd.version = "MGCP 1.0 NCS 1.0";
    cmd.set_param("X", "1A");
    auto back = decode_command(encode(cmd));
    EXPECT_EQ(back, cmd) << to_string(v);
  }
}

TEST(codec_command, fields_of_a_crcx_with_sdp) {
  auto cmd = decode_command(crlf(rfc_examples[2].text));
  EXPECT_EQ(cmd.transaction_id, 1205u);
  EXPECT_EQ(cmd.endpoint, "aaln/1@rgw-2567.whatever.net");
  EXPECT_EQ(cmd.version, "MGCP 1.0 NCS 1.0");
  ASSERT_NE(cmd.param("C"), nullptr);
  EXPECT_EQ(*cmd.param("C"), "A3C47F21456789F0");
  EXPECT_EQ(*cmd.param("l"), "p:10, a:PCMU");
  ASSERT_TRUE(cmd.sdp);
  EXPECT_EQ(cmd.sdp->substr(0, 5), "v=0\r\n");
  EXPECT_NE(cmd.sdp->find("m=audio 3456 RTP/AVP 0\r\n"), std::string::npos);
}

TEST(codec_command, verbs_names_and_profiles_are_case_insensitive) {
  auto cmd = decode_command("rQnT 77 aaln/1@mta.example mgcp 1.0 ncs 1.0\r\n"
                            "x: 0A\r\nr: L/hd(N)\r\nrm: restart\r\n");
  EXPECT_EQ(cmd.kind, verb::rqnt);
  EXPECT_EQ(cmd.version, "MGCP 1.0 NCS 1.0");
  ASSERT_EQ(cmd.params.size(), 3u);
  EXPECT_EQ(cmd.params[0].name, "X");
  EXPECT_EQ(cmd.params[2].name, "RM");
  EXPECT_EQ(cmd.param("Rm"), &cmd.params[2].value);
  EXPECT_EQ(verb_from_string("dlcx"), verb::dlcx);
  EXPECT_EQ(verb_from_string("DLCX "), std::nullopt);
  EXPECT_EQ(to_string(verb::aucx), "AUCX");
}

TEST(codec_command, white_space_is_trimmed_and_runs_of_blanks_separate_fields) {
  auto cmd =
    decode_command("CRCX\t 12   aaln/1@mta.example  MGCP 1.0\r\nC:   1F  \r\nM:sendrecv\r\n");
  EXPECT_EQ(cmd.transaction_id, 12u);
  EXPECT_EQ(*cmd.param("C"), "1F");
  EXPECT_EQ(*cmd.param("M"), "sendrecv");
  EXPECT_EQ(encode(cmd), "CRCX 12 aaln/1@mta.example MGCP 1.0\r\nC: 1F\r\nM: sendrecv\r\n");
}

TEST(codec_command, wildcard_endpoints_are_accepted) {
  for (const char* ep : {"aaln/*@mta.example", "*@mta.example", "ds/ds1-1/$@tgw.example",
                         "rtpbridge/*@mgw", "aaln/1@[192.0.2.7]", "$@#1234"}) {
    auto cmd = decode_command(std::string("AUEP 9 ") + ep + " MGCP 1.0\r\n");
    EXPECT_EQ(cmd.endpoint, ep);
  }
}

TEST(codec_command, set_param_replaces_case_insensitively_and_keeps_order) {
  command cmd;
  cmd.set_param("x", "1");
  cmd.set_param("M", "inactive");
  cmd.set_param("X", "2");
  ASSERT_EQ(cmd.params.size(), 2u);
  EXPECT_EQ(cmd.params[0], (parameter{"X", "2"}));
  EXPECT_EQ(cmd.params[1], (parameter{"M", "inactive"}));
  EXPECT_EQ(cmd.param("Q"), nullptr);
}

TEST(codec_command, extension_parameters_pass_through) {
  auto cmd =
    decode_command("RQNT 3 aaln/1@mta.example MGCP 1.0\r\nX-Foo: bar baz\r\nx+vendor: 1\r\n");
  EXPECT_EQ(*cmd.param("X-FOO"), "bar baz");
  EXPECT_EQ(cmd.params[1].name, "X+VENDOR");
}

TEST(codec_command, blank_lines_around_the_session_description_are_dropped) {
  auto cmd =
    decode_command("MDCX 4 aaln/1@mta.example MGCP 1.0\nI: 1\n\n\nv=0\n\nm=audio 0 RTP/AVP 0\n\n");
  ASSERT_TRUE(cmd.sdp);
  EXPECT_EQ(*cmd.sdp, "v=0\r\nm=audio 0 RTP/AVP 0\r\n");
}

TEST(codec_command, a_blank_line_with_nothing_after_it_means_no_sdp) {
  auto cmd = decode_command("MDCX 4 aaln/1@mta.example MGCP 1.0\r\nI: 1\r\n\r\n");
  EXPECT_FALSE(cmd.sdp);
  EXPECT_EQ(encode(cmd), "MDCX 4 aaln/1@mta.example MGCP 1.0\r\nI: 1\r\n");
}

TEST(codec_command, encode_never_lets_a_value_break_the_line_framing) {
  command cmd;
  cmd.kind = verb::rqnt;
  cmd.transaction_id = 5;
  cmd.endpoint = "aaln/1@mta.example";
  cmd.set_param("X-NOTE", "a\r\nRQNT 6 x@y MGCP 1.0");
  auto r = decode(encode(cmd));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_TRUE(r.errors.empty());
}

} // namespace
} // namespace cms::mgcp
