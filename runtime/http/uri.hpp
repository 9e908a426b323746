#pragma once
// Request-target parsing: path and query, percent-decoding. Pure functions so that hostile input
// can be unit-tested without a socket.

#include "runtime/http/message.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace cms::http {

struct parsed_target {
  std::string path; ///< percent-decoded, always starts with '/'
  param_map query;
};

/// Decodes %XX escapes; with plus_is_space also '+' (query components). nullopt on a malformed
/// escape or a decoded NUL byte, which no legitimate path or parameter contains.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

/// Splits an origin-form ("/a/b?x=1") or absolute-form ("http://host/a?x=1") target.
/// nullopt when the target is neither or holds a malformed escape.
std::optional<parsed_target> parse_target(std::string_view target);

} // namespace cms::http
