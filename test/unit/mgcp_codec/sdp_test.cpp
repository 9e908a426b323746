// RFC 4566 audio subset as MTAs, trunking gateways and osmo-mgw send it.

#include "runtime/mgcp/sdp.hpp"

#include <gtest/gtest.h>

namespace cms::mgcp {
namespace {

const char* mta_offer = "v=0\r\n"
                        "o=- 25678 753849 IN IP4 128.96.41.1\r\n"
                        "s=-\r\n"
                        "c=IN IP4 128.96.41.1\r\n"
                        "t=0 0\r\n"
                        "m=audio 3456 RTP/AVP 0 18 101\r\n"
                        "a=rtpmap:0 PCMU/8000\r\n"
                        "a=rtpmap:18 G729/8000\r\n"
                        "a=rtpmap:101 telephone-event/8000\r\n"
                        "a=ptime:20\r\n"
                        "a=fmtp:101 0-15\r\n"
                        "a=sendrecv\r\n";

TEST(sdp, typed_fields_of_an_offer) {
  std::string error;
  auto sd = parse_sdp(mta_offer, &error);
  ASSERT_TRUE(sd) << error;
  EXPECT_EQ(sd->session_id, "25678");
  EXPECT_EQ(sd->session_version, "753849");
  EXPECT_EQ(sd->origin_address.address, "128.96.41.1");
  ASSERT_TRUE(sd->connection);
  EXPECT_EQ(sd->connection->address, "128.96.41.1");
  ASSERT_EQ(sd->media.size(), 1u);
  const auto& m = sd->media[0];
  EXPECT_EQ(m.port, 3456);
  EXPECT_EQ(m.protocol, "RTP/AVP");
  EXPECT_EQ(m.payload_types(), (std::vector<int>{0, 18, 101}));
  ASSERT_NE(m.rtpmap(18), nullptr);
  EXPECT_EQ(m.rtpmap(18)->encoding, "G729");
  EXPECT_EQ(m.rtpmap(101)->clock_rate, 8000u);
  EXPECT_EQ(m.rtpmap(8), nullptr);
  EXPECT_EQ(m.ptime, 20u);
  EXPECT_EQ(m.direction, media_direction::sendrecv);
  EXPECT_EQ(m.attributes, (std::vector<std::string>{"fmtp:101 0-15"}));
  EXPECT_EQ(sd->audio_connection(), &*sd->connection);
}

TEST(sdp, build_gives_back_the_same_text) {
  auto sd = parse_sdp(mta_offer);
  ASSERT_TRUE(sd);
  EXPECT_EQ(build_sdp(*sd), mta_offer);
}

TEST(sdp, lf_only_and_media_level_connection) {
  auto sd = parse_sdp("v=0\no=mgw 1 2 IN IP4 10.0.0.1\ns=osmo\nt=0 0\nm=audio 16002 RTP/AVP 8\n"
                      "c=IN IP4 10.0.0.9\na=rtpmap:8 PCMA/8000/1\na=recvonly\n");
  ASSERT_TRUE(sd);
  EXPECT_FALSE(sd->connection);
  ASSERT_NE(sd->audio_connection(), nullptr);
  EXPECT_EQ(sd->audio_connection()->address, "10.0.0.9");
  EXPECT_EQ(sd->media[0].rtpmap(8)->channels, "1");
  EXPECT_EQ(sd->media[0].direction, media_direction::recvonly);
}

TEST(sdp, build_from_scratch_then_parse) {
  session_description sd;
  sd.session_id = "42";
  sd.origin_address.address = "192.0.2.1";
  sd.connection = sdp_connection{"IP4", "192.0.2.1"};
  sdp_media m;
  m.port = 4000;
  m.formats = {"0"};
  m.rtpmaps.push_back({0, "PCMU", 8000, std::nullopt});
  m.ptime = 10;
  m.direction = media_direction::inactive;
  sd.media.push_back(m);
  auto text = build_sdp(sd);
  EXPECT_EQ(text, "v=0\r\no=- 42 0 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                  "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:10\r\na=inactive\r\n");
  auto back = parse_sdp(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, sd);
}

TEST(sdp, other_lines_and_attributes_are_preserved) {
  auto sd = parse_sdp("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\ni=info\r\nb=AS:64\r\nt=0 0\r\n"
                      "a=tool:cms\r\nm=image 4002 udptl t38\r\nb=AS:20\r\na=T38FaxVersion:0\r\n");
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->other_lines, (std::vector<std::string>{"i=info", "b=AS:64"}));
  EXPECT_EQ(sd->attributes, (std::vector<std::string>{"tool:cms"}));
  EXPECT_EQ(sd->media[0].formats, (std::vector<std::string>{"t38"}));
  EXPECT_TRUE(sd->media[0].payload_types().empty());
  EXPECT_EQ(sd->first_audio(), nullptr);
  auto again = parse_sdp(build_sdp(*sd));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *sd);
}

TEST(sdp, rfc2705_style_description_without_origin_builds_a_valid_origin) {
  // Found by fuzz_sdp: no o= line used to build "o=- 0 0 IN IP4 " which does not parse back.
  auto sd = parse_sdp("v=0\r\nc=IN IP4 128.96.41.1\r\nm=audio 3456 RTP/AVP 0\r\n");
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->origin_address.address, "");
  auto text = build_sdp(*sd);
  EXPECT_NE(text.find("o=- 0 0 IN IP4 0.0.0.0\r\n"), std::string::npos);
  auto back = parse_sdp(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(build_sdp(*back), text);
}

struct bad_sdp {
  const char* text;
  const char* why_contains;
};

TEST(sdp, errors_are_reported_not_thrown) {
  const bad_sdp cases[] = {
    {"", "empty"},
    {"o=- 1 1 IN IP4 1.2.3.4\r\n", "v="},
    {"v=1\r\n", "v=0"},
    {"v=0\r\nv=0\r\n", "v=0"},
    {"v=0\r\no=- 1 IN IP4 1.2.3.4\r\n", "o="},
    {"v=0\r\nc=IN IP4\r\n", "IN IP4"},
    {"v=0\r\nc=ATM NSAP x\r\n", "IN IP4"},
    {"v=0\r\nc=IN IPX 1.2.3.4\r\n", "address type"},
    {"v=0\r\nm=audio\r\n", "m="},
    {"v=0\r\nm=audio 70000 RTP/AVP 0\r\n", "port"},
    {"v=0\r\nm=audio 4000 RTP/AVP 128\r\n", "payload"},
    {"v=0\r\nm=audio 4000 RTP/AVP PCMU\r\n", "payload"},
    {"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", "rtpmap"},
    {"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/fast\r\n", "clock"},
    {"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:0\r\n", "ptime"},
    {"v=0\r\nm=audio 4000 RTP/AVP 0\r\nt=0 0\r\n", "t="},
    {"v=0\r\nbogus\r\n", "x=value"},
    {"v=0\r\nX=1\r\n", "x=value"},
    {"v=0\r\ns=a\x01\r\n", "control"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_sdp(c.text, &error)) << c.text;
    EXPECT_NE(error.find(c.why_contains), std::string::npos) << c.text << " -> " << error;
  }
}

TEST(sdp, limits) {
  sdp_limits limits;
  limits.max_media = 2;
  limits.max_formats = 3;
  limits.max_lines = 6;
  EXPECT_TRUE(parse_sdp("v=0\nm=audio 1 RTP/AVP 0 8 18\nm=audio 2 RTP/AVP 0\n", nullptr, limits));
  EXPECT_FALSE(parse_sdp("v=0\nm=audio 1 RTP/AVP 0 8 18 4\n", nullptr, limits));
  EXPECT_FALSE(parse_sdp("v=0\nm=audio 1 RTP/AVP 0\nm=audio 2 RTP/AVP 0\nm=audio 3 RTP/AVP 0\n",
                         nullptr, limits));
  EXPECT_FALSE(parse_sdp("v=0\na=a\na=b\na=c\na=d\na=e\na=f\n", nullptr, limits));
}

} // namespace
} // namespace cms::mgcp
