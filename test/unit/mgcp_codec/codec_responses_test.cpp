// Responses: final, provisional (1xx), response acknowledgement (000), with SDP, piggy-backed.

#include "codec_test_support.hpp"

namespace cms::mgcp {
namespace {

using test::crlf;
using test::decode_response;

TEST(codec_response, crcx_answer_with_connection_id_and_sdp) {
  const auto wire = crlf("200 1204 OK\n"
                         "I: FDE234C8\n"
                         "\n"
                         "v=0\n"
                         "o=- 25678 753849 IN IP4 128.96.41.1\n"
                         "s=-\n"
                         "c=IN IP4 128.96.41.1\n"
                         "t=0 0\n"
                         "m=audio 3456 RTP/AVP 0\n");
  auto rsp = decode_response(wire);
  EXPECT_EQ(rsp.code, 200);
  EXPECT_EQ(rsp.transaction_id, 1204u);
  EXPECT_EQ(rsp.comment, "OK");
  EXPECT_EQ(*rsp.param("I"), "FDE234C8");
  ASSERT_TRUE(rsp.sdp);
  EXPECT_TRUE(rsp.final());
  EXPECT_FALSE(rsp.provisional());
  EXPECT_EQ(encode(rsp), wire);
}

TEST(codec_response, dlcx_answer_with_connection_parameters) {
  const auto wire =
    crlf("250 1210 OK\nP: PS=1245, OS=62345, PR=780, OR=45123, PL=10, JI=27, LA=48\n");
  auto rsp = decode_response(wire);
  EXPECT_EQ(rsp.code, 250);
  EXPECT_EQ(encode(rsp), wire);
}

TEST(codec_response, auep_answer_with_many_parameters) {
  const auto wire =
    crlf("200 1201 OK\n"
         "A: a:PCMU;G728, p:10-100, e:on, s:off, v:L;S, m:sendonly;recvonly;sendrecv;inactive\n"
         "R: L/hu,L/hf(S,N),D/[0-9#*T](D)\n"
         "D:\n"
         "S:\n"
         "X: 0123456789B1\n"
         "N: [128.96.41.12]\n"
         "I: 32F345E2, 32F345E3\n"
         "T: L/hu,L/hf,D/[0-9#*T]\n"
         "O: L/hu,L/hf,D/[0-9#*T]\n"
         "ES: L/hu\n");
  auto rsp = decode_response(wire);
  EXPECT_EQ(rsp.params.size(), 10u);
  EXPECT_EQ(*rsp.param("D"), "");
  EXPECT_EQ(encode(rsp), wire);
}

TEST(codec_response, provisional_and_ack) {
  auto pending = decode_response("100 1204 Pending\r\nK:\r\n");
  EXPECT_TRUE(pending.provisional());
  EXPECT_FALSE(pending.final());
  EXPECT_EQ(*pending.param("K"), "");
  auto queued = decode_response("101 1205\r\n");
  EXPECT_TRUE(queued.provisional());
  EXPECT_EQ(queued.comment, "");

  auto ack = decode_response("000 1204\r\n");
  EXPECT_EQ(ack.code, 0);
  EXPECT_TRUE(ack.final());
  EXPECT_FALSE(ack.provisional());
  EXPECT_EQ(encode(ack), "000 1204\r\n");
}

TEST(codec_response, comment_keeps_inner_spaces_and_package_names) {
  auto rsp = decode_response("801 77 L/ That event is  not supported \r\n");
  EXPECT_EQ(rsp.code, 801);
  EXPECT_EQ(rsp.comment, "L/ That event is  not supported");
  EXPECT_EQ(encode(rsp), "801 77 L/ That event is  not supported\r\n");
}

TEST(codec_response, response_carrying_a_response_ack) {
  auto rsp = decode_response("200 1300 OK\r\nK: 6234-6255, 6257\r\n");
  EXPECT_EQ(*rsp.param("K"), "6234-6255, 6257");
}

TEST(codec_piggyback, rfc3435_example_of_a_response_and_a_command) {
  const auto wire = crlf("200 2005 OK\n"
                         ".\n"
                         "DLCX 1244 card23/21@tgw-7.example.net MGCP 1.0\n"
                         "C: A3C47F21456789F0\n"
                         "I: FDE234C8\n");
  auto r = decode(wire);
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(std::get<response>(r.messages[0]).transaction_id, 2005u);
  EXPECT_EQ(std::get<command>(r.messages[1]).kind, verb::dlcx);
  EXPECT_EQ(encode(r.messages), wire);
}

TEST(codec_piggyback, sdp_in_the_first_message_ends_at_the_separator) {
  auto r = decode("200 1 OK\nI: 1\n\nv=0\nm=audio 4000 RTP/AVP 0\n.\n000 7\n.\nNTFY 8 aaln/1@m "
                  "MGCP 1.0\nO: L/hd\n");
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(*std::get<response>(r.messages[0]).sdp, "v=0\r\nm=audio 4000 RTP/AVP 0\r\n");
  EXPECT_EQ(std::get<response>(r.messages[1]).code, 0);
  EXPECT_EQ(std::get<command>(r.messages[2]).transaction_id, 8u);
  EXPECT_EQ(decode(encode(r.messages)).messages, r.messages);
}

TEST(codec_piggyback, good_messages_survive_a_bad_neighbour) {
  auto r = decode("RQNT 10 aaln/1@m MGCP 1.0\n.\nBOGUS 11 aaln/1@m MGCP 1.0\n.\n200 12 OK\n");
  ASSERT_EQ(r.messages.size(), 2u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code, 504);
  EXPECT_EQ(r.errors[0].transaction_id, 11u);
}

TEST(codec_piggyback, trailing_separator_adds_no_message) {
  auto r = decode("000 5\r\n.\r\n");
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.messages.size(), 1u);
}

TEST(codec_default_comment, rfc_texts) {
  EXPECT_EQ(default_comment(200), "Transaction executed normally");
  EXPECT_EQ(default_comment(510), "Protocol error");
  EXPECT_EQ(default_comment(504), "Unknown or unsupported command");
  EXPECT_EQ(default_comment(528), "Incompatible protocol version");
  EXPECT_EQ(default_comment(539), "Invalid or unsupported command parameter");
  EXPECT_EQ(default_comment(0), "Response acknowledgement");
  EXPECT_EQ(default_comment(199), "Provisional response");
  EXPECT_EQ(default_comment(899), "Package-specific error");
  EXPECT_EQ(default_comment(-5), "Permanent error");
}

} // namespace
} // namespace cms::mgcp
