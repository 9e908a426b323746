// Hostile input: the decoder sits directly on a TCP socket, so every way a length can lie must
// come back as an error value (and, under ASan/UBSan, without touching a byte out of bounds).

#include "runtime/cops/dqos.hpp"
#include "runtime/cops/message.hpp"

#include <gtest/gtest.h>

#include <random>

namespace cms::cops {
namespace {

bytes valid_decision() {
  gate_command c;
  c.command = gate_command_type::gate_set;
  c.transaction_id = 77;
  c.subscriber = 0x0a000001;
  c.activity_count = 4;
  c.gate_specs.push_back(gate_spec{});
  c.event_generation = event_generation_info{};
  return encode(to_decision(c, {0, 0, 0, 1}));
}

TEST(CopsMalformed, TruncatedHeader) {
  const bytes b{0x10, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00};
  for (std::size_t n = 0; n < header_size; ++n)
    EXPECT_EQ(decode(b.data(), n).error(), decode_error::truncated_header) << n;
  EXPECT_EQ(decode(nullptr, 8).error(), decode_error::truncated_header);
}

TEST(CopsMalformed, BadVersionAndOpCode) {
  EXPECT_EQ(decode(bytes{0x20, 0x09, 0, 0, 0, 0, 0, 8}).error(), decode_error::bad_version);
  EXPECT_EQ(decode(bytes{0x00, 0x09, 0, 0, 0, 0, 0, 8}).error(), decode_error::bad_version);
  EXPECT_EQ(decode(bytes{0x10, 0x00, 0, 0, 0, 0, 0, 8}).error(), decode_error::bad_op_code);
  EXPECT_EQ(decode(bytes{0x10, 0x0b, 0, 0, 0, 0, 0, 8}).error(), decode_error::bad_op_code);
}

TEST(CopsMalformed, LengthFieldThatLies) {
  // Claims more than is there, less than is there, less than a header, and not 32-bit aligned.
  EXPECT_EQ(decode(bytes{0x10, 0x09, 0, 0, 0, 0, 0, 12}).error(), decode_error::bad_length);
  EXPECT_EQ(decode(bytes{0x10, 0x09, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0}).error(),
            decode_error::bad_length);
  EXPECT_EQ(decode(bytes{0x10, 0x09, 0, 0, 0, 0, 0, 4}).error(), decode_error::bad_length);
  EXPECT_EQ(decode(bytes{0x10, 0x09, 0, 0, 0, 0, 0, 0}).error(), decode_error::bad_length);
  bytes unaligned{0x10, 0x09, 0, 0, 0, 0, 0, 10, 0, 0};
  EXPECT_EQ(decode(unaligned).error(), decode_error::bad_length);
}

TEST(CopsMalformed, HugeLengthIsRefusedBeforeAnythingElse) {
  const bytes huge{0x10, 0x02, 0x80, 0x08, 0xff, 0xff, 0xff, 0xfc};
  EXPECT_EQ(decode(huge).error(), decode_error::too_long);
  EXPECT_EQ(decode(bytes{0x10, 0x09, 0, 0, 0, 0, 0x01, 0x00}, 128).error(), decode_error::too_long);
}

TEST(CopsMalformed, ZeroAndShortObjectLengths) {
  for (std::uint8_t len : {0, 1, 2, 3}) {
    const bytes b{0x10, 0x07, 0x80, 0x08, 0, 0, 0, 12, 0x00, len, 0x0a, 0x01};
    EXPECT_EQ(decode(b).error(), decode_error::bad_object_length) << int(len);
  }
}

TEST(CopsMalformed, ObjectRunningPastTheMessage) {
  // Object claims 12 bytes, 8 are there.
  const bytes b{0x10, 0x07, 0x80, 0x08, 0, 0, 0, 16, 0x00, 0x0c, 0x0a, 0x01, 0, 0, 0, 30};
  EXPECT_EQ(decode(b).error(), decode_error::bad_object_length);
  // Object of length 0xffff.
  const bytes c{0x10, 0x07, 0x80, 0x08, 0, 0, 0, 16, 0xff, 0xff, 0x0a, 0x01, 0, 0, 0, 30};
  EXPECT_EQ(decode(c).error(), decode_error::bad_object_length);
  // Length 5: the padding to 8 is missing.
  const bytes d{0x10, 0x07, 0x80, 0x08, 0, 0, 0, 12, 0x00, 0x05, 0x0a, 0x01};
  EXPECT_EQ(decode(d).error(), decode_error::bad_object_length);
}

TEST(CopsMalformed, PacketCableObjectLengthsThatLie) {
  auto tid = [](std::uint8_t len_lo) {
    return bytes{0x00, len_lo, 0x01, 0x01, 0x00, 0x01, 0x00, 0x04};
  };
  EXPECT_TRUE(decode_objects(tid(8).data(), 8));
  for (std::uint8_t len : {0, 3, 6, 12, 0xfc})
    EXPECT_EQ(decode_objects(tid(len).data(), 8).error(), decode_error::bad_object_length)
      << int(len);
  // Right framing, wrong size for the object kind: a 4-byte Gate Spec body.
  const bytes small_spec{0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x00, 0x04,
                         0x00, 0x08, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(decode_objects(small_spec.data(), small_spec.size()).error(), decode_error::bad_object);
  // Trailing bytes that cannot hold an object header.
  bytes tail = tid(8);
  tail.push_back(0);
  tail.push_back(8);
  EXPECT_EQ(decode_objects(tail.data(), tail.size()).error(), decode_error::bad_object_length);
  EXPECT_EQ(decode_objects(nullptr, 16).error(), decode_error::missing_object);
}

TEST(CopsMalformed, EveryTruncationOfAValidMessageIsRefused) {
  const bytes good = valid_decision();
  ASSERT_TRUE(decode(good));
  for (std::size_t n = 0; n < good.size(); ++n) {
    bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(decode(cut)) << n;
    // Also with the length field patched to agree with the truncation (n multiple of 4).
    if (n >= header_size && n % 4 == 0) {
      cut[4] = cut[5] = 0;
      cut[6] = static_cast<std::uint8_t>(n >> 8);
      cut[7] = static_cast<std::uint8_t>(n);
      auto m = decode(cut);
      if (m) { // whole objects dropped: then the gate command must notice
        auto cmd = gate_command_from(m.value());
        if (cmd) {
          EXPECT_FALSE(missing_objects(cmd.value()).empty() && cmd->gate_specs.size() == 1 &&
                       cmd->event_generation.has_value())
            << "a truncated DEC decoded as the complete one at " << n;
        }
      }
    }
  }
}

// Random mutations of valid messages: the decoders must return (ok or error), never crash. The
// assertions that matter here are ASan's and UBSan's in the sanitizer build.
TEST(CopsMalformed, RandomMutationsNeverCrash) {
  std::mt19937 rng{20240601};
  const bytes seeds[] = {valid_decision(),
                         encode(to_message(client_open{client_type_dqos, "cmts"})),
                         encode(to_message(client_accept{client_type_dqos, 30, 60}))};
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    bytes b = seeds[round % 3];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 3) {
      case 0:
        b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
        break;
      case 1:
        b.resize(rng() % (b.size() + 1));
        break;
      case 2:
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng() % (b.size() + 1)),
                 static_cast<std::uint8_t>(rng()));
        break;
      }
      if (b.empty())
        b.push_back(0x10);
    }
    auto m = decode(b);
    if (!m)
      continue;
    ++accepted;
    (void)gate_command_from(m.value());
    (void)parse_client_open(m.value());
    (void)parse_client_accept(m.value());
    (void)parse_report(m.value());
    (void)parse_decision(m.value());
    (void)parse_request(m.value());
  }
  EXPECT_GT(accepted, 0u); // some mutations (payload bytes) keep the framing valid
}

} // namespace
} // namespace cms::cops
