// The RKS wire format without sockets: framing, digest, JSON <-> record, batch and reply checks.

#include "persistence/rks_protocol.hpp"
#include "rks_harness.hpp"
#include "runtime/transport/rks_client.hpp"

#include <gtest/gtest.h>

namespace json = boost::json;
using namespace cms::billing;

namespace {

std::string body_of(const std::string& frame) { return frame.substr(rks::length_prefix_size); }

json::object batch_message(std::size_t n = 3) {
  return rks::make_batch(rks::batch{"node-a", cms::test::make_records(7, n)});
}

std::string batch_error(json::object message) {
  rks::batch b;
  return rks::parse_batch(message, b);
}

} // namespace

TEST(rks_protocol, batch_round_trips_through_a_frame) {
  const auto records = cms::test::make_records(7, 4);
  const auto frame = rks::encode_frame(rks::make_batch(rks::batch{"node-a", records}));
  ASSERT_GT(frame.size(), rks::length_prefix_size + rks::digest_size);
  EXPECT_EQ(rks::decode_length(reinterpret_cast<const unsigned char*>(frame.data())),
            frame.size() - rks::length_prefix_size);
  auto decoded = rks::decode_body(body_of(frame));
  ASSERT_TRUE(decoded.ok()) << decoded.error;
  EXPECT_EQ(decoded.message.at("first_seq").to_number<std::uint64_t>(), 7u);
  rks::batch b;
  ASSERT_EQ(rks::parse_batch(decoded.message, b), "");
  EXPECT_EQ(b.node, "node-a");
  EXPECT_EQ(b.records, records);
}

TEST(rks_protocol, every_flipped_byte_is_detected) {
  const auto body = body_of(rks::encode_frame(batch_message(2)));
  for (std::size_t i = 0; i < body.size(); ++i) {
    auto corrupted = body;
    corrupted[i] = static_cast<char>(corrupted[i] ^ 0x20);
    EXPECT_FALSE(rks::decode_body(corrupted).ok()) << "flip at byte " << i << " not detected";
  }
}

TEST(rks_protocol, truncated_body_is_detected) {
  const auto body = body_of(rks::encode_frame(batch_message()));
  for (std::size_t cut :
       {std::size_t{0}, std::size_t{1}, rks::digest_size, body.size() / 2, body.size() - 1})
    EXPECT_FALSE(rks::decode_body(body.substr(0, cut)).ok()) << "cut at " << cut;
}

TEST(rks_protocol, bad_json_with_a_valid_digest_is_refused) {
  for (std::string text : {"{\"type\":\"batch\",", "[1,2,3]", "not json"}) {
    const auto digest = rks::sha256(text);
    const auto body = text + std::string(reinterpret_cast<const char*>(digest.data()), 32);
    auto decoded = rks::decode_body(body);
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.error.rfind("bad json", 0), 0u) << decoded.error;
  }
}

TEST(rks_protocol, invalid_batches_are_refused_with_a_reason) {
  auto m = batch_message();
  m["records"].as_array().clear();
  EXPECT_EQ(batch_error(m), "empty batch");

  m = batch_message();
  m["first_seq"] = 8;
  EXPECT_NE(batch_error(m).find("out of order"), std::string::npos);

  m = batch_message();
  std::swap(m["records"].as_array()[1], m["records"].as_array()[2]);
  EXPECT_NE(batch_error(m).find("out of order"), std::string::npos);

  m = batch_message();
  m["records"].as_array()[2].as_object()["record_id"] =
    m["records"].as_array()[0].as_object()["record_id"];
  EXPECT_NE(batch_error(m).find("twice"), std::string::npos);

  m = batch_message();
  m["records"].as_array()[1].as_object().erase("call_id");
  EXPECT_NE(batch_error(m).find("call_id"), std::string::npos);

  m = batch_message();
  m["records"].as_array()[1].as_object()["timestamp_ms"] = "yesterday";
  EXPECT_NE(batch_error(m).find("timestamp_ms"), std::string::npos);

  m = batch_message();
  m["records"].as_array()[0].as_object()["sequence"] = -1;
  EXPECT_NE(batch_error(m).find("sequence"), std::string::npos);

  m = batch_message();
  m["records"].as_array()[0].as_object()["release_cause"] = 300;
  EXPECT_NE(batch_error(m).find("release_cause"), std::string::npos);

  m = batch_message();
  m["records"].as_array()[0].as_object()["record_id"] = "";
  EXPECT_NE(batch_error(m).find("record_id"), std::string::npos);

  m = batch_message();
  m["type"] = "ack";
  EXPECT_EQ(batch_error(m), "not a batch");
}

TEST(rks_protocol, replies_round_trip) {
  rks::reply r;
  ASSERT_EQ(rks::parse_reply(rks::make_ack(42, 3, 2), r), "");
  EXPECT_TRUE(r.ack);
  EXPECT_EQ(r.up_to_sequence, 42u);
  EXPECT_EQ(r.accepted, 3u);
  EXPECT_EQ(r.duplicates, 2u);

  ASSERT_EQ(rks::parse_reply(rks::make_nack("digest mismatch"), r), "");
  EXPECT_FALSE(r.ack);
  EXPECT_EQ(r.reason, "digest mismatch");

  EXPECT_NE(rks::parse_reply(json::object{{"type", "hello"}}, r), "");
  EXPECT_NE(rks::parse_reply(json::object{{"type", "ack"}, {"accepted", 1}}, r), "");
}

TEST(rks_endpoint, parses_host_and_port) {
  auto e = rks_endpoint::parse("rks.partner.example:7001");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "rks.partner.example");
  EXPECT_EQ(e->port, 7001);
  e = rks_endpoint::parse("[fd00::7]:7001");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "fd00::7");
  EXPECT_EQ(e->to_string(), "[fd00::7]:7001");
  for (const char* bad : {"", "host", "host:", ":7001", "host:0", "host:70000", "host:7x", "a:b:1"})
    EXPECT_FALSE(rks_endpoint::parse(bad)) << bad;
}
