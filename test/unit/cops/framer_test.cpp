// The stream framer: whole messages out of arbitrary TCP segmentation, and a poisoned stream once
// a header cannot be right.

#include "runtime/cops/framer.hpp"

#include <gtest/gtest.h>

namespace cms::cops {
namespace {

bytes ka() { return encode(to_message(keep_alive{})); }
bytes cat() { return encode(to_message(client_accept{client_type_dqos, 10, std::nullopt})); }

TEST(CopsFramer, ByteByByte) {
  framer f;
  const bytes stream = [] {
    bytes s = cat();
    auto k = ka();
    s.insert(s.end(), k.begin(), k.end());
    return s;
  }();
  std::vector<bytes> out;
  for (auto b : stream) {
    f.feed(&b, 1);
    for (;;) {
      auto n = f.next();
      ASSERT_TRUE(n) << n.detail();
      if (!n.value())
        break;
      out.push_back(*n.value());
    }
  }
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], cat());
  EXPECT_EQ(out[1], ka());
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(CopsFramer, SeveralMessagesInOneSegmentAndAPartialTail) {
  framer f;
  bytes s;
  for (int i = 0; i < 5; ++i) {
    auto k = ka();
    s.insert(s.end(), k.begin(), k.end());
  }
  auto c = cat();
  s.insert(s.end(), c.begin(), c.begin() + 5);
  f.feed(s.data(), s.size());
  int whole = 0;
  for (;;) {
    auto n = f.next();
    ASSERT_TRUE(n);
    if (!n.value())
      break;
    ++whole;
  }
  EXPECT_EQ(whole, 5);
  EXPECT_EQ(f.buffered(), 5u);
  f.feed(c.data() + 5, c.size() - 5);
  auto last = f.next();
  ASSERT_TRUE(last && last.value());
  EXPECT_EQ(*last.value(), c);
}

TEST(CopsFramer, RefusesImpossibleHeadersAndStaysPoisoned) {
  struct bad_case {
    bytes header;
    decode_error expected;
  };
  const bad_case cases[] = {
    {{0x10, 0x09, 0, 0, 0x7f, 0xff, 0xff, 0xfc}, decode_error::too_long},
    {{0x10, 0x09, 0, 0, 0, 0, 0, 4}, decode_error::bad_length},
    {{0x10, 0x09, 0, 0, 0, 0, 0, 0}, decode_error::bad_length},
    {{0x10, 0x09, 0, 0, 0, 0, 0, 9}, decode_error::bad_length},
    {{0x30, 0x09, 0, 0, 0, 0, 0, 8}, decode_error::bad_version},
    {{0x10, 0x0e, 0, 0, 0, 0, 0, 8}, decode_error::bad_op_code},
  };
  for (const auto& c : cases) {
    framer f{1024};
    f.feed(c.header.data(), c.header.size());
    auto n = f.next();
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), c.expected);
    auto k = ka();
    f.feed(k.data(), k.size());
    EXPECT_FALSE(f.next()) << "a poisoned stream must not resynchronise";
    f.reset();
    f.feed(k.data(), k.size());
    EXPECT_TRUE(f.next());
  }
}

TEST(CopsFramer, MaximumIsInclusive) {
  framer f{16};
  const auto c = cat(); // exactly 16 bytes
  ASSERT_EQ(c.size(), 16u);
  f.feed(c.data(), c.size());
  auto n = f.next();
  ASSERT_TRUE(n && n.value());
  const bytes over{0x10, 0x07, 0x80, 0x08, 0, 0, 0, 20};
  f.feed(over.data(), over.size());
  EXPECT_EQ(f.next().error(), decode_error::too_long);
}

} // namespace
} // namespace cms::cops
