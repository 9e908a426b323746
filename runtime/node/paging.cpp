#include "runtime/node/paging.hpp"

#include <charconv>

namespace cms {

namespace {

bool parse_size(const std::string& text, std::size_t& out) {
  if (text.empty() || text.size() > 9)
    return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

bool field_matches(const boost::json::object& item, const std::string& key,
                   const std::string& want) {
  auto* v = item.if_contains(key);
  if (!v)
    return false;
  if (v->is_string())
    return v->as_string() == want;
  if (v->is_bool())
    return (v->as_bool() ? "true" : "false") == want;
  if (v->is_number())
    return boost::json::serialize(*v) == want;
  return false;
}

} // namespace

std::optional<page_request> parse_paging(const http::request& req, http::response& error) {
  page_request p;
  auto offset = req.query.find("offset");
  if (offset != req.query.end() && !parse_size(offset->second, p.offset)) {
    error = http::json_error(400, "offset must be a non-negative integer");
    return std::nullopt;
  }
  auto limit = req.query.find("limit");
  if (limit != req.query.end()) {
    if (!parse_size(limit->second, p.limit)) {
      error = http::json_error(400, "limit must be a non-negative integer");
      return std::nullopt;
    }
    if (p.limit > max_page_limit) {
      error = http::json_error(400, "limit must be at most " + std::to_string(max_page_limit));
      return std::nullopt;
    }
  }
  return p;
}

boost::json::object make_page(boost::json::array items, const page_request& page,
                              const http::param_map& filters) {
  boost::json::array kept;
  for (auto& item : items) {
    if (!item.is_object())
      continue;
    bool ok = true;
    for (auto& [key, want] : filters) {
      if (key == "offset" || key == "limit")
        continue;
      if (!field_matches(item.as_object(), key, want)) {
        ok = false;
        break;
      }
    }
    if (ok)
      kept.push_back(std::move(item));
  }
  boost::json::array out;
  for (std::size_t i = page.offset; i < kept.size() && out.size() < page.limit; ++i)
    out.push_back(std::move(kept[i]));
  return {{"items", std::move(out)},
          {"total", kept.size()},
          {"offset", page.offset},
          {"limit", page.limit}};
}

} // namespace cms
