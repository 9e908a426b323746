#include "runtime/mgcp/codec.hpp"

#include "runtime/mgcp/digit_map.hpp"
#include "runtime/mgcp/endpoint_name.hpp"
#include "runtime/mgcp/events.hpp"
#include "runtime/mgcp/parameters.hpp"
#include "runtime/mgcp/text.hpp"

#include <array>
#include <cstdio>

namespace cms::mgcp {

namespace {

constexpr std::uint32_t max_transaction_id = 999999999;

using line_list = std::vector<std::string_view>;

/// Parameter lines of RFC 3435 3.2.2 (plus RC/LC, which NCS call agents also send as lines).
constexpr std::array<std::string_view, 28> known_parameters{
  "K", "B",  "C",  "I", "N", "X", "L",  "M",  "R",  "S",  "D",  "O",  "P",  "E",
  "Z", "Z2", "I2", "F", "Q", "T", "RM", "RD", "ES", "PL", "MD", "RC", "LC", "A"};

bool known_parameter(std::string_view upper_name) noexcept {
  for (auto k : known_parameters)
    if (k == upper_name)
      return true;
  // Vendor extensions (RFC 3435 3.2.2): "X-name" optional, "X+name" mandatory to understand.
  return upper_name.size() > 2 && upper_name[0] == 'X' &&
         (upper_name[1] == '-' || upper_name[1] == '+');
}

std::optional<std::uint32_t> parse_tid(std::string_view s) noexcept {
  auto v = text::parse_uint(s, 9, max_transaction_id);
  if (!v || *v == 0)
    return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

/// Splits at LF, dropping one CR before it; a final LF does not start another line.
line_list split_lines(std::string_view d) {
  line_list out;
  std::size_t start = 0;
  while (start < d.size()) {
    auto nl = d.find('\n', start);
    auto end = nl == std::string_view::npos ? d.size() : nl;
    auto line = d.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos)
      break;
    start = nl + 1;
  }
  return out;
}

bool blank(std::string_view line) noexcept { return text::trim(line).empty(); }

struct header {
  bool is_response = false;
  std::optional<std::uint32_t> tid;
};

/// Looks only at the first line, to learn the transaction id before anything else can fail.
header peek_header(std::string_view line) {
  header h;
  auto t = text::tokens(line);
  if (t.empty())
    return h;
  h.is_response = t[0].size() == 3 && text::parse_uint(t[0], 3).has_value();
  if (t.size() >= 2)
    h.tid = parse_tid(t[1]);
  return h;
}

decode_error make_error(int code, std::string reason, const header& h) {
  decode_error e;
  e.code = code;
  e.reason = std::move(reason);
  e.transaction_id = h.tid;
  e.is_response = h.is_response;
  return e;
}

/// 539 with a reason when the value of a known parameter is not acceptable; empty when it is.
std::string check_value(std::string_view name, std::string_view value) {
  if (name == "K") {
    if (!parse_response_ack(value))
      return "bad K: (response ack) value";
  } else if (name == "M") {
    if (!parse_connection_mode(value) && !is_extension_value(value))
      return "unknown connection mode M: " + std::string(value);
  } else if (name == "RM") {
    if (!parse_restart_method(value) && !is_extension_value(value))
      return "unknown restart method RM: " + std::string(value);
  } else if (name == "RD") {
    if (!parse_restart_delay(value))
      return "RD: is not a number of seconds";
  } else if (name == "C" || name == "X") {
    if (!valid_hex_id(value))
      return std::string(name) + ": must be 1 to 32 hex digits";
  } else if (name == "I" || name == "I2") {
    for (auto id : text::split(value, ','))
      if (!valid_hex_id(text::trim(id)))
        return std::string(name) + ": must be 1 to 32 hex digits";
  } else if (name == "N") {
    if (!parse_notified_entity(value))
      return "bad notified entity N: " + std::string(value);
  } else if (name == "Z" || name == "Z2") {
    for (auto ep : text::split(value, ','))
      if (!parse_endpoint_name(text::trim(ep)))
        return "bad endpoint name in " + std::string(name);
  } else if (name == "R") {
    if (!parse_requested_events(value))
      return "bad requested events R: " + std::string(value);
  } else if (name == "S" || name == "O" || name == "T") {
    if (!parse_event_list(value))
      return "bad event list " + std::string(name) + ": " + std::string(value);
  } else if (name == "D") {
    std::string why;
    if (!value.empty() && !digit_map::compile(value, &why))
      return "bad digit map D: " + why;
  } else if (name == "MD") {
    if (!text::parse_uint(value, 9))
      return "MD: is not a number";
  }
  return {};
}

/// Parameter lines until the first blank line, then the session description.
bool parse_body(const line_list& lines, std::size_t first, const header& h, parameter_list& params,
                std::optional<std::string>& sdp, decode_result& out) {
  std::size_t i = first;
  for (; i < lines.size(); ++i) {
    auto line = lines[i];
    if (blank(line))
      break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      out.errors.push_back(make_error(510, "parameter line without ':'", h));
      return false;
    }
    auto raw_name = text::trim(line.substr(0, colon));
    if (raw_name.empty()) {
      out.errors.push_back(make_error(510, "empty parameter name", h));
      return false;
    }
    for (char c : raw_name) {
      if (!(text::is_alnum(c) || c == '-' || c == '+' || c == '_')) {
        out.errors.push_back(make_error(510, "bad character in parameter name", h));
        return false;
      }
    }
    auto name = text::upper(raw_name);
    auto value = text::trim(line.substr(colon + 1));
    if (!known_parameter(name)) {
      out.errors.push_back(make_error(539, "unknown parameter " + name, h));
      return false;
    }
    if (auto why = check_value(name, value); !why.empty()) {
      out.errors.push_back(make_error(539, std::move(why), h));
      return false;
    }
    params.push_back(parameter{std::move(name), std::string(value)});
  }
  // Session description: every non-blank line after the separator, normalized to CRLF.
  std::string text;
  for (++i; i < lines.size(); ++i) {
    if (blank(lines[i]))
      continue;
    text.append(lines[i]);
    text.append("\r\n");
  }
  if (!text.empty())
    sdp = std::move(text);
  return true;
}

void parse_command(const line_list& lines, std::size_t first, const header& h, decode_result& out) {
  auto t = text::tokens(lines[first]);
  auto fail = [&](int code, std::string why) {
    out.errors.push_back(make_error(code, std::move(why), h));
  };
  if (t.size() < 2 || !h.tid)
    return fail(510, "command without a valid transaction id");
  auto kind = verb_from_string(t[0]);
  if (!kind)
    return fail(504, "unknown command " + std::string(t[0].substr(0, 32)));
  if (t.size() < 5)
    return fail(510, "command line needs: verb tid endpoint MGCP 1.0");
  std::string why;
  if (!parse_endpoint_name(t[2], &why))
    return fail(510, why);
  if (!text::iequals(t[3], "MGCP") || t[4] != "1.0")
    return fail(528, "unsupported protocol version " + std::string(t[3].substr(0, 16)) + " " +
                       std::string(t[4].substr(0, 16)));
  command cmd;
  cmd.kind = *kind;
  cmd.transaction_id = *h.tid;
  cmd.endpoint = std::string(t[2]);
  cmd.version = "MGCP 1.0";
  if (t.size() == 6 || t.size() > 7)
    return fail(510, "bad protocol version field");
  if (t.size() == 7) {
    // PacketCable profiles: "MGCP 1.0 NCS 1.0" (lines), "MGCP 1.0 TGCP 1.0" (trunks).
    if (!(text::iequals(t[5], "NCS") || text::iequals(t[5], "TGCP")) || t[6] != "1.0")
      return fail(528, "unsupported profile " + std::string(t[5].substr(0, 16)) + " " +
                         std::string(t[6].substr(0, 16)));
    cmd.version += " " + text::upper(t[5]) + " 1.0";
  }
  if (!parse_body(lines, first + 1, h, cmd.params, cmd.sdp, out))
    return;
  out.messages.emplace_back(std::move(cmd));
}

void parse_response(const line_list& lines, std::size_t first, const header& h,
                    decode_result& out) {
  auto line = lines[first];
  auto t = text::tokens(line);
  if (t.size() < 2 || !h.tid) {
    out.errors.push_back(make_error(510, "response without a valid transaction id", h));
    return;
  }
  response rsp;
  rsp.code = static_cast<int>(*text::parse_uint(t[0], 3));
  rsp.transaction_id = *h.tid;
  auto after_tid = static_cast<std::size_t>(t[1].data() + t[1].size() - line.data());
  rsp.comment = std::string(text::trim(line.substr(after_tid)));
  if (!parse_body(lines, first + 1, h, rsp.params, rsp.sdp, out))
    return;
  out.messages.emplace_back(std::move(rsp));
}

/// One message: the lines between "." separators.
void parse_message(const line_list& lines, const codec_limits& limits, decode_result& out) {
  std::size_t first = 0;
  while (first < lines.size() && blank(lines[first]))
    ++first;
  if (first == lines.size())
    return; // nothing between two separators
  auto h = peek_header(lines[first]);
  if (lines.size() - first > limits.max_lines) {
    out.errors.push_back(
      make_error(510, "message has more than " + std::to_string(limits.max_lines) + " lines", h));
    return;
  }
  for (std::size_t i = first; i < lines.size(); ++i) {
    if (lines[i].size() > limits.max_line) {
      out.errors.push_back(
        make_error(510, "line longer than " + std::to_string(limits.max_line) + " bytes", h));
      return;
    }
    for (char c : lines[i]) {
      if (text::is_control(c)) {
        out.errors.push_back(make_error(510, "control character in message", h));
        return;
      }
    }
  }
  if (h.is_response)
    parse_response(lines, first, h, out);
  else
    parse_command(lines, first, h, out);
}

/// Line endings and stray control characters must never break the one-line-per-field framing.
void append_field(std::string& out, std::string_view s) {
  for (char c : s)
    out += (c == '\r' || c == '\n') ? ' ' : c;
}

void append_body(std::string& out, const parameter_list& params,
                 const std::optional<std::string>& sdp) {
  for (const auto& p : params) {
    append_field(out, p.name);
    out += ':';
    if (!p.value.empty()) {
      out += ' ';
      append_field(out, p.value);
    }
    out += "\r\n";
  }
  if (!sdp)
    return;
  out += "\r\n";
  for (auto line : split_lines(*sdp)) {
    if (blank(line))
      continue;
    out.append(line);
    out += "\r\n";
  }
}

} // namespace

