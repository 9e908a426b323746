#include "runtime/mgcp/events.hpp"

#include "runtime/mgcp/text.hpp"

namespace cms::mgcp {

namespace {

constexpr std::size_t max_nesting = 16; ///< embedded requests nest E(R(E(...))): bound the depth

bool is_digit_char(char c) noexcept {
  char u = text::to_upper(c);
  return text::is_digit(c) || c == '#' || c == '*' || (u >= 'A' && u <= 'D');
}

bool valid_package(std::string_view p) noexcept {
  if (p == "*")
    return true;
  if (p.empty())
    return false;
  for (char c : p)
    if (!(text::is_alnum(c) || c == '-' || c == '_'))
      return false;
  return true;
}

bool valid_event_id(std::string_view e) noexcept {
  if (e.empty())
    return false;
  if (e.front() == '[') {
    if (e.size() < 3 || e.back() != ']')
      return false;
    for (char c : e.substr(1, e.size() - 2))
      if (!(text::is_alnum(c) || c == '#' || c == '*' || c == '-'))
        return false;
    return true;
  }
  for (char c : e)
    if (!(text::is_alnum(c) || c == '-' || c == '_' || c == '#' || c == '*' || c == '.'))
      return false;
  return true;
}

bool valid_connection(std::string_view c) noexcept {
  if (c == "$" || c == "*")
    return true;
  return !c.empty() && c.size() <= 32 && text::all_hex(c);
}

/// True when `c` is in an event range body like "0-9#*T".
bool in_range(std::string_view body, char c) noexcept {
  char u = text::to_upper(c);
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (i + 2 < body.size() && body[i + 1] == '-') {
      char lo = text::to_upper(body[i]), hi = text::to_upper(body[i + 2]);
      if (u >= lo && u <= hi)
        return true;
      i += 2;
    } else if (text::to_upper(body[i]) == u) {
      return true;
    }
  }
  return false;
}

/// "name(group1)(group2)": the name and up to two parenthesized groups.
struct element {
  std::string_view name;
  std::vector<std::string_view> groups;
};

std::optional<element> split_element(std::string_view s) {
  element el;
  std::size_t i = 0, bracket = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == '[')
      ++bracket;
    else if (s[i] == ']' && bracket)
      --bracket;
    else if (s[i] == '(' && !bracket)
      break;
  }
  el.name = text::trim(s.substr(0, i));
  while (i < s.size()) {
    if (s[i] != '(') {
      if (text::is_space(s[i])) {
        ++i;
        continue;
      }
      return std::nullopt;
    }
    std::size_t depth = 0, start = i + 1;
    bool quoted = false;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"')
        quoted = !quoted;
      if (quoted)
        continue;
      if (c == '(') {
        if (++depth > max_nesting)
          return std::nullopt;
      } else if (c == ')' && --depth == 0) {
        break;
      }
    }
    if (i >= s.size())
      return std::nullopt;
    el.groups.push_back(s.substr(start, i - start));
    ++i;
    if (el.groups.size() > 2)
      return std::nullopt;
  }
  return el;
}

void append_name_and_groups(std::string& out, const event_name& n,
                            const std::vector<const std::string*>& groups) {
  out += n.to_string();
  for (const auto* g : groups) {
    out += '(';
    out += *g;
    out += ')';
  }
}

} // namespace

