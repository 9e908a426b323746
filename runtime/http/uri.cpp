#include "runtime/http/uri.hpp"

namespace cms::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size())
        return std::nullopt;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0')
        return std::nullopt;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<parsed_target> parse_target(std::string_view target) {
  // Absolute-form must be accepted by HTTP/1.1 servers (RFC 9112 section 3.2.2); the authority is
  // ignored because this server has a single origin.
  for (std::string_view scheme : {std::string_view{"http://"}, std::string_view{"https://"}}) {
    if (target.size() >= scheme.size() && target.substr(0, scheme.size()) == scheme) {
      auto slash = target.find_first_of("/?", scheme.size());
      target = slash == std::string_view::npos ? std::string_view{"/"} : target.substr(slash);
      if (!target.empty() && target.front() == '?')
        return std::nullopt;
      break;
    }
  }
  if (target.empty() || target.front() != '/')
    return std::nullopt;
  auto hash = target.find('#');
  if (hash != std::string_view::npos)
    target = target.substr(0, hash);

  parsed_target out;
  auto qmark = target.find('?');
  auto raw_path = target.substr(0, qmark);
  auto path = percent_decode(raw_path, false);
  if (!path)
    return std::nullopt;
  out.path = std::move(*path);

  if (qmark != std::string_view::npos) {
    auto query = target.substr(qmark + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      auto pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      if (pair.empty())
        continue;
      auto eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = eq == std::string_view::npos ? std::optional<std::string>{std::string{}}
                                                : percent_decode(pair.substr(eq + 1), true);
      if (!key || !value)
        return std::nullopt;
      out.query[std::move(*key)] = std::move(*value);
    }
  }
  return out;
}

} // namespace cms::http
