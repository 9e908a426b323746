#include "fuzz_checks.hpp"

#include "runtime/mgcp/codec.hpp"
#include "runtime/mgcp/digit_map.hpp"
#include "runtime/mgcp/endpoint_name.hpp"
#include "runtime/mgcp/events.hpp"
#include "runtime/mgcp/parameters.hpp"
#include "runtime/mgcp/sdp.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace cms::mgcp::fuzz {

namespace {

[[noreturn]] void violated(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz invariant violated: %s\ninput (%zu bytes): %.*s\n", what, input.size(),
               static_cast<int>(std::min<std::size_t>(input.size(), 2000)), input.data());
  std::abort();
}

void require(bool ok, const char* what, std::string_view input) {
  if (!ok)
    violated(what, input);
}

/// parse -> build -> parse must succeed and be a fixed point.
template <typename Parse, typename Build>
void check_value_round_trip(std::string_view value, Parse parse, Build build, const char* what) {
  auto first = parse(value);
  if (!first)
    return;
  auto text = build(*first);
  auto second = parse(text);
  require(second.has_value(), what, value);
  require(build(*second) == text, what, value);
}

void check_parameter(const parameter& p) {
  std::string_view v = p.value;
  check_value_round_trip(v, parse_requested_events, build_requested_events,
                         "R: value does not survive parse/build");
  check_value_round_trip(v, parse_event_list, build_event_list,
                         "event list does not survive parse/build");
  check_value_round_trip(v, parse_response_ack, build_response_ack,
                         "K: value does not survive parse/build");
  check_value_round_trip(v, parse_connection_parameters, build_connection_parameters,
                         "P: value does not survive parse/build");
  check_value_round_trip(v, parse_local_connection_options, build_local_connection_options,
                         "L: value does not survive parse/build");
  check_value_round_trip(
    v, parse_notified_entity, [](const notified_entity& n) { return n.to_string(); },
    "N: value does not survive parse/build");
  if (auto ep = parse_endpoint_name(v)) {
    auto again = parse_endpoint_name(ep->to_string());
    require(again && again->same_as(*ep), "endpoint name does not survive parse/print", v);
  }
  if (auto ob = parse_observed_events(v))
    (void)observed_digits(*ob);
  (void)parse_connection_mode(v);
  (void)parse_restart_method(v);
  (void)parse_restart_delay(v);
  if (p.name == "D") {
    if (auto m = digit_map::compile(v))
      (void)m->match("5551234");
  }
}

} // namespace

void check_mgcp(std::string_view datagram) {
  auto result = decode(datagram);
  for (const auto& e : result.errors) {
    require(e.code == 510 || e.code == 504 || e.code == 528 || e.code == 539,
            "decode error with an undocumented code", datagram);
    require(!e.reason.empty(), "decode error without a reason", datagram);
    if (e.transaction_id)
      require(*e.transaction_id >= 1 && *e.transaction_id <= 999999999,
              "error transaction id out of range", datagram);
  }
  require(result.messages.size() + result.errors.size() >= 1, "datagram produced nothing",
          datagram);
  for (const auto& m : result.messages) {
    auto text = std::visit([](const auto& x) { return encode(x); }, m);
    auto again = decode(text);
    require(again.errors.empty(), "re-encoded message does not decode", datagram);
    require(again.messages.size() == 1 && again.messages[0] == m, "decode(encode(m)) != m",
            datagram);
    const auto& params =
      std::visit([](const auto& x) -> const parameter_list& { return x.params; }, m);
    for (const auto& p : params)
      check_parameter(p);
    const auto& sdp =
      std::visit([](const auto& x) -> const std::optional<std::string>& { return x.sdp; }, m);
    if (sdp)
      check_sdp(*sdp);
  }
  if (!result.messages.empty()) {
    auto all = decode(encode(result.messages));
    require(all.errors.empty() && all.messages == result.messages,
            "piggy-backed messages do not survive encode/decode", datagram);
  }
}

void check_sdp(std::string_view text) {
  std::string error;
  auto first = parse_sdp(text, &error);
  if (!first) {
    require(!error.empty(), "SDP refused without a reason", text);
    return;
  }
  auto built = build_sdp(*first);
  // build_sdp adds the mandatory o=, s= and t= lines when the input lacked them, so the rebuilt
  // text may be three lines over the limit the input was held to.
  sdp_limits relaxed;
  relaxed.max_lines += 3;
  auto second = parse_sdp(built, &error, relaxed);
  require(second.has_value(), "built SDP does not parse", text);
  require(build_sdp(*second) == built, "build_sdp is not a fixed point", text);
  auto third = parse_sdp(build_sdp(*second), nullptr, relaxed);
  require(third && *third == *second, "parse_sdp(build_sdp(x)) != x", text);
  (void)first->audio_connection();
}

void check_digit_map(std::string_view input) {
  auto nl = input.find('\n');
  auto map_text = input.substr(0, nl);
  auto dialled = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
  std::string error;
  auto map = digit_map::compile(map_text, &error);
  if (!map) {
    require(!error.empty(), "digit map refused without a reason", input);
    return;
  }
  auto recompiled = digit_map::compile(map->text());
  require(recompiled && recompiled->alternatives() == map->alternatives(),
          "digit map text does not recompile", input);
  if (dialled.size() > 64)
    dialled = dialled.substr(0, 64);
  for (std::size_t i = 0; i <= dialled.size(); ++i) {
    auto prefix = std::string(dialled.substr(0, i));
    auto r = map->match(prefix);
    require(r.match != digit_match::partial || r.timer != digit_timer::none,
            "partial match without a timer", input);
    require(r.match == digit_match::partial || r.timer == digit_timer::none,
            "timer outside a partial match", input);
    bool ends_with_timer = !prefix.empty() && (prefix.back() == 'T' || prefix.back() == 't');
    if (ends_with_timer)
      continue;
    for (char d : std::string_view("0123456789*#")) {
      auto next = map->match(prefix + d);
      if (r.match == digit_match::none)
        require(next.match == digit_match::none, "a digit revived a dead match", input);
      if (r.match == digit_match::full)
        require(next.match == digit_match::none, "a digit extended a final full match", input);
    }
    if (r.match == digit_match::partial && r.timer == digit_timer::short_timer)
      require(map->match(prefix + "T").match == digit_match::full,
              "short timer expiry does not complete the match", input);
  }
}

} // namespace cms::mgcp::fuzz
