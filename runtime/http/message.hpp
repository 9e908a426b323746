#pragma once
// The request and response as handlers see them: plain values, independent of Beast's parser types,
// so that a handler can move a response across threads (answers come back from actor threads).

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cms::http {

using verb = boost::beast::http::verb;

/// Header names compare case-insensitively (RFC 9110 section 5.1).
struct ci_less {
  bool operator()(std::string_view a, std::string_view b) const noexcept;
  using is_transparent = void;
};

using header_map = std::map<std::string, std::string, ci_less>;
using param_map = std::map<std::string, std::string>;

struct request {
  verb method = verb::unknown;
  std::string method_name; ///< as sent, e.g. "GET"
  std::string target;      ///< raw request-target, e.g. "/calls?limit=10"
  std::string path;        ///< percent-decoded path without the query, e.g. "/calls"
  param_map query;         ///< decoded query parameters; a repeated key keeps its last value
  param_map params;        ///< values of "{name}" route segments; "*" holds a prefix route's rest
  header_map headers;      ///< repeated fields are joined with ", "
  std::string body;
  std::string remote_address;
  std::uint16_t remote_port = 0;
  unsigned version = 11; ///< 10 or 11

  /// Value of a header, or nullopt when absent (name compared case-insensitively).
  std::optional<std::string> header(std::string_view name) const;
  /// Query parameter or a default.
  std::string query_param(const std::string& name, const std::string& fallback = {}) const;
  /// Route parameter ("{id}") or empty.
  std::string param(const std::string& name) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< extra header fields
  /// Not sent: when set, the server counts this response in cms_http_errors_total{reason=...}.
  /// Lets wrappers such as require_bearer say why they refused without owning the registry.
  std::string error_reason;
};

/// Answers a request. May be called from any thread, exactly once; later calls are ignored.
using respond_fn = std::function<void(response)>;
/// Handlers run on the connection's strand and must not block: fetch data asynchronously (e.g.
/// ask an actor) and call respond from wherever the answer arrives.
using handler = std::function<void(const request&, respond_fn)>;

response json_response(unsigned status, const boost::json::value& body);
response text_response(unsigned status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
/// The one error shape of the API: {"error": {"status": N, "message": "..."}}.
response json_error(unsigned status, std::string_view message);

/// Standard reason phrase ("Not Found"), or "Unknown".
std::string_view reason_phrase(unsigned status);

} // namespace cms::http
