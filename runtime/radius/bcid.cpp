#include "runtime/radius/bcid.hpp"

#include <cstdio>
#include <stdexcept>

namespace cms::radius {

namespace {

bool printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e)
      return false;
  return true;
}

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

} // namespace

std::string format_element_id(std::string_view id) {
  if (id.size() > 8)
    throw std::invalid_argument("element id longer than 8 characters: " + std::string(id));
  if (!printable(id))
    throw std::invalid_argument("element id is not printable ASCII");
  return std::string(8 - id.size(), ' ') + std::string(id);
}

std::string format_time_zone(bool dst, int utc_offset_seconds) {
  int magnitude = utc_offset_seconds < 0 ? -utc_offset_seconds : utc_offset_seconds;
  if (magnitude >= 24 * 3600)
    throw std::invalid_argument("time zone offset out of range");
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%c%02d%02d%02d", dst ? '1' : '0',
                utc_offset_seconds < 0 ? '-' : '+', magnitude / 3600, (magnitude / 60) % 60,
                magnitude % 60);
  return buf;
}

bool valid_time_zone(std::string_view tz) {
  return tz.size() == 8 && (tz[0] == '0' || tz[0] == '1') && (tz[1] == '+' || tz[1] == '-') &&
         digits(tz.substr(2));
}

void bcid::encode_to(bytes& out) const {
  if (!valid_time_zone(time_zone))
    throw std::invalid_argument("BCID time zone must look like 0+000000: " + time_zone);
  put_u32(out, timestamp);
  put_ascii(out, format_element_id(element_id));
  put_ascii(out, time_zone);
  put_u32(out, event_counter);
}

std::array<std::uint8_t, bcid_size> bcid::encode() const {
  bytes tmp;
  tmp.reserve(bcid_size);
  encode_to(tmp);
  std::array<std::uint8_t, bcid_size> out{};
  std::copy(tmp.begin(), tmp.end(), out.begin());
  return out;
}

std::optional<bcid> bcid::decode(byte_view data, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<bcid> {
    if (error)
      *error = why;
    return std::nullopt;
  };
  if (data.size() != bcid_size)
    return fail("BCID is not 24 octets");
  bcid out;
  out.timestamp = get_u32(data.data());
  out.element_id = get_ascii(data.data() + 4, 8);
  out.time_zone = get_ascii(data.data() + 12, 8);
  out.event_counter = get_u32(data.data() + 20);
  if (!printable(out.element_id) || !printable(out.time_zone))
    return fail("BCID ASCII field holds a non-printable octet");
  return out;
}

std::string bcid::hex() const {
  auto raw = encode();
  return to_hex(byte_view{raw.data(), raw.size()});
}

} // namespace cms::radius
