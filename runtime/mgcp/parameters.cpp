#include "runtime/mgcp/parameters.hpp"

#include "runtime/mgcp/endpoint_name.hpp"
#include "runtime/mgcp/text.hpp"

#include <array>

namespace cms::mgcp {

namespace {

constexpr std::array<std::string_view, 11> mode_names{
  "sendonly", "recvonly", "sendrecv", "inactive", "confrnce", "loopback",
  "conttest", "netwloop", "netwtest", "replcate", "data"};

constexpr std::array<std::string_view, 5> restart_names{"restart", "forced", "graceful",
                                                        "disconnected", "cancel-graceful"};

constexpr std::uint32_t max_tid = 999999999;

std::optional<std::uint32_t> parse_tid(std::string_view s) noexcept {
  auto v = text::parse_uint(text::trim(s), 9, max_tid);
  if (!v || *v == 0)
    return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

} // namespace

bool is_extension_value(std::string_view s) noexcept {
  if (s.size() > 2 && (s[0] == 'X' || s[0] == 'x') && (s[1] == '-' || s[1] == '+'))
    return true;
  auto slash = s.find('/');
  return slash != std::string_view::npos && slash > 0 && slash + 1 < s.size();
}

std::optional<connection_mode> parse_connection_mode(std::string_view s) noexcept {
  s = text::trim(s);
  for (std::size_t i = 0; i < mode_names.size(); ++i)
    if (text::iequals(s, mode_names[i]))
      return static_cast<connection_mode>(i);
  return std::nullopt;
}

std::string_view to_string(connection_mode m) noexcept {
  auto i = static_cast<std::size_t>(m);
  return i < mode_names.size() ? mode_names[i] : std::string_view{"inactive"};
}

std::optional<restart_method> parse_restart_method(std::string_view s) noexcept {
  s = text::trim(s);
  for (std::size_t i = 0; i < restart_names.size(); ++i)
    if (text::iequals(s, restart_names[i]))
      return static_cast<restart_method>(i);
  return std::nullopt;
}

std::string_view to_string(restart_method m) noexcept {
  auto i = static_cast<std::size_t>(m);
  return i < restart_names.size() ? restart_names[i] : std::string_view{"restart"};
}

std::optional<std::uint32_t> parse_restart_delay(std::string_view s) noexcept {
  // RFC 3435 3.2.2.16: a number of seconds; 9 digits keeps it in 32 bits.
  auto v = text::parse_uint(text::trim(s), 9);
  if (!v)
    return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

std::optional<std::vector<tid_range>> parse_response_ack(std::string_view s) {
  std::vector<tid_range> out;
  s = text::trim(s);
  if (s.empty())
    return out;
  for (auto item : text::split(s, ',')) {
    item = text::trim(item);
    auto dash = item.find('-');
    tid_range r;
    if (dash == std::string_view::npos) {
      auto t = parse_tid(item);
      if (!t)
        return std::nullopt;
      r.first = r.last = *t;
    } else {
      auto a = parse_tid(item.substr(0, dash));
      auto b = parse_tid(item.substr(dash + 1));
      if (!a || !b || *b < *a)
        return std::nullopt;
      r.first = *a;
      r.last = *b;
    }
    out.push_back(r);
  }
  return out;
}

std::string build_response_ack(const std::vector<tid_range>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty())
      out += ", ";
    out += std::to_string(r.first);
    if (r.last != r.first) {
      out += '-';
      out += std::to_string(r.last);
    }
  }
  return out;
}

bool acknowledges(const std::vector<tid_range>& ranges, std::uint32_t tid) noexcept {
  for (const auto& r : ranges)
    if (tid >= r.first && tid <= r.last)
      return true;
  return false;
}

bool valid_hex_id(std::string_view s) noexcept {
  return !s.empty() && s.size() <= 32 && text::all_hex(s);
}

std::optional<connection_parameters> parse_connection_parameters(std::string_view s) {
  connection_parameters p;
  s = text::trim(s);
  if (s.empty())
    return p;
  for (auto item : text::split(s, ',')) {
    item = text::trim(item);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return std::nullopt;
    auto key = text::trim(item.substr(0, eq));
    auto value = text::trim(item.substr(eq + 1));
    std::optional<std::uint64_t>* slot = nullptr;
    if (text::iequals(key, "PS"))
      slot = &p.packets_sent;
    else if (text::iequals(key, "OS"))
      slot = &p.octets_sent;
    else if (text::iequals(key, "PR"))
      slot = &p.packets_received;
    else if (text::iequals(key, "OR"))
      slot = &p.octets_received;
    else if (text::iequals(key, "PL"))
      slot = &p.packets_lost;
    else if (text::iequals(key, "JI"))
      slot = &p.jitter_ms;
    else if (text::iequals(key, "LA"))
      slot = &p.latency_ms;
    if (slot) {
      auto v = text::parse_uint(value, 19);
      if (!v)
        return std::nullopt;
      *slot = *v;
    } else if (is_extension_value(key)) {
      p.extensions.emplace_back(std::string(key), std::string(value));
    } else {
      return std::nullopt;
    }
  }
  return p;
}

std::string build_connection_parameters(const connection_parameters& p) {
  std::string out;
  auto add = [&out](std::string_view key, const std::string& value) {
    if (!out.empty())
      out += ", ";
    out += key;
    out += '=';
    out += value;
  };
  auto num = [&add](std::string_view key, const std::optional<std::uint64_t>& v) {
    if (v)
      add(key, std::to_string(*v));
  };
  num("PS", p.packets_sent);
  num("OS", p.octets_sent);
  num("PR", p.packets_received);
  num("OR", p.octets_received);
  num("PL", p.packets_lost);
  num("JI", p.jitter_ms);
  num("LA", p.latency_ms);
  for (const auto& [k, v] : p.extensions)
    add(k, v);
  return out;
}

const std::string* local_connection_options::get(std::string_view key) const noexcept {
  for (const auto& [k, v] : options)
    if (text::iequals(k, key))
      return &v;
  return nullptr;
}

void local_connection_options::set(std::string key, std::string value) {
  for (auto& [k, v] : options) {
    if (text::iequals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  options.emplace_back(text::lower(key), std::move(value));
}

std::optional<std::uint32_t> local_connection_options::packetization_ms() const noexcept {
  auto p = get("p");
  if (!p)
    return std::nullopt;
  std::string_view v = *p;
  auto v1 = text::parse_uint(v.substr(0, v.find('-')), 6);
  if (!v1)
    return std::nullopt;
  return static_cast<std::uint32_t>(*v1);
}

std::vector<std::string> local_connection_options::codecs() const {
  std::vector<std::string> out;
  if (auto a = get("a")) {
    for (auto c : text::split(*a, ';')) {
      c = text::trim(c);
      if (!c.empty())
        out.emplace_back(c);
    }
  }
  return out;
}

std::optional<local_connection_options> parse_local_connection_options(std::string_view s) {
  local_connection_options l;
  s = text::trim(s);
  if (s.empty())
    return l;
  for (auto item : text::split(s, ',')) {
    item = text::trim(item);
    auto colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return std::nullopt;
    auto key = text::trim(item.substr(0, colon));
    for (char c : key)
      if (!(text::is_alnum(c) || c == '-' || c == '+' || c == '/'))
        return std::nullopt;
    l.options.emplace_back(text::lower(key), std::string(text::trim(item.substr(colon + 1))));
  }
  return l;
}

std::string build_local_connection_options(const local_connection_options& l) {
  std::string out;
  for (const auto& [k, v] : l.options) {
    if (!out.empty())
      out += ", ";
    out += k;
    out += ':';
    out += v;
  }
  return out;
}

std::string notified_entity::host() const {
  if (domain.size() >= 2 && domain.front() == '[' && domain.back() == ']')
    return domain.substr(1, domain.size() - 2);
  return domain;
}

std::string notified_entity::to_string() const {
  std::string out;
  if (!local.empty())
    out = local + "@";
  out += domain;
  if (port)
    out += ":" + std::to_string(*port);
  return out;
}

std::optional<notified_entity> parse_notified_entity(std::string_view s) {
  s = text::trim(s);
  notified_entity n;
  auto at = s.rfind('@');
  if (at != std::string_view::npos) {
    n.local = std::string(s.substr(0, at));
    if (n.local.empty() || n.local.size() > max_local_name)
      return std::nullopt;
    for (char c : n.local)
      if (text::is_space(c) || text::is_control(c))
        return std::nullopt;
    s = s.substr(at + 1);
  }
  // The port follows the last ':' outside an IPv6 literal.
  auto close = s.rfind(']');
  auto colon = s.rfind(':');
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    auto port = text::parse_uint(s.substr(colon + 1), 5, 65535);
    if (!port || *port == 0)
      return std::nullopt;
    n.port = static_cast<std::uint16_t>(*port);
    s = s.substr(0, colon);
  }
  if (!valid_domain_name(s))
    return std::nullopt;
  n.domain = std::string(s);
  return n;
}

} // namespace cms::mgcp
