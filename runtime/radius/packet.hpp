#pragma once
// RADIUS packets (RFC 2865/2866, Status-Server RFC 5997): encoding with the right authenticator
// and a strict, bounds-checked decoder. A malformed datagram yields an error, never a read past
// its end: the RKS link is an untrusted network input.

#include "runtime/radius/bytes.hpp"
#include "runtime/radius/crypto.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::radius {

enum class code : std::uint8_t {
  access_request = 1,
  access_accept = 2,
  access_reject = 3,
  accounting_request = 4,
  accounting_response = 5,
  status_server = 12,
};

/// Standard attribute numbers this stack writes or checks.
namespace attr_type {
inline constexpr std::uint8_t nas_ip_address = 4;
inline constexpr std::uint8_t vendor_specific = 26;
inline constexpr std::uint8_t acct_status_type = 40;
inline constexpr std::uint8_t acct_session_id = 44;
inline constexpr std::uint8_t message_authenticator = 80;
} // namespace attr_type

/// Acct-Status-Type values (RFC 2866 5.1).
enum class acct_status : std::uint32_t { start = 1, stop = 2, interim_update = 3 };

inline constexpr std::size_t header_size = 20;
inline constexpr std::size_t max_packet_size = 4096; ///< RFC 2865 section 3

struct attribute {
  std::uint8_t type = 0;
  bytes value; ///< 0..253 octets
  friend bool operator==(const attribute& a, const attribute& b) {
    return a.type == b.type && a.value == b.value;
  }
};

struct packet {
  code packet_code = code::accounting_request;
  std::uint8_t identifier = 0;
  digest16 authenticator{};
  std::vector<attribute> attributes;

  /// First attribute of `type`, or nullptr.
  const attribute* find(std::uint8_t type) const;
};

/// Vendor-Specific (26) with one sub-attribute: vendor id 4, vendor type 1, vendor length 1.
attribute make_vsa(std::uint32_t vendor, std::uint8_t vendor_type, byte_view value);
attribute make_u32(std::uint8_t type, std::uint32_t value);
attribute make_string(std::uint8_t type, std::string_view value);

/// Accounting-Request: Request Authenticator = MD5(code+id+len+16 zero octets+attrs+secret)
/// (RFC 2866 3). Throws std::invalid_argument when an attribute or the packet is too long.
bytes encode_accounting_request(std::uint8_t identifier, const std::vector<attribute>& attrs,
                                std::string_view secret);

/// Status-Server (RFC 5997): random Request Authenticator and a Message-Authenticator
/// (HMAC-MD5 over the packet with that attribute zeroed, RFC 3579 3.2), which FreeRADIUS requires.
bytes encode_status_server(std::uint8_t identifier, const digest16& request_authenticator,
                           std::string_view secret);

/// A reply (Accounting-Response, Access-Accept, ...): Response Authenticator =
/// MD5(code+id+len+request authenticator+attrs+secret). `add_message_authenticator` appends
/// attribute 80 first (computed with the request authenticator in place). Used by test responders.
bytes encode_response(code c, std::uint8_t identifier, const digest16& request_authenticator,
                      const std::vector<attribute>& attrs, std::string_view secret,
                      bool add_message_authenticator = false);

/// Strict decode: header length field within [20, 4096] and <= datagram (trailing octets beyond
/// the length field are ignored, as RFC 2865 3 says), every attribute length >= 2 and inside the
/// packet, Message-Authenticator exactly 16 octets. nullopt and *error otherwise.
std::optional<packet> decode(byte_view datagram, std::string* error = nullptr);

/// True when `response` (already decoded or not) carries a valid Response Authenticator for the
/// request whose authenticator was `request_authenticator`, and, if it has a Message-Authenticator,
/// a valid one too.
bool verify_response(byte_view response, const digest16& request_authenticator,
                     std::string_view secret);

/// True when an Accounting-Request's Request Authenticator matches `secret` (what the RKS checks).
bool verify_accounting_request(byte_view request, std::string_view secret);

/// True when a request's Message-Authenticator (if present: `required` says if it must be)
/// is valid; a Status-Server without one is refused by FreeRADIUS.
bool verify_message_authenticator(byte_view request, std::string_view secret, bool required);

/// The Request Authenticator field (octets 4..19) of an encoded packet.
digest16 authenticator_of(byte_view encoded);

} // namespace cms::radius
