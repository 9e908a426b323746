#pragma once
// The two digests RADIUS needs, through OpenSSL 3 EVP (the legacy MD5()/HMAC() calls are
// deprecated there): MD5 for Request/Response Authenticators (RFC 2866 section 3) and HMAC-MD5
// for Message-Authenticator (RFC 3579 section 3.2), which FreeRADIUS requires on Status-Server.

#include "runtime/radius/bytes.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace cms::radius {

using digest16 = std::array<std::uint8_t, 16>;

/// MD5 over the concatenation of `parts` (avoids building a temporary buffer per packet).
digest16 md5(std::initializer_list<byte_view> parts);
digest16 hmac_md5(std::string_view key, byte_view data);

/// Constant-time comparison, so that a forger learns nothing from response timing.
bool equal_digest(byte_view a, byte_view b);

/// 16 octets from the OpenSSL CSPRNG (Status-Server Request Authenticator, RFC 2865 3).
digest16 random_authenticator();

} // namespace cms::radius
