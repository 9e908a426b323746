#include "runtime/http/router.hpp"

#include <boost/beast/http/verb.hpp>

#include <mutex>
#include <set>
#include <stdexcept>
#include <tuple>

namespace cms::http {

namespace {

/// "/a/b" -> {"a","b"}; "/" -> {}; "/a/" -> {"a",""} (a trailing slash is a distinct path).
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.size() <= 1)
    return parts;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos)
      break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

} // namespace

bool router::score::operator<(const score& o) const {
  return std::tie(literals, params, exact) < std::tie(o.literals, o.params, o.exact);
}

void router::add(verb method, const std::string& pattern, handler h) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("http route pattern must start with '/': '" + pattern + "'");
  if (!h)
    throw std::invalid_argument("http route without handler: '" + pattern + "'");
  route r{method, pattern, {}, false, std::move(h)};
  auto parts = split_path(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto p = parts[i];
    if (p == "*") {
      if (i + 1 != parts.size())
        throw std::invalid_argument("http route '*' must be the last segment: '" + pattern + "'");
      r.prefix = true;
    } else if (!p.empty() && p.front() == '{') {
      if (p.size() < 3 || p.back() != '}')
        throw std::invalid_argument("http route has a malformed parameter: '" + pattern + "'");
      r.segments.push_back({true, std::string(p.substr(1, p.size() - 2))});
    } else {
      r.segments.push_back({false, std::string(p)});
    }
  }
  std::unique_lock lock(mutex_);
  for (const auto& existing : routes_)
    if (existing.method == method && existing.pattern == pattern)
      throw std::invalid_argument(
        "http route registered twice: " + std::string(boost::beast::http::to_string(method)) + " " +
        pattern);
  routes_.push_back(std::move(r));
}

bool router::try_match(const route& r, const std::vector<std::string_view>& parts,
                       param_map& params, score& s) {
  if (r.prefix ? parts.size() < r.segments.size() : parts.size() != r.segments.size())
    return false;
  s = score{};
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    const auto& seg = r.segments[i];
    if (seg.is_param) {
      if (parts[i].empty())
        return false;
      params[seg.text] = std::string(parts[i]);
      ++s.params;
    } else {
      if (parts[i] != seg.text)
        return false;
      ++s.literals;
    }
  }
  if (r.prefix) {
    std::string rest;
    for (std::size_t i = r.segments.size(); i < parts.size(); ++i) {
      if (i > r.segments.size())
        rest.push_back('/');
      rest.append(parts[i]);
    }
    params["*"] = std::move(rest);
  } else {
    s.exact = 1;
  }
  return true;
}

router::match_result router::match(verb method, std::string_view path) const {
  auto parts = split_path(path);
  match_result out;
  std::set<std::string> allowed;
  const route* best = nullptr;
  score best_score;
  param_map best_params;
  bool best_is_head_fallback = false;

  std::shared_lock lock(mutex_);
  for (const auto& r : routes_) {
    param_map params;
    score s;
    if (!try_match(r, parts, params, s))
      continue;
    allowed.insert(std::string(boost::beast::http::to_string(r.method)));
    if (r.method == verb::get)
      allowed.insert("HEAD");
    bool direct = r.method == method;
    bool head_fallback = method == verb::head && r.method == verb::get;
    if (!direct && !head_fallback)
      continue;
    // A real HEAD route beats the GET fallback of the same specificity.
    bool better = !best || best_score < s || (!(s < best_score) && best_is_head_fallback && direct);
    if (better) {
      best = &r;
      best_score = s;
      best_params = std::move(params);
      best_is_head_fallback = !direct;
    }
  }
  if (best) {
    out.result = outcome::found;
    out.target = best->target;
    out.params = std::move(best_params);
    return out;
  }
  if (allowed.empty()) {
    out.result = outcome::not_found;
    return out;
  }
  out.result = outcome::method_not_allowed;
  for (const auto& m : allowed) {
    if (!out.allow.empty())
      out.allow += ", ";
    out.allow += m;
  }
  return out;
}

} // namespace cms::http
