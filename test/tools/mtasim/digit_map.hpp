#pragma once
// NCS digit map matching (RFC 3435 section 2.1.5): the simulated line collects dialled digits and
// decides, like a real MTA, when they form a complete number. Kept local to the simulator so it can
// be checked against the call agent's own implementation instead of sharing its bugs.

#include <string>
#include <string_view>
#include <vector>

namespace cms::sim {

/// Result of matching the digits collected so far against the whole map.
enum class digit_match {
  none,         ///< no pattern can ever match: report what was collected (the CA plays reorder)
  partial,      ///< more digits may follow: keep collecting, arm the partial-dial timer
  full,         ///< one pattern matched and no longer one is possible: report now
  full_or_more, ///< a pattern matched but a longer one is still possible: wait for the timer
};

class digit_map {
public:
  digit_map() = default;
  /// Parses "(xxxxxxx|911|x.T)" or a single pattern; throws std::invalid_argument on bad syntax.
  explicit digit_map(std::string_view text);

  bool empty() const noexcept { return patterns_.empty(); }
  const std::string& text() const noexcept { return text_; }

  /// `digits` holds 0-9, *, # and possibly a trailing 'T' (the inter-digit timer expired).
  digit_match match(std::string_view digits) const;
  /// True when an inter-digit timeout now would complete a pattern ("x.T"): the short (critical)
  /// timer applies instead of the long partial-dial timer.
  bool timer_completes(std::string_view digits) const;

private:
  /// One element of a pattern: the set of symbols it accepts, optionally repeated ('.').
  struct element {
    std::string accepts; ///< characters accepted (digits, '*', '#', 'T')
    bool repeat = false; ///< followed by '.': zero or more occurrences
  };
  using pattern = std::vector<element>;
  static pattern parse_pattern(std::string_view p);
  /// 0 = no match possible, 1 = prefix only, 2 = full match, 3 = full match and prefix of longer.
  static int match_pattern(const pattern& p, std::string_view digits);

  std::string text_;
  std::vector<pattern> patterns_;
};

} // namespace cms::sim
