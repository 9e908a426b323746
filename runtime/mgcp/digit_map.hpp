#pragma once
// Digit maps (RFC 3435 2.1.5, NCS 1.0): "(0T|00T|[2-9]xxxxxx|1[2-9]xx[2-9]xxxxxx|011x.T|*xx|911)".
// Compiled once when the call agent sends D: (or the line is configured), then matched after every
// digit so the collector knows whether to report, wait for more digits, or give up.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::mgcp {

enum class digit_match : std::uint8_t {
  none,    ///< no alternative can match: report what was dialled (or reject the call)
  partial, ///< more digits (or the timer) are needed
  full     ///< an alternative matched and nothing longer can: report now
};

/// Which inter-digit timer runs while the match is partial (NCS names in parentheses).
enum class digit_timer : std::uint8_t {
  none,
  short_timer, ///< critical (Tcrit, 4 s): a match is complete "but for T", or complete with a
               ///< longer one still possible; on expiry the current digits are reported
  long_timer   ///< partial (Tpar, 16 s): only more digits can produce a match
};

struct digit_map_result {
  digit_match match = digit_match::none;
  digit_timer timer = digit_timer::none;
  friend bool operator==(const digit_map_result& a, const digit_map_result& b) {
    return a.match == b.match && a.timer == b.timer;
  }
};

class digit_map {
public:
  static constexpr std::size_t max_text = 2048;
  static constexpr std::size_t max_alternatives = 64;
  static constexpr std::size_t max_elements = 64; ///< positions per alternative

  /// nullopt (with `error` set) when the text is not a digit map.
  static std::optional<digit_map> compile(std::string_view text, std::string* error = nullptr);

  /// Matches the digits dialled so far ("0-9", "*", "#", "A"-"D"; case-insensitive). A final "T"
  /// means the inter-digit timer expired: alternatives ending in T complete, and so does a match
  /// that was only waiting to see whether a longer one would come.
  digit_map_result match(std::string_view dialled) const;

  const std::string& text() const noexcept { return text_; }
  std::size_t alternatives() const noexcept { return alternatives_.size(); }

private:
  struct element {
    std::uint32_t symbols = 0; ///< bit per symbol (see symbol_index in the .cpp)
    bool repeat = false;       ///< followed by "." : zero or more times
  };
  using alternative = std::vector<element>;

  struct state_summary {
    bool accepted = false;     ///< some alternative is at its end
    bool more_symbols = false; ///< some alternative can take a digit (not T)
    bool timer_completes = false;
    bool alive = false;
  };
  state_summary run(std::string_view dialled) const;

  std::string text_;
  std::vector<alternative> alternatives_;
};

} // namespace cms::mgcp
