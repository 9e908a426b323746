#include "actors/calls/services/emergency.hpp"

#include "runtime/mgcp/digit_map.hpp"

#include <algorithm>

namespace cms::actors::services {

bool is_emergency_number(const std::vector<std::string>& codes, const std::string& number) {
  return !number.empty() && std::find(codes.begin(), codes.end(), number) != codes.end();
}

std::string emergency_digit_map(const std::vector<std::string>& codes) {
  std::string out;
  for (auto& c : codes) {
    if (!valid_emergency_code(c))
      continue;
    out += out.empty() ? "(" : "|";
    out += c;
  }
  if (!out.empty())
    out += ")";
  return out;
}

std::string digit_map_with_codes(const std::string& map, const std::vector<std::string>& codes) {
  auto compiled = mgcp::digit_map::compile(map);
  std::vector<std::string> missing;
  for (auto& c : codes) {
    if (!valid_emergency_code(c))
      continue;
    // Dialled already: a complete match now, or once the inter-digit timer runs out (the
    // default map's 911 waits for the short timer: 911xxxx could still follow).
    if (compiled && (compiled->match(c).match == mgcp::digit_match::full ||
                     compiled->match(c + "T").match == mgcp::digit_match::full))
      continue;
    missing.push_back(c);
  }
  if (missing.empty())
    return map;
  // Alternatives are joined inside one pair of parentheses: strip the map's own, if any.
  std::string body = map;
  if (body.size() >= 2 && body.front() == '(' && body.back() == ')')
    body = body.substr(1, body.size() - 2);
  for (auto& c : missing)
    body += (body.empty() ? "" : "|") + c;
  return "(" + body + ")";
}

bool valid_emergency_code(const std::string& code) {
  if (code.empty() || code.size() > 15)
    return false;
  return std::all_of(code.begin(), code.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '*' || c == '#'; });
}

hold_action on_caller_hook(bool emergency, bool answered, bool caller_on_hook, bool off_hook) {
  if (!emergency || !answered)
    return hold_action::none;
  if (!off_hook) // again while held: ring again (idempotent)
    return hold_action::hold;
  return caller_on_hook ? hold_action::reconnect : hold_action::none;
}

} // namespace cms::actors::services
