#pragma once
// Maps (method, path) to a handler. Patterns are exact ("/status"), with named segments
// ("/calls/{id}") or a trailing prefix wildcard ("/static/*", rest in params["*"]). The most specific
// pattern wins: more literal segments first, then more named segments, then non-wildcard.

#include "runtime/http/message.hpp"

#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cms::http {

class router {
public:
  enum class outcome { found, not_found, method_not_allowed };

  struct match_result {
    outcome result = outcome::not_found;
    handler target;
    param_map params;
    std::string allow; ///< for method_not_allowed: "GET, HEAD, POST"
  };

  /// Throws std::invalid_argument for a malformed pattern or a duplicate (method, pattern).
  /// Safe to call while the server runs (the node adds routes as its actors come up).
  void add(verb method, const std::string& pattern, handler h);

  /// HEAD falls back to the GET route of the same path when no HEAD route exists.
  match_result match(verb method, std::string_view path) const;

private:
  struct segment {
    bool is_param = false;
    std::string text; ///< literal text, or the parameter name
  };
  struct route {
    verb method;
    std::string pattern;
    std::vector<segment> segments;
    bool prefix = false; ///< pattern ended in "/*"
    handler target;
  };
  struct score {
    int literals = 0;
    int params = 0;
    int exact = 0;
    bool operator<(const score& o) const;
  };

  static bool try_match(const route& r, const std::vector<std::string_view>& parts,
                        param_map& params, score& s);

  mutable std::shared_mutex mutex_;
  std::vector<route> routes_;
};

} // namespace cms::http
