#pragma once
// Byte-buffer helpers shared by the RADIUS/EM encoders: big-endian (network order) integers, as
// every RADIUS and PacketCable field is.

#include <boost/core/span.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cms::radius {

using bytes = std::vector<std::uint8_t>;
/// Read-only view of received or encoded octets (C++17 has no std::span).
using byte_view = boost::span<const std::uint8_t>;

inline void put_u8(bytes& out, std::uint8_t v) { out.push_back(v); }
inline void put_u16(bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_u32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void put_u64(bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void put_ascii(bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

/// Callers check the size first; these only assemble the integer.
inline std::uint16_t get_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t get_u64(const std::uint8_t* p) {
  return (std::uint64_t{get_u32(p)} << 32) | get_u32(p + 4);
}
inline std::string get_ascii(const std::uint8_t* p, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

/// Lower-case hex, the form the RKS database and the logs use for BCIDs.
std::string to_hex(byte_view data);

} // namespace cms::radius
