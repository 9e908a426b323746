#include "runtime/http/message.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>

namespace cms::http {

bool ci_less::operator()(std::string_view a, std::string_view b) const noexcept {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::optional<std::string> request::header(std::string_view name) const {
  auto it = headers.find(name);
  if (it == headers.end())
    return std::nullopt;
  return it->second;
}

std::string request::query_param(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

std::string request::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string{} : it->second;
}

response json_response(unsigned status, const boost::json::value& body) {
  response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = boost::json::serialize(body);
  return r;
}

response text_response(unsigned status, std::string body, std::string content_type) {
  response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

response json_error(unsigned status, std::string_view message) {
  boost::json::object inner;
  inner["status"] = status;
  inner["message"] = message;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return json_response(status, outer);
}

std::string_view reason_phrase(unsigned status) {
  auto s = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  if (s.empty())
    return "Unknown";
  return {s.data(), s.size()};
}

} // namespace cms::http
