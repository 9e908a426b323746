#pragma once
// Small ASCII helpers shared by the MGCP codec, SDP and digit map parsers. MGCP and SDP keywords are
// ASCII, so none of this depends on the C locale (std::tolower would, and is UB on negative chars).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::mgcp::text {

constexpr char to_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
}
constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }
constexpr bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }
/// Control characters other than HT never belong in MGCP or SDP text.
constexpr bool is_control(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_upper(a[i]) != to_upper(b[i]))
      return false;
  return true;
}

inline std::string upper(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    c = to_upper(c);
  return r;
}

inline std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    c = to_lower(c);
  return r;
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

/// Splits on `sep`, keeping empty fields.
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

/// Splits on runs of SP/HT, dropping empty fields.
inline std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i]))
      ++i;
    auto start = i;
    while (i < s.size() && !is_space(s[i]))
      ++i;
    if (i > start)
      out.push_back(s.substr(start, i - start));
  }
  return out;
}

/// Decimal digits only (no sign, no blanks), at most `max_digits` of them, value <= `max`.
inline std::optional<std::uint64_t> parse_uint(std::string_view s, std::size_t max_digits = 19,
                                               std::uint64_t max = UINT64_MAX) noexcept {
  if (s.empty() || s.size() > max_digits || s.size() > 19)
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c))
      return std::nullopt;
    v = v * 10 + std::uint64_t(c - '0');
  }
  if (v > max)
    return std::nullopt;
  return v;
}

inline bool all_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!is_hex(c))
      return false;
  return true;
}

} // namespace cms::mgcp::text
