#pragma once
// Event and signal lists (RFC 3435 2.1.7 and Appendix A, NCS packages L/ and D/): the values of
// R: (requested events with actions), S: (signal requests), T: (detect events) and O: (observed
// events). Parsers respect parentheses, brackets and quoted strings, return nullopt on bad text.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::mgcp {

/// "[package/]event[@connection]": "L/hd", "D/[0-9#*T]", "hd", "L/rt@0A3F58", "*/all".
struct event_name {
  std::string package;    ///< "L", "D", "*"; empty when the default package is meant
  std::string event;      ///< "hd", "5", "[0-9#*T]", "all", "*"
  std::string connection; ///< "0A3F58", "$", "*"; empty when none

  std::string to_string() const;
  /// Requested (possibly "all", "*" or "[range]") matches an observed event ("D/[0-9]" ~ "D/5").
  bool matches(const event_name& observed) const noexcept;
  /// A DTMF digit event of package D ("D/5", "D/#", "D/T" is not one).
  bool is_digit() const noexcept;
  friend bool operator==(const event_name& a, const event_name& b) {
    return a.package == b.package && a.event == b.event && a.connection == b.connection;
  }
};
std::optional<event_name> parse_event_name(std::string_view s);

/// One R: entry: "L/hd(N)", "D/[0-9#*T](D)", "L/hu(A, E(S(L/dl)))", with optional parameters.
struct requested_event {
  event_name name;
  /// "N" notify, "A" accumulate, "D" digit map, "S" swap, "I" ignore, "K" keep signals,
  /// "E(...)" embedded request (kept as text), extensions; empty means the default (notify).
  std::vector<std::string> actions;
  std::optional<std::string> parameters;

  bool has_action(std::string_view action) const noexcept;
};

/// An S: or O: entry: the event or signal with optional parameters ("L/ci(10/14/17/26,...)").
struct event_instance {
  event_name name;
  std::optional<std::string> parameters;
};
using signal_request = event_instance;
using observed_event = event_instance;

std::optional<std::vector<requested_event>> parse_requested_events(std::string_view s);
std::string build_requested_events(const std::vector<requested_event>& events);
/// S:, O: and T: share the "name[(parameters)]" list shape. An empty value is an empty list.
std::optional<std::vector<event_instance>> parse_event_list(std::string_view s);
std::string build_event_list(const std::vector<event_instance>& events);
inline std::optional<std::vector<signal_request>> parse_signal_requests(std::string_view s) {
  return parse_event_list(s);
}
inline std::optional<std::vector<observed_event>> parse_observed_events(std::string_view s) {
  return parse_event_list(s);
}

/// The dialled digits in a list of observed events: "D/5,D/5,D/1" and "D/551" both give "551".
std::string observed_digits(const std::vector<observed_event>& events);

/// Splits at top-level `sep`, ignoring separators inside (), [] and "": nullopt when unbalanced.
std::optional<std::vector<std::string_view>> split_top_level(std::string_view s, char sep);

} // namespace cms::mgcp
