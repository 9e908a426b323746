#pragma once
// Billing Correlation ID (PKT-SP-EM, J.164): the 24-octet key that ties together every Event
// Message of one call, across the CMS, CMTS and RKS. Layout (Wireshark decode_packetcable_bcid):
//   octets  0..3   timestamp, seconds, big-endian
//   octets  4..11  element id, 8 ASCII, right-justified and space-padded ("   12345")
//   octets 12..19  time zone, 8 ASCII: DST flag '0'/'1', sign, hhmmss ("0+000000", "1-050000")
//   octets 20..23  event counter, big-endian

#include "runtime/radius/bytes.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cms::radius {

inline constexpr std::size_t bcid_size = 24;

/// The 8-octet element id field: `id` right-justified, space-padded. Throws std::invalid_argument
/// when `id` is longer than 8 or holds anything but printable ASCII (the field is ASCII).
std::string format_element_id(std::string_view id);

/// The 8-octet time zone field: DST flag, sign, hhmmss of the offset from UTC.
/// Throws std::invalid_argument for offsets of 24 h or more.
std::string format_time_zone(bool dst, int utc_offset_seconds);

/// True when `tz` has the 8-character "D+hhmmss" shape the dissector expects.
bool valid_time_zone(std::string_view tz);

struct bcid {
  std::uint32_t timestamp = 0;
  /// Encoded through format_element_id; decode() returns the 8 octets as received.
  std::string element_id;
  std::string time_zone = "0+000000";
  std::uint32_t event_counter = 0;

  /// Throws std::invalid_argument on a field that cannot be encoded.
  std::array<std::uint8_t, bcid_size> encode() const;
  void encode_to(bytes& out) const;
  /// Exactly 24 octets, ASCII fields printable; nullopt (and *error) otherwise.
  static std::optional<bcid> decode(byte_view data, std::string* error = nullptr);
  /// 48 lower-case hex digits: the `bcid` column of the RKS database.
  std::string hex() const;

  friend bool operator==(const bcid& a, const bcid& b) { return a.encode() == b.encode(); }
  friend bool operator!=(const bcid& a, const bcid& b) { return !(a == b); }
};

} // namespace cms::radius
