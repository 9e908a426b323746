#include "runtime/mgcp/digit_map.hpp"

#include "runtime/mgcp/text.hpp"

namespace cms::mgcp {

namespace {

/// Symbols: 0-9 -> 0..9, '*' -> 10, '#' -> 11, 'A'..'K' -> 12..22, 'T' (timer) -> 23.
constexpr int timer_symbol = 23;
constexpr std::uint32_t timer_bit = 1u << timer_symbol;
constexpr std::uint32_t digit_bits = 0x3ffu;

int symbol_index(char c) noexcept {
  if (text::is_digit(c))
    return c - '0';
  if (c == '*')
    return 10;
  if (c == '#')
    return 11;
  char u = text::to_upper(c);
  if (u == 'T')
    return timer_symbol;
  if (u >= 'A' && u <= 'K')
    return 12 + (u - 'A');
  return -1;
}

bool fail(std::string* error, std::string why) {
  if (error)
    *error = std::move(why);
  return false;
}

/// Element sets reachable by skipping "x." style elements (zero repetitions).
void close(std::vector<bool>& states, const std::vector<std::uint32_t>& symbols,
           const std::vector<bool>& repeat) {
  for (std::size_t i = 0; i < symbols.size(); ++i)
    if (states[i] && repeat[i])
      states[i + 1] = true;
}

} // namespace

std::optional<digit_map> digit_map::compile(std::string_view input, std::string* error) {
  auto t = text::trim(input);
  if (t.empty())
    return fail(error, "empty digit map"), std::nullopt;
  if (t.size() > max_text)
    return fail(error, "digit map too long"), std::nullopt;
  if (t.front() == '(') {
    if (t.size() < 2 || t.back() != ')')
      return fail(error, "unbalanced parentheses in digit map"), std::nullopt;
    t = t.substr(1, t.size() - 2);
  }
  digit_map map;
  map.text_ = std::string(text::trim(input));
  for (auto alt_text : text::split(t, '|')) {
    alt_text = text::trim(alt_text);
    if (alt_text.empty())
      return fail(error, "empty digit map alternative"), std::nullopt;
    if (map.alternatives_.size() >= max_alternatives)
      return fail(error, "too many digit map alternatives"), std::nullopt;
    alternative alt;
    for (std::size_t i = 0; i < alt_text.size(); ++i) {
      char c = alt_text[i];
      if (c == '.') {
        if (alt.empty() || alt.back().repeat)
          return fail(error, "'.' must follow a digit position"), std::nullopt;
        alt.back().repeat = true;
        continue;
      }
      if (alt.size() >= max_elements)
        return fail(error, "digit map alternative too long"), std::nullopt;
      element el;
      if (c == 'x' || c == 'X') {
        el.symbols = digit_bits;
      } else if (c == '[') {
        auto close_pos = alt_text.find(']', i + 1);
        if (close_pos == std::string_view::npos)
          return fail(error, "unterminated '[' in digit map"), std::nullopt;
        auto body = alt_text.substr(i + 1, close_pos - i - 1);
        for (std::size_t j = 0; j < body.size(); ++j) {
          if (j + 2 < body.size() && body[j + 1] == '-') {
            if (!text::is_digit(body[j]) || !text::is_digit(body[j + 2]) || body[j] > body[j + 2])
              return fail(error, "bad range in digit map"), std::nullopt;
            for (char d = body[j]; d <= body[j + 2]; ++d)
              el.symbols |= 1u << (d - '0');
            j += 2;
          } else if (body[j] == 'x' || body[j] == 'X') {
            el.symbols |= digit_bits;
          } else {
            int s = symbol_index(body[j]);
            if (s < 0)
              return fail(error, "bad character in digit map range"), std::nullopt;
            el.symbols |= 1u << s;
          }
        }
        if (el.symbols == 0)
          return fail(error, "empty range in digit map"), std::nullopt;
        i = close_pos;
      } else {
        int s = symbol_index(c);
        if (s < 0)
          return fail(error, std::string("bad character '") + c + "' in digit map"), std::nullopt;
        el.symbols = 1u << s;
      }
      alt.push_back(el);
    }
    map.alternatives_.push_back(std::move(alt));
  }
  return map;
}

digit_map::state_summary digit_map::run(std::string_view dialled) const {
  state_summary sum;
  std::vector<std::uint32_t> symbols;
  std::vector<bool> repeat;
  for (const auto& alt : alternatives_) {
    symbols.clear();
    repeat.clear();
    for (const auto& el : alt) {
      symbols.push_back(el.symbols);
      repeat.push_back(el.repeat);
    }
    const std::size_t n = alt.size();
    std::vector<bool> states(n + 1, false), next(n + 1, false);
    states[0] = true;
    close(states, symbols, repeat);
    bool alive = true;
    for (char c : dialled) {
      int s = symbol_index(c);
      if (s < 0) {
        alive = false;
        break;
      }
      std::fill(next.begin(), next.end(), false);
      bool any = false;
      for (std::size_t i = 0; i < n; ++i) {
        if (!states[i] || !(symbols[i] & (1u << s)))
          continue;
        next[repeat[i] ? i : i + 1] = true;
        any = true;
      }
      if (!any) {
        alive = false;
        break;
      }
      close(next, symbols, repeat);
      states.swap(next);
    }
    if (!alive)
      continue;
    sum.alive = true;
    if (states[n])
      sum.accepted = true;
    for (std::size_t i = 0; i < n; ++i) {
      if (!states[i])
        continue;
      if (symbols[i] & ~timer_bit)
        sum.more_symbols = true;
      if (symbols[i] & timer_bit) {
        // Does consuming T here reach the end (possibly over trailing "x." elements)?
        std::size_t j = repeat[i] ? i : i + 1;
        bool reach = j == n;
        for (std::size_t k = j; !reach && k < n && repeat[k]; ++k)
          reach = k + 1 == n;
        if (reach)
          sum.timer_completes = true;
      }
    }
  }
  return sum;
}

digit_map_result digit_map::match(std::string_view dialled) const {
  auto sum = run(dialled);
  if (!dialled.empty() && text::to_upper(dialled.back()) == 'T') {
    // The timer expired: a pattern with T completes, and so does a match that was waiting for
    // a possible longer one.
    if (sum.accepted)
      return {digit_match::full, digit_timer::none};
    if (run(dialled.substr(0, dialled.size() - 1)).accepted)
      return {digit_match::full, digit_timer::none};
    return {digit_match::none, digit_timer::none};
  }
  if (!sum.alive)
    return {digit_match::none, digit_timer::none};
  if (sum.accepted && !sum.more_symbols && !sum.timer_completes)
    return {digit_match::full, digit_timer::none};
  if (sum.accepted || sum.timer_completes)
    return {digit_match::partial, digit_timer::short_timer};
  if (sum.more_symbols)
    return {digit_match::partial, digit_timer::long_timer};
  // Only a T that does not end the pattern could follow: waiting cannot help.
  return {digit_match::none, digit_timer::none};
}

} // namespace cms::mgcp
