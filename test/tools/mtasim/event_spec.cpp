#include "test/tools/mtasim/event_spec.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace cms::sim {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Splits "name(args)" into name and args; args empty when absent.
std::pair<std::string_view, std::optional<std::string_view>> split_call(std::string_view item) {
  auto open = item.find('(');
  if (open == std::string_view::npos)
    return {trim(item), std::nullopt};
  if (item.back() != ')')
    throw std::invalid_argument("unbalanced parenthesis in '" + std::string(item) + "'");
  return {trim(item.substr(0, open)), item.substr(open + 1, item.size() - open - 2)};
}

embedded_request parse_embedded(std::string_view body) {
  embedded_request out;
  for (const auto& part : split_top_level(body)) {
    auto [name, args] = split_call(part);
    if (!args)
      throw std::invalid_argument("embedded request item without list: '" + part + "'");
    auto n = upper(name);
    if (n == "R")
      out.events = parse_requested_events(*args);
    else if (n == "S")
      out.signals = parse_signals(*args);
    else if (n == "D")
      out.digit_map = std::string(trim(*args));
    else
      throw std::invalid_argument("unknown embedded request item '" + std::string(name) + "'");
  }
  return out;
}

} // namespace

std::vector<std::string> split_top_level(std::string_view list) {
  std::vector<std::string> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    char c = i < list.size() ? list[i] : ',';
    if (c == '(' || c == '[')
      ++depth;
    else if (c == ')' || c == ']') {
      if (--depth < 0)
        throw std::invalid_argument("unbalanced brackets in '" + std::string(list) + "'");
    } else if (c == ',' && depth == 0) {
      auto item = trim(list.substr(start, i - start));
      if (!item.empty())
        out.emplace_back(item);
      start = i + 1;
    }
  }
  if (depth != 0)
    throw std::invalid_argument("unbalanced brackets in '" + std::string(list) + "'");
  return out;
}

event_name parse_event_name(std::string_view s) {
  s = trim(s);
  event_name out;
  auto slash = s.find('/');
  std::string_view name = s;
  if (slash != std::string_view::npos) {
    out.package = upper(s.substr(0, slash));
    name = s.substr(slash + 1);
  }
  if (name.empty())
    throw std::invalid_argument("empty event name in '" + std::string(s) + "'");
  // Digit ranges keep their case ("[0-9#*T]"): T is the timer, never a letter digit.
  out.name = name.front() == '[' ? upper(name) : lower(name);
  return out;
}

std::vector<requested_event> parse_requested_events(std::string_view list) {
  std::vector<requested_event> out;
  for (const auto& item : split_top_level(list)) {
    auto [name, args] = split_call(item);
    requested_event e;
    e.event = parse_event_name(name);
    e.text = item;
    if (!args) {
      e.notify = true;
    } else {
      for (const auto& action : split_top_level(*args)) {
        auto [verb, inner] = split_call(action);
        auto v = upper(verb);
        if (inner) {
          if (v != "E")
            throw std::invalid_argument("unknown action '" + action + "'");
          e.embedded.push_back(parse_embedded(*inner));
        } else if (v == "N") {
          e.notify = true;
        } else if (v == "A") {
          e.accumulate = true;
        } else if (v == "D") {
          e.digit_map = true;
        } else if (v == "I") {
          e.ignore = true;
        } else if (v == "K") {
          e.keep_signals = true;
        } else if (v == "S") {
          // Swap (three-way calling): the simulator has no second audio path; treated as notify.
          e.notify = true;
        } else {
          throw std::invalid_argument("unknown action '" + action + "'");
        }
      }
      if (!e.notify && !e.accumulate && !e.digit_map && !e.ignore && e.embedded.empty())
        e.notify = true; // "K" alone: notify is the default action
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<signal_request> parse_signals(std::string_view list) {
  std::vector<signal_request> out;
  for (const auto& item : split_top_level(list)) {
    auto [name, args] = split_call(item);
    signal_request s;
    s.signal = parse_event_name(name);
    if (args)
      s.parameters = std::string(*args);
    s.text = item;
    out.push_back(std::move(s));
  }
  return out;
}

bool event_matches(const event_name& requested, const event_name& observed) {
  if (!requested.package.empty() && requested.package != "*" &&
      requested.package != observed.package)
    return false;
  const auto& r = requested.name;
  const auto& o = observed.name;
  if (r == "all" || r == "*")
    return true;
  if (r.size() == o.size() && std::equal(r.begin(), r.end(), o.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      }))
    return true;
  if (o.size() != 1)
    return false;
  char c = static_cast<char>(std::toupper(static_cast<unsigned char>(o[0])));
  if (r == "x")
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  if (r.size() >= 2 && r.front() == '[' && r.back() == ']') {
    auto body = std::string_view(r).substr(1, r.size() - 2);
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] == '-' && i > 0 && i + 1 < body.size()) {
        if (c >= body[i - 1] && c <= body[i + 1])
          return true;
      } else if (body[i] == c || (body[i] == 'X' && std::isdigit(static_cast<unsigned char>(c)))) {
        return true;
      }
    }
  }
  return false;
}

} // namespace cms::sim
