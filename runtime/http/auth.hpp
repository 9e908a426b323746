#pragma once
// Bearer-token protection for admin routes (RFC 6750 header syntax): no or non-Bearer credentials
// get 401 with a WWW-Authenticate challenge, a wrong token gets 403. The comparison takes the same
// time whatever the token, so the secret cannot be guessed byte by byte from response times.

#include "runtime/http/message.hpp"

#include <string>
#include <string_view>

namespace cms::http {

inline constexpr const char* auth_realm = "cmsd";

/// Wraps inner so that it only runs for requests bearing token. An empty token refuses every
/// request with 403 (admin actions disabled by configuration).
handler require_bearer(std::string token, handler inner);

/// The same as a reusable decorator: `auto admin = require_bearer(tok); add_route(..., admin(h));`
class bearer_guard {
public:
  explicit bearer_guard(std::string token) : token_(std::move(token)) {}
  handler operator()(handler inner) const { return require_bearer(token_, std::move(inner)); }

private:
  std::string token_;
};
bearer_guard require_bearer(std::string token);

/// Equality in time independent of where the strings differ (SHA-256 of both, then a
/// constant-time comparison of the digests, so the length does not leak either).
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace cms::http