decode_result decode(std::string_view datagram, const codec_limits& limits) {
  decode_result out;
  if (datagram.size() > limits.max_datagram) {
    auto first_line = datagram.substr(0, std::min(limits.max_line, datagram.find('\n')));
    out.errors.push_back(
      make_error(510, "datagram larger than " + std::to_string(limits.max_datagram) + " bytes",
                 peek_header(first_line)));
    return out;
  }
  auto lines = split_lines(datagram);
  line_list current;
  std::size_t count = 0;
  auto flush = [&] {
    bool empty = true;
    for (auto l : current)
      empty = empty && blank(l);
    if (!empty) {
      if (++count > limits.max_messages) {
        std::size_t f = 0;
        while (blank(current[f]))
          ++f;
        out.errors.push_back(make_error(
          510, "more than " + std::to_string(limits.max_messages) + " piggy-backed messages",
          peek_header(current[f])));
      } else {
        parse_message(current, limits, out);
      }
    }
    current.clear();
  };
  for (auto line : lines) {
    if (text::trim(line) == ".") {
      flush();
      continue;
    }
    current.push_back(line);
  }
  flush();
  if (out.messages.empty() && out.errors.empty()) {
    decode_error e;
    e.code = 510;
    e.reason = "empty datagram";
    out.errors.push_back(std::move(e));
  }
  return out;
}

