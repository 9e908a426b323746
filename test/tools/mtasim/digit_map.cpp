#include "test/tools/mtasim/digit_map.hpp"

#include <cctype>
#include <set>
#include <stdexcept>
#include <utility>

namespace cms::sim {

namespace {

std::string range_of(char c) {
  switch (std::toupper(static_cast<unsigned char>(c))) {
  case 'X':
    return "0123456789";
  case 'T':
    return "T";
  default:
    return std::string(1, c);
  }
}

bool is_symbol(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#' || c == 'x' ||
         c == 'X' || c == 'T' || c == 't' || (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd');
}

} // namespace

digit_map::digit_map(std::string_view text) : text_(text) {
  std::string_view body = text;
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front())))
    body.remove_prefix(1);
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back())))
    body.remove_suffix(1);
  if (!body.empty() && body.front() == '(') {
    if (body.back() != ')')
      throw std::invalid_argument("digit map: unbalanced parenthesis");
    body = body.substr(1, body.size() - 2);
  }
  if (body.empty())
    throw std::invalid_argument("digit map: empty");
  std::size_t start = 0;
  while (start <= body.size()) {
    auto bar = body.find('|', start);
    auto piece = body.substr(start, bar == std::string_view::npos ? body.npos : bar - start);
    patterns_.push_back(parse_pattern(piece));
    if (bar == std::string_view::npos)
      break;
    start = bar + 1;
  }
}

digit_map::pattern digit_map::parse_pattern(std::string_view p) {
  pattern out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (std::isspace(static_cast<unsigned char>(c)))
      continue;
    if (c == '.') {
      if (out.empty() || out.back().repeat)
        throw std::invalid_argument("digit map: '.' must follow a symbol");
      out.back().repeat = true;
      continue;
    }
    if (c == '[') {
      auto close = p.find(']', i);
      if (close == std::string_view::npos)
        throw std::invalid_argument("digit map: unterminated '['");
      element e;
      for (std::size_t j = i + 1; j < close; ++j) {
        char a = p[j];
        if (a == '-' && j > i + 1 && j + 1 < close) {
          char lo = p[j - 1], hi = p[j + 1];
          if (!std::isdigit(static_cast<unsigned char>(lo)) ||
              !std::isdigit(static_cast<unsigned char>(hi)) || lo > hi)
            throw std::invalid_argument("digit map: bad range");
          for (char d = lo; d <= hi; ++d)
            e.accepts += d;
          ++j;
          e.accepts += p[j];
          continue;
        }
        if (!is_symbol(a))
          throw std::invalid_argument(std::string("digit map: bad symbol '") + a + "'");
        e.accepts += range_of(a);
      }
      if (e.accepts.empty())
        throw std::invalid_argument("digit map: empty range");
      out.push_back(std::move(e));
      i = close;
      continue;
    }
    if (!is_symbol(c))
      throw std::invalid_argument(std::string("digit map: bad symbol '") + c + "'");
    out.push_back(element{range_of(c), false});
  }
  if (out.empty())
    throw std::invalid_argument("digit map: empty pattern");
  return out;
}

int digit_map::match_pattern(const pattern& p, std::string_view digits) {
  // NFA simulation: a state is the index of the next pattern element to satisfy.
  std::set<std::size_t> states{0};
  auto close = [&p](std::set<std::size_t> s) {
    // A repeated element may match zero times: its successor is reachable too.
    std::set<std::size_t> out = s;
    bool grew = true;
    while (grew) {
      grew = false;
      for (auto i : std::set<std::size_t>(out))
        if (i < p.size() && p[i].repeat && out.insert(i + 1).second)
          grew = true;
    }
    return out;
  };
  states = close(states);
  for (char c : digits) {
    std::set<std::size_t> next;
    for (auto i : states) {
      if (i >= p.size())
        continue;
      char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (p[i].accepts.find(u) != std::string::npos)
        next.insert(p[i].repeat ? i : i + 1);
    }
    if (next.empty())
      return 0;
    states = close(next);
  }
  bool full = states.count(p.size()) > 0;
  bool more = false;
  for (auto i : states)
    if (i < p.size())
      more = true;
  if (full)
    return more ? 3 : 2;
  return more ? 1 : 0;
}

digit_match digit_map::match(std::string_view digits) const {
  bool full = false, more = false;
  for (const auto& p : patterns_) {
    switch (match_pattern(p, digits)) {
    case 1:
      more = true;
      break;
    case 2:
      full = true;
      break;
    case 3:
      full = more = true;
      break;
    default:
      break;
    }
  }
  if (full)
    return more ? digit_match::full_or_more : digit_match::full;
  return more ? digit_match::partial : digit_match::none;
}

bool digit_map::timer_completes(std::string_view digits) const {
  auto m = match(std::string(digits) + "T");
  return m == digit_match::full || m == digit_match::full_or_more;
}

} // namespace cms::sim
