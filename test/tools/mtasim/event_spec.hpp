#pragma once
// Parsing of the NCS event and signal lists a call agent sends (R:, S:, and the embedded requests of
// E(...)), and matching of an observed event against the requested ones. Local to the simulator: it
// plays the MTA, so it reads these lists as an MTA would.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::sim {

/// "L/hd" split into package "L" and name "hd"; a name without package has an empty package.
struct event_name {
  std::string package; ///< upper-case ("L", "D"), may be empty
  std::string name;    ///< lower-case except digit ranges ("hd", "[0-9#*T]", "x")
  std::string text() const { return package.empty() ? name : package + "/" + name; }
};

event_name parse_event_name(std::string_view s);

struct embedded_request; // E(R(...),S(...),D(...))

/// One entry of R:, e.g. "D/[0-9#*T](D)" or "L/hd(N)".
struct requested_event {
  event_name event;
  bool notify = false;                    ///< N (also the default when no action is given)
  bool accumulate = false;                ///< A
  bool digit_map = false;                 ///< D
  bool ignore = false;                    ///< I
  bool keep_signals = false;              ///< K
  std::vector<embedded_request> embedded; ///< E(...): at most one
  std::string text;                       ///< as received, for AUEP
};

/// One entry of S:, e.g. "L/rg" or "L/ci(10/14/08/30,5551001,Alice)".
struct signal_request {
  event_name signal;
  std::string parameters; ///< inside the parentheses, verbatim
  std::string text;
};

struct embedded_request {
  std::optional<std::vector<requested_event>> events;
  std::optional<std::vector<signal_request>> signals;
  std::optional<std::string> digit_map;
};

/// Throw std::invalid_argument on malformed lists (the line answers 5xx).
std::vector<requested_event> parse_requested_events(std::string_view list);
std::vector<signal_request> parse_signals(std::string_view list);

/// Splits on commas outside parentheses and brackets, trimming white space; empty items dropped.
std::vector<std::string> split_top_level(std::string_view list);

/// Does the requested entry cover the observed event ("D/5" against "D/[0-9#*T]", "L/hd" against
/// "hd")? Package comparison is case-insensitive and an empty package matches any.
bool event_matches(const event_name& requested, const event_name& observed);

} // namespace cms::sim
