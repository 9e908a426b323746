// Every way a datagram can be refused: the code the caller answers with and whether the
// transaction id was recovered (no id: the message is dropped and counted, never answered).

#include "codec_test_support.hpp"

namespace cms::mgcp {
namespace {

using test::decode_failure;

struct bad_case {
  const char* name;
  const char* text;
  int code;
  std::optional<std::uint32_t> tid;
  bool is_response;
};

const bad_case bad_cases[] = {
  // 510: malformed
  {"param_without_colon", "RQNT 20 aaln/1@m MGCP 1.0\r\nX 12\r\n", 510, 20, false},
  {"empty_param_name", "RQNT 21 aaln/1@m MGCP 1.0\r\n: 12\r\n", 510, 21, false},
  {"bad_char_in_param_name", "RQNT 22 aaln/1@m MGCP 1.0\r\nX Y: 12\r\n", 510, 22, false},
  {"missing_version", "RQNT 23 aaln/1@m\r\n", 510, 23, false},
  {"missing_endpoint", "RQNT 24\r\n", 510, 24, false},
  {"endpoint_without_at", "AUEP 25 aaln/1 MGCP 1.0\r\n", 510, 25, false},
  {"endpoint_empty_local", "AUEP 26 @mta MGCP 1.0\r\n", 510, 26, false},
  {"endpoint_empty_domain", "AUEP 27 aaln/1@ MGCP 1.0\r\n", 510, 27, false},
  {"endpoint_empty_term", "AUEP 28 aaln//1@mta MGCP 1.0\r\n", 510, 28, false},
  {"endpoint_partial_wildcard", "AUEP 29 aaln/1*@mta MGCP 1.0\r\n", 510, 29, false},
  {"endpoint_bad_domain", "AUEP 30 aaln/1@mta!x MGCP 1.0\r\n", 510, 30, false},
  {"endpoint_bad_ip_literal", "AUEP 31 aaln/1@[300.1.1.1] MGCP 1.0\r\n", 510, 31, false},
  {"profile_without_version", "AUEP 32 aaln/1@m MGCP 1.0 NCS\r\n", 510, 32, false},
  {"too_many_header_fields", "AUEP 33 aaln/1@m MGCP 1.0 NCS 1.0 extra\r\n", 510, 33, false},
  {"control_character", "AUEP 34 aaln/1@m MGCP 1.0\r\nX: 1\x01\r\n", 510, 34, false},
  {"bare_cr_inside_a_line", "AUEP 35 aaln/1@m MGCP 1.0\rX: 1\r\n", 510, 35, false},
  {"nul_byte", "AUEP 36 aaln/1@m MGCP 1.0\r\nX: 1\0", 510, 36, false},
  {"tid_zero", "AUEP 0 aaln/1@m MGCP 1.0\r\n", 510, std::nullopt, false},
  {"tid_ten_digits", "AUEP 1000000000 aaln/1@m MGCP 1.0\r\n", 510, std::nullopt, false},
  {"tid_not_a_number", "AUEP 12a aaln/1@m MGCP 1.0\r\n", 510, std::nullopt, false},
  {"tid_negative", "AUEP -5 aaln/1@m MGCP 1.0\r\n", 510, std::nullopt, false},
  {"only_a_verb", "AUEP\r\n", 510, std::nullopt, false},
  {"empty_datagram", "", 510, std::nullopt, false},
  {"only_blank_lines", "\r\n\r\n  \r\n", 510, std::nullopt, false},
  {"response_without_tid", "200\r\n", 510, std::nullopt, true},
  {"response_bad_tid", "200 x1 OK\r\n", 510, std::nullopt, true},
  {"response_bad_param", "200 40 OK\r\nI\r\n", 510, 40, true},
  // 504: unknown verb
  {"unknown_verb", "FOOO 50 aaln/1@m MGCP 1.0\r\n", 504, 50, false},
  {"verb_prefix", "RQN 51 aaln/1@m MGCP 1.0\r\n", 504, 51, false},
  {"unknown_verb_short_line", "HELLO 52\r\n", 504, 52, false},
  // 528: unsupported version
  {"mgcp_2", "AUEP 60 aaln/1@m MGCP 2.0\r\n", 528, 60, false},
  {"mgcp_0_1", "AUEP 61 aaln/1@m MGCP 0.1\r\n", 528, 61, false},
  {"not_mgcp", "AUEP 62 aaln/1@m SIP 2.0\r\n", 528, 62, false},
  {"unknown_profile", "AUEP 63 aaln/1@m MGCP 1.0 FOO 1.0\r\n", 528, 63, false},
  {"ncs_2", "AUEP 64 aaln/1@m MGCP 1.0 NCS 2.0\r\n", 528, 64, false},
  // 539: bad parameter
  {"unknown_param", "RQNT 70 aaln/1@m MGCP 1.0\r\nQQ: 1\r\n", 539, 70, false},
  {"bad_mode", "CRCX 71 aaln/1@m MGCP 1.0\r\nC: 1\r\nM: talkative\r\n", 539, 71, false},
  {"bad_restart_method", "RSIP 72 aaln/1@m MGCP 1.0\r\nRM: reboot\r\n", 539, 72, false},
  {"non_numeric_rd", "RSIP 73 aaln/1@m MGCP 1.0\r\nRM: graceful\r\nRD: soon\r\n", 539, 73, false},
  {"negative_rd", "RSIP 74 aaln/1@m MGCP 1.0\r\nRD: -1\r\n", 539, 74, false},
  {"bad_k_range", "RQNT 75 aaln/1@m MGCP 1.0\r\nK: 9-3\r\n", 539, 75, false},
  {"bad_k_text", "RQNT 76 aaln/1@m MGCP 1.0\r\nK: abc\r\n", 539, 76, false},
  {"bad_call_id", "CRCX 77 aaln/1@m MGCP 1.0\r\nC: not-hex\r\n", 539, 77, false},
  {"call_id_too_long", "CRCX 78 aaln/1@m MGCP 1.0\r\nC: 0123456789ABCDEF0123456789ABCDEF0\r\n", 539,
   78, false},
  {"empty_request_id", "RQNT 79 aaln/1@m MGCP 1.0\r\nX:\r\n", 539, 79, false},
  {"bad_connection_id", "DLCX 80 aaln/1@m MGCP 1.0\r\nI: 12,zz\r\n", 539, 80, false},
  {"bad_notified_entity", "RQNT 81 aaln/1@m MGCP 1.0\r\nN: ca@host:99999\r\n", 539, 81, false},
  {"bad_requested_events", "RQNT 82 aaln/1@m MGCP 1.0\r\nR: L/hd(N\r\n", 539, 82, false},
  {"bad_action", "RQNT 83 aaln/1@m MGCP 1.0\r\nR: L/hd(NN)\r\n", 539, 83, false},
  {"bad_signal", "RQNT 84 aaln/1@m MGCP 1.0\r\nS: L/\r\n", 539, 84, false},
  {"bad_observed", "NTFY 85 aaln/1@m MGCP 1.0\r\nO: D/5,,D/6\r\n", 539, 85, false},
  {"bad_digit_map", "RQNT 86 aaln/1@m MGCP 1.0\r\nD: (1x|[9-0])\r\n", 539, 86, false},
  {"bad_specific_endpoint", "200 87 OK\r\nZ: nothing\r\n", 539, 87, true},
  {"bad_max_datagram", "200 88 OK\r\nMD: big\r\n", 539, 88, true},
};

class bad_datagrams : public ::testing::TestWithParam<bad_case> {};

TEST_P(bad_datagrams, give_the_expected_error) {
  const auto& c = GetParam();
  auto e = decode_failure(std::string_view(c.text, std::char_traits<char>::length(c.text) +
                                                     (std::string_view(c.name) == "nul_byte")));
  EXPECT_EQ(e.code, c.code) << e.reason;
  EXPECT_EQ(e.transaction_id, c.tid) << e.reason;
  EXPECT_EQ(e.is_response, c.is_response);
  EXPECT_FALSE(e.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(codec, bad_datagrams, ::testing::ValuesIn(bad_cases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(codec_limits, datagram_size) {
  codec_limits limits;
  limits.max_datagram = 64;
  std::string text = "RQNT 90 aaln/1@m MGCP 1.0\r\nX-PAD: " + std::string(60, 'a') + "\r\n";
  auto e = test::decode_failure(text, limits);
  EXPECT_EQ(e.code, 510);
  EXPECT_EQ(e.transaction_id, 90u);
  limits.max_datagram = text.size();
  EXPECT_EQ(decode(text, limits).messages.size(), 1u);
}

TEST(codec_limits, line_length) {
  codec_limits limits;
  limits.max_line = 40;
  auto e = test::decode_failure(
    "RQNT 91 aaln/1@m MGCP 1.0\r\nX-PAD: " + std::string(40, 'a') + "\r\n", limits);
  EXPECT_EQ(e.code, 510);
  EXPECT_EQ(e.transaction_id, 91u);
  EXPECT_EQ(decode("RQNT 91 aaln/1@m MGCP 1.0\r\nX-PAD: " + std::string(33, 'a') + "\r\n", limits)
              .messages.size(),
            1u);
}

TEST(codec_limits, line_count_includes_the_sdp) {
  codec_limits limits;
  limits.max_lines = 4;
  EXPECT_EQ(decode("200 92 OK\nI: 1\n\nv=0\n", limits).messages.size(), 1u);
  auto e = test::decode_failure("200 92 OK\nI: 1\n\nv=0\ns=-\n", limits);
  EXPECT_EQ(e.code, 510);
  EXPECT_EQ(e.transaction_id, 92u);
  EXPECT_TRUE(e.is_response);
}

TEST(codec_limits, piggy_backed_message_count) {
  codec_limits limits;
  limits.max_messages = 2;
  auto r = decode("000 1\n.\n000 2\n.\n000 3\n.\nAUEP 4 a@b MGCP 1.0\n", limits);
  EXPECT_EQ(r.messages.size(), 2u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].transaction_id, 3u);
  EXPECT_EQ(r.errors[1].transaction_id, 4u);
}

TEST(codec_limits, endpoint_name_length) {
  std::string local(255, 'a');
  EXPECT_EQ(decode("AUEP 93 " + local + "@m MGCP 1.0\r\n").messages.size(), 1u);
  auto e = test::decode_failure("AUEP 93 " + local + "a@m MGCP 1.0\r\n");
  EXPECT_EQ(e.code, 510);
  EXPECT_EQ(decode("AUEP 94 a@" + std::string(255, 'd') + " MGCP 1.0\r\n").messages.size(), 1u);
  EXPECT_EQ(test::decode_failure("AUEP 94 a@" + std::string(256, 'd') + " MGCP 1.0\r\n").code, 510);
}

TEST(codec_limits, huge_input_is_refused_without_reading_it_all) {
  std::string text(1 << 20, 'A');
  auto e = test::decode_failure(text);
  EXPECT_EQ(e.code, 510);
  EXPECT_FALSE(e.transaction_id);
}

} // namespace
} // namespace cms::mgcp