std::optional<std::vector<std::string_view>> split_top_level(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t paren = 0, bracket = 0, start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted)
      continue;
    if (c == '(') {
      if (++paren > max_nesting)
        return std::nullopt;
    } else if (c == ')') {
      if (paren == 0)
        return std::nullopt;
      --paren;
    } else if (c == '[') {
      ++bracket;
    } else if (c == ']') {
      if (bracket == 0)
        return std::nullopt;
      --bracket;
    } else if (c == sep && paren == 0 && bracket == 0) {
      out.push_back(text::trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (paren || bracket || quoted)
    return std::nullopt;
  out.push_back(text::trim(s.substr(start)));
  return out;
}

std::string event_name::to_string() const {
  std::string out;
  if (!package.empty())
    out = package + "/";
  out += event;
  if (!connection.empty())
    out += "@" + connection;
  return out;
}

bool event_name::matches(const event_name& observed) const noexcept {
  if (!package.empty() && package != "*" && !text::iequals(package, observed.package))
    return false;
  if (!connection.empty() && connection != "*" && connection != "$" &&
      !text::iequals(connection, observed.connection))
    return false;
  if (event == "*" || text::iequals(event, "all"))
    return true;
  if (event.size() >= 3 && event.front() == '[') {
    return observed.event.size() == 1 &&
           in_range(std::string_view(event).substr(1, event.size() - 2), observed.event[0]);
  }
  return text::iequals(event, observed.event);
}

bool event_name::is_digit() const noexcept {
  return text::iequals(package, "D") && event.size() == 1 && is_digit_char(event[0]);
}

std::optional<event_name> parse_event_name(std::string_view s) {
  s = text::trim(s);
  event_name n;
  // '/' and '@' never occur inside a bracketed range, so plain searches are safe after it.
  auto bracket = s.find('[');
  auto slash = s.find('/');
  if (slash != std::string_view::npos && (bracket == std::string_view::npos || slash < bracket)) {
    n.package = std::string(s.substr(0, slash));
    if (!valid_package(n.package))
      return std::nullopt;
    s = s.substr(slash + 1);
  }
  auto at = s.rfind('@');
  if (at != std::string_view::npos && (s.find(']') == std::string_view::npos || at > s.find(']'))) {
    n.connection = std::string(s.substr(at + 1));
    if (!valid_connection(n.connection))
      return std::nullopt;
    s = s.substr(0, at);
  }
  if (!valid_event_id(s))
    return std::nullopt;
  n.event = std::string(s);
  return n;
}

bool requested_event::has_action(std::string_view action) const noexcept {
  for (const auto& a : actions) {
    if (text::iequals(a, action))
      return true;
    // "E" asks about an embedded request "E(...)".
    if (action.size() == 1 && a.size() > 1 && a[1] == '(' &&
        text::to_upper(a[0]) == text::to_upper(action[0]))
      return true;
  }
  return false;
}

std::optional<std::vector<requested_event>> parse_requested_events(std::string_view s) {
  std::vector<requested_event> out;
  s = text::trim(s);
  if (s.empty())
    return out;
  auto items = split_top_level(s, ',');
  if (!items)
    return std::nullopt;
  for (auto item : *items) {
    auto el = split_element(item);
    if (!el)
      return std::nullopt;
    auto name = parse_event_name(el->name);
    if (!name)
      return std::nullopt;
    requested_event ev;
    ev.name = std::move(*name);
    if (!el->groups.empty()) {
      auto actions = split_top_level(el->groups[0], ',');
      if (!actions)
        return std::nullopt;
      for (auto a : *actions) {
        if (a.empty())
          return std::nullopt;
        // A single action letter, "E(...)" or an extension ("X-foo" / "X+foo").
        bool ok = (a.size() == 1 && text::is_alpha(a[0])) ||
                  (a.size() > 2 && text::is_alpha(a[0]) && a[1] == '(' && a.back() == ')') ||
                  (a.size() > 2 && (a[0] == 'X' || a[0] == 'x') && (a[1] == '-' || a[1] == '+'));
        if (!ok)
          return std::nullopt;
        ev.actions.emplace_back(a);
      }
    }
    if (el->groups.size() > 1)
      ev.parameters = std::string(el->groups[1]);
    out.push_back(std::move(ev));
  }
  return out;
}

std::string build_requested_events(const std::vector<requested_event>& events) {
  std::string out;
  for (const auto& ev : events) {
    if (!out.empty())
      out += ", ";
    std::string actions;
    for (const auto& a : ev.actions) {
      if (!actions.empty())
        actions += ',';
      actions += a;
    }
    std::vector<const std::string*> groups;
    // Parameters need the action group in front of them, even an empty one.
    if (!ev.actions.empty() || ev.parameters)
      groups.push_back(&actions);
    if (ev.parameters)
      groups.push_back(&*ev.parameters);
    append_name_and_groups(out, ev.name, groups);
  }
  return out;
}

std::optional<std::vector<event_instance>> parse_event_list(std::string_view s) {
  std::vector<event_instance> out;
  s = text::trim(s);
  if (s.empty())
    return out;
  auto items = split_top_level(s, ',');
  if (!items)
    return std::nullopt;
  for (auto item : *items) {
    auto el = split_element(item);
    if (!el || el->groups.size() > 1)
      return std::nullopt;
    auto name = parse_event_name(el->name);
    if (!name)
      return std::nullopt;
    event_instance ev;
    ev.name = std::move(*name);
    if (!el->groups.empty())
      ev.parameters = std::string(el->groups[0]);
    out.push_back(std::move(ev));
  }
  return out;
}

std::string build_event_list(const std::vector<event_instance>& events) {
  std::string out;
  for (const auto& ev : events) {
    if (!out.empty())
      out += ", ";
    std::vector<const std::string*> groups;
    if (ev.parameters)
      groups.push_back(&*ev.parameters);
    append_name_and_groups(out, ev.name, groups);
  }
  return out;
}

std::string observed_digits(const std::vector<observed_event>& events) {
  std::string digits;
  for (const auto& ev : events) {
    if (!text::iequals(ev.name.package, "D"))
      continue;
    bool all = !ev.name.event.empty();
    for (char c : ev.name.event)
      all = all && is_digit_char(c);
    if (all)
      digits += ev.name.event;
  }
  return digits;
}

} // namespace cms::mgcp
