#pragma once
// Helpers shared by the codec tests: decode a text that must hold exactly one good message.

#include "runtime/mgcp/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace cms::mgcp::test {

/// "\n" -> "\r\n", so examples can be written once and sent both ways.
inline std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n')
      out += '\r';
    out += c;
  }
  return out;
}

inline command decode_command(std::string_view text) {
  auto r = decode(text);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].reason);
  EXPECT_EQ(r.messages.size(), 1u);
  if (r.messages.size() != 1 || !std::holds_alternative<command>(r.messages[0])) {
    ADD_FAILURE() << "not one command";
    return {};
  }
  return std::get<command>(r.messages[0]);
}

inline response decode_response(std::string_view text) {
  auto r = decode(text);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].reason);
  EXPECT_EQ(r.messages.size(), 1u);
  if (r.messages.size() != 1 || !std::holds_alternative<response>(r.messages[0])) {
    ADD_FAILURE() << "not one response";
    return {};
  }
  return std::get<response>(r.messages[0]);
}

/// The single error of a datagram that must not decode.
inline decode_error decode_failure(std::string_view text, const codec_limits& limits = {}) {
  auto r = decode(text, limits);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.errors.size(), 1u);
  if (r.errors.empty())
    return {};
  return r.errors[0];
}

} // namespace cms::mgcp::test
