#pragma once
// Paging of collections as docs/http-api.md states it: ?offset (default 0) and ?limit (default
// 100, at most 1000); anything else is a 400. Answers {"items":[...],"total":N,"offset":O,"limit":L}.
// Filters: ?<field>=<value> keeps items whose string field equals value.

#include "runtime/http/message.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace cms {

struct page_request {
  std::size_t offset = 0;
  std::size_t limit = 100;
};

inline constexpr std::size_t default_page_limit = 100;
inline constexpr std::size_t max_page_limit = 1000;

/// The paging of `req`, or the 400 to answer (in `error`) when a parameter is bad.
std::optional<page_request> parse_paging(const http::request& req, http::response& error);

/// Keeps the items whose field named like a query parameter (other than offset/limit) equals its
/// value, then cuts the page. Items must be JSON objects.
boost::json::object make_page(boost::json::array items, const page_request& page,
                              const http::param_map& filters = {});

} // namespace cms
