#include "runtime/radius/packet.hpp"

#include <algorithm>
#include <stdexcept>

namespace cms::radius {

namespace {

constexpr std::size_t max_attribute_value = 253;

void append_attribute(bytes& out, const attribute& a) {
  if (a.value.size() > max_attribute_value)
    throw std::invalid_argument("RADIUS attribute value longer than 253 octets");
  out.push_back(a.type);
  out.push_back(static_cast<std::uint8_t>(a.value.size() + 2));
  out.insert(out.end(), a.value.begin(), a.value.end());
}

/// Header with a zero authenticator and the attributes; the length field is set at the end.
bytes assemble(code c, std::uint8_t identifier, const std::vector<attribute>& attrs) {
  bytes out(header_size, 0);
  out[0] = static_cast<std::uint8_t>(c);
  out[1] = identifier;
  for (const auto& a : attrs)
    append_attribute(out, a);
  if (out.size() > max_packet_size)
    throw std::invalid_argument("RADIUS packet longer than 4096 octets");
  out[2] = static_cast<std::uint8_t>(out.size() >> 8);
  out[3] = static_cast<std::uint8_t>(out.size());
  return out;
}

byte_view view(const bytes& b) { return byte_view{b.data(), b.size()}; }

/// Offset of the value of the first Message-Authenticator in an encoded packet whose attributes
/// were already checked by decode(), or 0 when there is none.
std::size_t message_authenticator_offset(byte_view p) {
  std::size_t length = get_u16(p.data() + 2);
  std::size_t off = header_size;
  while (off + 2 <= length) {
    std::size_t alen = p[off + 1];
    if (p[off] == attr_type::message_authenticator && alen == 18)
      return off + 2;
    off += alen;
  }
  return 0;
}

/// HMAC-MD5 over `p` (its length-field octets) with the authenticator field set to `auth` and
/// the Message-Authenticator value zeroed.
digest16 compute_message_authenticator(byte_view p, std::size_t value_off, const digest16& auth,
                                       std::string_view secret) {
  std::size_t length = get_u16(p.data() + 2);
  bytes copy(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(length));
  std::copy(auth.begin(), auth.end(), copy.begin() + 4);
  std::fill(copy.begin() + static_cast<std::ptrdiff_t>(value_off),
            copy.begin() + static_cast<std::ptrdiff_t>(value_off + 16), 0);
  return hmac_md5(secret, view(copy));
}

} // namespace

const attribute* packet::find(std::uint8_t type) const {
  for (const auto& a : attributes)
    if (a.type == type)
      return &a;
  return nullptr;
}

attribute make_vsa(std::uint32_t vendor, std::uint8_t vendor_type, byte_view value) {
  if (value.size() > 247)
    throw std::invalid_argument("vendor attribute value longer than 247 octets");
  attribute a{attr_type::vendor_specific, {}};
  put_u32(a.value, vendor);
  put_u8(a.value, vendor_type);
  put_u8(a.value, static_cast<std::uint8_t>(value.size() + 2));
  a.value.insert(a.value.end(), value.begin(), value.end());
  return a;
}

attribute make_u32(std::uint8_t type, std::uint32_t value) {
  attribute a{type, {}};
  put_u32(a.value, value);
  return a;
}

attribute make_string(std::uint8_t type, std::string_view value) {
  return attribute{type, bytes(value.begin(), value.end())};
}

bytes encode_accounting_request(std::uint8_t identifier, const std::vector<attribute>& attrs,
                                std::string_view secret) {
  bytes out = assemble(code::accounting_request, identifier, attrs);
  auto digest = md5(
    {view(out), byte_view{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}});
  std::copy(digest.begin(), digest.end(), out.begin() + 4);
  return out;
}

bytes encode_status_server(std::uint8_t identifier, const digest16& request_authenticator,
                           std::string_view secret) {
  std::vector<attribute> attrs{attribute{attr_type::message_authenticator, bytes(16, 0)}};
  bytes out = assemble(code::status_server, identifier, attrs);
  std::copy(request_authenticator.begin(), request_authenticator.end(), out.begin() + 4);
  auto mac = hmac_md5(secret, view(out));
  std::copy(mac.begin(), mac.end(), out.begin() + header_size + 2);
  return out;
}

bytes encode_response(code c, std::uint8_t identifier, const digest16& request_authenticator,
                      const std::vector<attribute>& attrs, std::string_view secret,
                      bool add_message_authenticator) {
  std::vector<attribute> all;
  if (add_message_authenticator)
    all.push_back(attribute{attr_type::message_authenticator, bytes(16, 0)});
  all.insert(all.end(), attrs.begin(), attrs.end());
  bytes out = assemble(c, identifier, all);
  std::copy(request_authenticator.begin(), request_authenticator.end(), out.begin() + 4);
  if (add_message_authenticator) {
    auto mac = hmac_md5(secret, view(out));
    std::copy(mac.begin(), mac.end(), out.begin() + header_size + 2);
  }
  auto digest = md5(
    {view(out), byte_view{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}});
  std::copy(digest.begin(), digest.end(), out.begin() + 4);
  return out;
}

std::optional<packet> decode(byte_view datagram, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<packet> {
    if (error)
      *error = why;
    return std::nullopt;
  };
  if (datagram.size() < header_size)
    return fail("shorter than the 20-octet header");
  std::size_t length = get_u16(datagram.data() + 2);
  if (length < header_size || length > max_packet_size)
    return fail("length field outside 20..4096");
  if (length > datagram.size())
    return fail("length field exceeds the datagram");
  packet p;
  p.packet_code = static_cast<code>(datagram[0]);
  p.identifier = datagram[1];
  std::copy(datagram.begin() + 4, datagram.begin() + 20, p.authenticator.begin());
  std::size_t off = header_size;
  while (off < length) {
    if (off + 2 > length)
      return fail("attribute header truncated");
    std::size_t alen = datagram[off + 1];
    if (alen < 2)
      return fail("attribute length below 2");
    if (off + alen > length)
      return fail("attribute runs past the packet length");
    attribute a{datagram[off], bytes(datagram.begin() + static_cast<std::ptrdiff_t>(off + 2),
                                     datagram.begin() + static_cast<std::ptrdiff_t>(off + alen))};
    if (a.type == attr_type::message_authenticator && a.value.size() != 16)
      return fail("Message-Authenticator is not 16 octets");
    p.attributes.push_back(std::move(a));
    off += alen;
  }
  return p;
}

digest16 authenticator_of(byte_view encoded) {
  digest16 out{};
  if (encoded.size() >= header_size)
    std::copy(encoded.begin() + 4, encoded.begin() + 20, out.begin());
  return out;
}

bool verify_response(byte_view response, const digest16& request_authenticator,
                     std::string_view secret) {
  if (!decode(response))
    return false;
  std::size_t length = get_u16(response.data() + 2);
  bytes copy(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(length));
  std::copy(request_authenticator.begin(), request_authenticator.end(), copy.begin() + 4);
  auto expected = md5(
    {view(copy), byte_view{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}});
  if (!equal_digest(byte_view{expected.data(), 16}, response.subspan(4, 16)))
    return false;
  if (auto off = message_authenticator_offset(response)) {
    auto mac = compute_message_authenticator(response, off, request_authenticator, secret);
    if (!equal_digest(byte_view{mac.data(), 16}, response.subspan(off, 16)))
      return false;
  }
  return true;
}

bool verify_accounting_request(byte_view request, std::string_view secret) {
  auto p = decode(request);
  if (!p || p->packet_code != code::accounting_request)
    return false;
  std::size_t length = get_u16(request.data() + 2);
  bytes copy(request.begin(), request.begin() + static_cast<std::ptrdiff_t>(length));
  std::fill(copy.begin() + 4, copy.begin() + 20, 0);
  auto expected = md5(
    {view(copy), byte_view{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}});
  return equal_digest(byte_view{expected.data(), 16}, request.subspan(4, 16));
}

bool verify_message_authenticator(byte_view request, std::string_view secret, bool required) {
  if (!decode(request))
    return false;
  auto off = message_authenticator_offset(request);
  if (!off)
    return !required;
  auto mac = compute_message_authenticator(request, off, authenticator_of(request), secret);
  return equal_digest(byte_view{mac.data(), 16}, request.subspan(off, 16));
}

} // namespace cms::radius
