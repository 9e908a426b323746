#include "runtime/mgcp/endpoint_name.hpp"

#include "runtime/mgcp/text.hpp"

namespace cms::mgcp {

namespace {

bool is_wild(const std::string& t) noexcept { return t == "*" || t == "$"; }

/// Printable ASCII except the characters with a meaning in endpoint names and white space.
bool valid_term_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '/' && c != '@' && c != '*' && c != '$' && c != ':';
}

void set(std::string* why, const char* msg) {
  if (why)
    *why = msg;
}

} // namespace

bool endpoint_name::wildcarded() const noexcept { return all_of() || any_of(); }

bool endpoint_name::all_of() const noexcept {
  for (const auto& t : terms)
    if (t == "*")
      return true;
  return false;
}

bool endpoint_name::any_of() const noexcept {
  for (const auto& t : terms)
    if (t == "$")
      return true;
  return false;
}

std::string endpoint_name::local_name() const {
  std::string r;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (i)
      r += '/';
    r += terms[i];
  }
  return r;
}

std::string endpoint_name::to_string() const { return local_name() + "@" + domain; }

bool endpoint_name::same_as(const endpoint_name& other) const noexcept {
  if (terms.size() != other.terms.size() || !text::iequals(domain, other.domain))
    return false;
  for (std::size_t i = 0; i < terms.size(); ++i)
    if (!text::iequals(terms[i], other.terms[i]))
      return false;
  return true;
}

bool endpoint_name::covers(const endpoint_name& concrete) const noexcept {
  if (!text::iequals(domain, concrete.domain))
    return false;
  // A trailing "*" also covers deeper names ("ds/*" covers "ds/ds1-1/1"), as gateways expand it.
  std::size_t n = terms.size();
  bool open_end = n > 0 && terms.back() == "*";
  if (concrete.terms.size() < n || (!open_end && concrete.terms.size() != n))
    return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (is_wild(terms[i]))
      continue;
    if (!text::iequals(terms[i], concrete.terms[i]))
      return false;
  }
  return true;
}

bool valid_domain_name(std::string_view d) noexcept {
  if (d.empty() || d.size() > max_domain_name)
    return false;
  if (d.front() == '[') {
    if (d.size() < 3 || d.back() != ']')
      return false;
    auto inner = d.substr(1, d.size() - 2);
    bool v6 = inner.find(':') != std::string_view::npos;
    for (char c : inner) {
      if (v6 ? !(text::is_hex(c) || c == ':' || c == '.') : !(text::is_digit(c) || c == '.'))
        return false;
    }
    if (!v6) {
      auto parts = text::split(inner, '.');
      if (parts.size() != 4)
        return false;
      for (auto p : parts)
        if (!text::parse_uint(p, 3, 255))
          return false;
    }
    return true;
  }
  if (d.front() == '#')
    return text::parse_uint(d.substr(1), 10).has_value();
  for (char c : d)
    if (!(text::is_alnum(c) || c == '.' || c == '-' || c == '_'))
      return false;
  return true;
}

std::optional<endpoint_name> parse_endpoint_name(std::string_view text, std::string* why) {
  auto at = text.rfind('@');
  if (at == std::string_view::npos) {
    set(why, "endpoint name has no '@'");
    return std::nullopt;
  }
  auto local = text.substr(0, at);
  auto domain = text.substr(at + 1);
  if (local.empty()) {
    set(why, "empty local endpoint name");
    return std::nullopt;
  }
  if (local.size() > max_local_name) {
    set(why, "local endpoint name too long");
    return std::nullopt;
  }
  if (!valid_domain_name(domain)) {
    set(why, "bad endpoint domain name");
    return std::nullopt;
  }
  endpoint_name e;
  e.domain = std::string(domain);
  for (auto t : text::split(local, '/')) {
    if (t.empty()) {
      set(why, "empty term in local endpoint name");
      return std::nullopt;
    }
    if (t != "*" && t != "$") {
      for (char c : t) {
        if (!valid_term_char(c)) {
          set(why, "bad character in local endpoint name (wildcards must be whole terms)");
          return std::nullopt;
        }
      }
    }
    e.terms.emplace_back(t);
  }
  return e;
}

} // namespace cms::mgcp
