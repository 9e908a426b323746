#include "runtime/http/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>

namespace cms::http {

namespace {

using digest = std::array<unsigned char, EVP_MAX_MD_SIZE>;

bool sha256(std::string_view in, digest& out, unsigned& len) {
  return EVP_Digest(in.data(), in.size(), out.data(), &len, EVP_sha256(), nullptr) == 1;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

response challenge(std::string_view message, const char* error) {
  auto r = json_error(401, message);
  std::string value = std::string("Bearer realm=\"") + auth_realm + "\"";
  if (error)
    value += std::string(", error=\"") + error + "\"";
  r.headers.emplace_back("WWW-Authenticate", value);
  r.error_reason = "auth_missing";
  return r;
}

} // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  digest da{}, db{};
  unsigned la = 0, lb = 0;
  if (!sha256(a, da, la) || !sha256(b, db, lb) || la != lb)
    return false;
  return CRYPTO_memcmp(da.data(), db.data(), la) == 0;
}

handler require_bearer(std::string token, handler inner) {
  return
    [token = std::move(token), inner = std::move(inner)](const request& req, respond_fn respond) {
      auto header = req.header("Authorization");
      if (!header) {
        respond(challenge("authentication required: send Authorization: Bearer <token>", nullptr));
        return;
      }
      std::string_view value = *header;
      if (!iequals_prefix(value, "Bearer ")) {
        respond(challenge("authentication required: only Bearer credentials are accepted",
                          "invalid_request"));
        return;
      }
      value.remove_prefix(7);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      if (value.empty()) {
        respond(challenge("authentication required: empty bearer token", "invalid_request"));
        return;
      }
      if (token.empty() || !constant_time_equal(value, token)) {
        auto r = json_error(403, token.empty() ? "admin actions are disabled (no token configured)"
                                               : "invalid bearer token");
        r.error_reason = "auth_rejected";
        respond(std::move(r));
        return;
      }
      inner(req, std::move(respond));
    };
}

bearer_guard require_bearer(std::string token) { return bearer_guard(std::move(token)); }

} // namespace cms::http
