#include "runtime/mgcp/trunk_package.hpp"

#include "runtime/mgcp/events.hpp"
#include "runtime/mgcp/text.hpp"

#include <charconv>

namespace cms::mgcp::trunk {

std::string_view to_string(signal_kind k) noexcept {
  switch (k) {
  case signal_kind::sup:
    return "sup";
  case signal_kind::alt:
    return "alt";
  case signal_kind::ans:
    return "ans";
  case signal_kind::rel:
    return "rel";
  }
  return "?";
}

bool valid_number(std::string_view s) noexcept {
  if (s.empty() || s.size() > 32)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '*' || c == '#'))
      return false;
  return true;
}

std::string build(const pstn_event& e) {
  std::string out{package};
  out += '/';
  out += to_string(e.kind);
  if (e.kind == signal_kind::sup)
    out += "(" + e.called + (e.calling.empty() ? "" : "," + e.calling) + ")";
  else if (e.kind == signal_kind::rel)
    out += "(" + std::to_string(e.cause) + ")";
  return out;
}

std::optional<std::vector<pstn_event>> parse_list(std::string_view value) {
  auto list = parse_event_list(value);
  if (!list)
    return std::nullopt;
  std::vector<pstn_event> out;
  for (auto& item : *list) {
    if (!text::iequals(item.name.package, package))
      continue;
    pstn_event e;
    auto name = text::lower(item.name.event);
    std::string params = item.parameters ? *item.parameters : std::string{};
    if (name == "sup") {
      e.kind = signal_kind::sup;
      auto comma = params.find(',');
      e.called = std::string(text::trim(params.substr(0, comma)));
      if (comma != std::string::npos)
        e.calling = std::string(text::trim(params.substr(comma + 1)));
      if (!valid_number(e.called) || (!e.calling.empty() && !valid_number(e.calling)))
        return std::nullopt;
    } else if (name == "rel") {
      e.kind = signal_kind::rel;
      auto p = text::trim(params);
      int cause = 0;
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), cause);
      if (ec != std::errc{} || end != p.data() + p.size() || cause < 1 || cause > 127)
        return std::nullopt;
      e.cause = cause;
    } else if (name == "alt") {
      e.kind = signal_kind::alt;
    } else if (name == "ans") {
      e.kind = signal_kind::ans;
    } else {
      return std::nullopt;
    }
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace cms::mgcp::trunk