std::string encode(const command& cmd) {
  std::string out;
  out.reserve(128 + (cmd.sdp ? cmd.sdp->size() : 0));
  out += to_string(cmd.kind);
  out += ' ';
  out += std::to_string(cmd.transaction_id);
  out += ' ';
  append_field(out, cmd.endpoint);
  out += ' ';
  append_field(out, cmd.version);
  out += "\r\n";
  append_body(out, cmd.params, cmd.sdp);
  return out;
}

std::string encode(const response& rsp) {
  std::string out;
  out.reserve(64 + (rsp.sdp ? rsp.sdp->size() : 0));
  char code[16];
  std::snprintf(code, sizeof code, "%03d", rsp.code);
  out += code;
  out += ' ';
  out += std::to_string(rsp.transaction_id);
  if (!rsp.comment.empty()) {
    out += ' ';
    append_field(out, rsp.comment);
  }
  out += "\r\n";
  append_body(out, rsp.params, rsp.sdp);
  return out;
}

std::string encode(const std::vector<message>& msgs) {
  std::string out;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (i)
      out += ".\r\n";
    std::visit([&out](const auto& m) { out += encode(m); }, msgs[i]);
  }
  return out;
}

std::string_view default_comment(int code) noexcept {
  switch (code) {
  case 0:
    return "Response acknowledgement";
  case 100:
    return "Transaction being executed";
  case 101:
    return "Transaction queued for execution";
  case 200:
    return "Transaction executed normally";
  case 250:
    return "Connection was deleted";
  case 400:
    return "Transient error";
  case 401:
    return "Phone is already off hook";
  case 402:
    return "Phone is already on hook";
  case 403:
    return "Insufficient resources at this time";
  case 404:
    return "Insufficient bandwidth at this time";
  case 405:
    return "Endpoint is restarting";
  case 406:
    return "Transaction time-out";
  case 407:
    return "Transaction aborted";
  case 409:
    return "Internal overload";
  case 410:
    return "No endpoint available";
  case 500:
    return "Endpoint unknown";
  case 501:
    return "Endpoint not ready";
  case 502:
    return "Insufficient resources";
  case 503:
    return "All of wildcard too complicated";
  case 504:
    return "Unknown or unsupported command";
  case 505:
    return "Unsupported RemoteConnectionDescriptor";
  case 506:
    return "Unable to satisfy both LocalConnectionOptions and RemoteConnectionDescriptor";
  case 507:
    return "Unsupported functionality";
  case 508:
    return "Unknown or unsupported quarantine handling";
  case 509:
    return "Error in RemoteConnectionDescriptor";
  case 510:
    return "Protocol error";
  case 511:
    return "Unrecognized extension";
  case 512:
    return "Cannot detect event";
  case 513:
    return "Cannot generate signal";
  case 514:
    return "Cannot send announcement";
  case 515:
    return "Incorrect connection-id";
  case 516:
    return "Unknown call-id";
  case 517:
    return "Unsupported or invalid mode";
  case 518:
    return "Unsupported or unknown package";
  case 519:
    return "Endpoint does not have a digit map";
  case 520:
    return "Endpoint is restarting";
  case 521:
    return "Endpoint redirected to another Call Agent";
  case 522:
    return "No such event or signal";
  case 523:
    return "Unknown action or illegal combination of actions";
  case 524:
    return "Internal inconsistency in LocalConnectionOptions";
  case 525:
    return "Unknown extension in LocalConnectionOptions";
  case 526:
    return "Insufficient bandwidth";
  case 527:
    return "Missing RemoteConnectionDescriptor";
  case 528:
    return "Incompatible protocol version";
  case 529:
    return "Internal hardware failure";
  case 530:
    return "CAS signaling protocol error";
  case 531:
    return "Failure of a grouping of trunks";
  case 532:
    return "Unsupported value(s) in LocalConnectionOptions";
  case 533:
    return "Response too big";
  case 534:
    return "Codec negotiation failure";
  case 535:
    return "Packetization period not supported";
  case 536:
    return "Unknown or unsupported RestartMethod";
  case 537:
    return "Unknown or unsupported digit map extension";
  case 538:
    return "Event/signal parameter error";
  case 539:
    return "Invalid or unsupported command parameter";
  case 540:
    return "Per endpoint connection limit exceeded";
  case 541:
    return "Invalid or unsupported LocalConnectionOptions";
  default:
    break;
  }
  if (code >= 100 && code < 200)
    return "Provisional response";
  if (code >= 200 && code < 300)
    return "Success";
  if (code >= 400 && code < 500)
    return "Transient error";
  if (code >= 800 && code < 900)
    return "Package-specific error";
  return "Permanent error";
}

} // namespace cms::mgcp
