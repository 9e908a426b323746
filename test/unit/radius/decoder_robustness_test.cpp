// The decoder faces untrusted datagrams: every truncation and a deterministic stream of garbled
// packets must come back as an error or a packet whose attributes lie inside the input (ASan/UBSan
// builds run this too).

#include "runtime/radius/event_message.hpp"
#include "runtime/radius/packet.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace cms::radius;

namespace {

bytes sample_request() {
  event_message em;
  em.header.billing_correlation_id = bcid{1, "7", "0+000000", 2};
  em.header.element_id = "7";
  em.header.event_time = "20260101000000.000";
  em.attributes = {attr::calling_party_number("5551234"), attr::trunk_group({3, 9})};
  return encode_accounting_request(1, encode_event_message(em), "secret");
}

} // namespace

TEST(Decoder, EveryTruncationIsRejected) {
  auto wire = sample_request();
  for (std::size_t n = 0; n < wire.size(); ++n) {
    std::string error;
    EXPECT_FALSE(decode(byte_view{wire.data(), n}, &error)) << "length " << n;
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(verify_response(byte_view{wire.data(), n}, digest16{}, "secret"));
  }
  EXPECT_TRUE(decode(byte_view{wire.data(), wire.size()}));
}

TEST(Decoder, BadLengthsAreRejected) {
  auto wire = sample_request();
  auto with = [&](auto mutate) {
    bytes b = wire;
    mutate(b);
    return decode(byte_view{b.data(), b.size()});
  };
  EXPECT_FALSE(with([](bytes& b) {
    b[2] = 0;
    b[3] = 19;
  })); // length below header
  EXPECT_FALSE(with([](bytes& b) {
    b[2] = 0x10;
    b[3] = 0x01;
  }));                                               // above 4096
  EXPECT_FALSE(with([](bytes& b) { b[21] = 0; }));   // attribute length 0
  EXPECT_FALSE(with([](bytes& b) { b[21] = 1; }));   // attribute length 1
  EXPECT_FALSE(with([](bytes& b) { b[21] = 255; })); // past the end
  // Trailing padding after the length field is ignored (RFC 2865 3).
  auto padded = with([](bytes& b) {
    b.push_back(0);
    b.push_back(0);
  });
  ASSERT_TRUE(padded);
  // A Message-Authenticator of the wrong size.
  bytes ma{12, 1, 0, 23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 80, 3, 0};
  EXPECT_FALSE(decode(byte_view{ma.data(), ma.size()}));
}

TEST(Decoder, GarbledPacketsNeverReadOutside) {
  auto base = sample_request();
  std::mt19937 rng{12345};
  std::uniform_int_distribution<int> octet{0, 255};
  std::size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    bytes b = base;
    int flips = 1 + i % 8;
    for (int k = 0; k < flips; ++k)
      b[static_cast<std::size_t>(octet(rng)) % b.size()] = static_cast<std::uint8_t>(octet(rng));
    b.resize(static_cast<std::size_t>(octet(rng)) % (b.size() + 1) + (i % 3 == 0 ? b.size() : 0));
    auto p = decode(byte_view{b.data(), b.size()});
    if (!p)
      continue;
    ++accepted;
    std::size_t total = 20;
    for (const auto& a : p->attributes)
      total += a.value.size() + 2;
    EXPECT_LE(total, b.size());
    (void)decode_event_message(*p); // must not crash on garbage VSAs either
    (void)verify_response(byte_view{b.data(), b.size()}, digest16{}, "secret");
  }
  EXPECT_GT(accepted, 0u); // the loop did exercise the attribute walk
}

TEST(Decoder, EventMessageWithoutHeaderIsAnError) {
  auto wire = encode_accounting_request(1, {make_u32(attr_type::acct_status_type, 1)}, "s");
  auto p = decode(byte_view{wire.data(), wire.size()});
  ASSERT_TRUE(p);
  std::string error;
  EXPECT_FALSE(decode_event_message(*p, &error));
  EXPECT_NE(error.find("Event-Message"), std::string::npos);
}
