#include "runtime/mgcp/sdp.hpp"

#include "runtime/mgcp/text.hpp"

namespace cms::mgcp {

namespace {

std::optional<media_direction> direction_from(std::string_view s) noexcept {
  if (s == "sendrecv")
    return media_direction::sendrecv;
  if (s == "sendonly")
    return media_direction::sendonly;
  if (s == "recvonly")
    return media_direction::recvonly;
  if (s == "inactive")
    return media_direction::inactive;
  return std::nullopt;
}

bool fail(std::string* error, std::string why) {
  if (error)
    *error = std::move(why);
  return false;
}

bool parse_connection(std::string_view v, sdp_connection& c, std::string* error) {
  auto t = text::tokens(v);
  if (t.size() != 3 || t[0] != "IN")
    return fail(error, "c=/o= address must be 'IN IP4 addr'");
  if (t[1] != "IP4" && t[1] != "IP6")
    return fail(error, "unsupported address type");
  for (char ch : t[2])
    if (!(text::is_alnum(ch) || ch == '.' || ch == ':' || ch == '-' || ch == '/'))
      return fail(error, "bad character in address");
  c.address_type = std::string(t[1]);
  c.address = std::string(t[2]);
  return true;
}

bool parse_rtpmap(std::string_view v, sdp_rtpmap& m, std::string* error) {
  // "0 PCMU/8000[/1]"
  auto t = text::tokens(v);
  if (t.size() != 2)
    return fail(error, "bad a=rtpmap");
  auto pt = text::parse_uint(t[0], 3, 127);
  auto parts = text::split(t[1], '/');
  if (!pt || parts.size() < 2 || parts.size() > 3 || parts[0].empty())
    return fail(error, "bad a=rtpmap");
  auto rate = text::parse_uint(parts[1], 9);
  if (!rate)
    return fail(error, "bad a=rtpmap clock rate");
  m.payload_type = static_cast<int>(*pt);
  m.encoding = std::string(parts[0]);
  m.clock_rate = static_cast<std::uint32_t>(*rate);
  if (parts.size() == 3) {
    if (parts[2].empty())
      return fail(error, "bad a=rtpmap channels");
    m.channels = std::string(parts[2]);
  }
  return true;
}

bool parse_media_line(std::string_view v, sdp_media& m, const sdp_limits& limits,
                      std::string* error) {
  auto t = text::tokens(v);
  if (t.size() < 3)
    return fail(error, "m= needs media, port and protocol");
  m.media = std::string(t[0]);
  auto port_text = t[1];
  auto slash = port_text.find('/');
  auto port = text::parse_uint(port_text.substr(0, slash), 5, 65535);
  if (!port)
    return fail(error, "bad m= port");
  m.port = static_cast<std::uint16_t>(*port);
  if (slash != std::string_view::npos) {
    auto count = text::parse_uint(port_text.substr(slash + 1), 5, 65535);
    if (!count)
      return fail(error, "bad m= port count");
    m.port_count = static_cast<std::uint16_t>(*count);
  }
  m.protocol = std::string(t[2]);
  if (t.size() - 3 > limits.max_formats)
    return fail(error, "too many m= formats");
  bool rtp = m.protocol.rfind("RTP/", 0) == 0;
  for (std::size_t i = 3; i < t.size(); ++i) {
    if (rtp && !text::parse_uint(t[i], 3, 127))
      return fail(error, "bad RTP payload type");
    m.formats.emplace_back(t[i]);
  }
  return true;
}

/// One a= value at session or media level.
bool parse_attribute(std::string_view v, std::optional<media_direction>& direction,
                     std::vector<std::string>& others, sdp_media* media, std::string* error) {
  if (auto d = direction_from(v)) {
    direction = d;
    return true;
  }
  if (media && v.rfind("rtpmap:", 0) == 0) {
    sdp_rtpmap m;
    if (!parse_rtpmap(v.substr(7), m, error))
      return false;
    media->rtpmaps.push_back(std::move(m));
    return true;
  }
  if (media && v.rfind("ptime:", 0) == 0) {
    auto p = text::parse_uint(text::trim(v.substr(6)), 6);
    if (!p || *p == 0)
      return fail(error, "bad a=ptime");
    media->ptime = static_cast<std::uint32_t>(*p);
    return true;
  }
  if (v.empty())
    return fail(error, "empty a= line");
  others.emplace_back(v);
  return true;
}

void add_line(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out.append(value);
  out += "\r\n";
}

std::string connection_text(const sdp_connection& c) {
  return "IN " + c.address_type + " " + c.address;
}

} // namespace

std::string_view to_string(media_direction d) noexcept {
  switch (d) {
  case media_direction::sendrecv:
    return "sendrecv";
  case media_direction::sendonly:
    return "sendonly";
  case media_direction::recvonly:
    return "recvonly";
  case media_direction::inactive:
    return "inactive";
  }
  return "sendrecv";
}

std::vector<int> sdp_media::payload_types() const {
  std::vector<int> out;
  for (const auto& f : formats)
    if (auto v = text::parse_uint(f, 3, 127))
      out.push_back(static_cast<int>(*v));
  return out;
}

const sdp_rtpmap* sdp_media::rtpmap(int payload_type) const noexcept {
  for (const auto& m : rtpmaps)
    if (m.payload_type == payload_type)
      return &m;
  return nullptr;
}

const sdp_media* session_description::first_audio() const noexcept {
  for (const auto& m : media)
    if (m.media == "audio")
      return &m;
  return nullptr;
}

const sdp_connection* session_description::audio_connection() const noexcept {
  auto m = first_audio();
  if (m && m->connection)
    return &*m->connection;
  return connection ? &*connection : nullptr;
}

std::optional<session_description> parse_sdp(std::string_view input, std::string* error,
                                             const sdp_limits& limits) {
  session_description sd;
  bool seen_v = false, seen_o = false, seen_s = false, seen_t = false;
  std::size_t count = 0, start = 0;
  while (start < input.size()) {
    auto nl = input.find('\n', start);
    auto end = nl == std::string_view::npos ? input.size() : nl;
    auto line = input.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (text::trim(line).empty())
      continue;
    if (++count > limits.max_lines)
      return fail(error, "too many SDP lines"), std::nullopt;
    for (char c : line)
      if (text::is_control(c))
        return fail(error, "control character in SDP"), std::nullopt;
    if (line.size() < 2 || line[1] != '=' || !(line[0] >= 'a' && line[0] <= 'z'))
      return fail(error, "SDP line is not 'x=value'"), std::nullopt;
    char type = line[0];
    auto value = line.substr(2);
    if (!seen_v && type != 'v')
      return fail(error, "SDP must start with v="), std::nullopt;
    sdp_media* media = sd.media.empty() ? nullptr : &sd.media.back();
    bool ok = true;
    switch (type) {
    case 'v':
      if (seen_v || value != "0")
        ok = fail(error, "SDP version must be v=0 (once)");
      seen_v = true;
      break;
    case 'o': {
      auto t = text::tokens(value);
      if (seen_o || media || t.size() != 6) {
        ok = fail(error, "o= needs 6 fields");
        break;
      }
      seen_o = true;
      sd.origin_user = std::string(t[0]);
      sd.session_id = std::string(t[1]);
      sd.session_version = std::string(t[2]);
      ok = parse_connection(std::string(t[3]) + " " + std::string(t[4]) + " " + std::string(t[5]),
                            sd.origin_address, error);
      break;
    }
    case 's':
      if (seen_s || media)
        ok = fail(error, "misplaced s=");
      seen_s = true;
      sd.session_name = std::string(value);
      break;
    case 'c': {
      sdp_connection c;
      ok = parse_connection(value, c, error);
      if (media)
        media->connection = c;
      else
        sd.connection = c;
      break;
    }
    case 't':
      if (media) {
        ok = fail(error, "t= inside a media section");
        break;
      }
      if (!seen_t)
        sd.timing = std::string(text::trim(value));
      else
        sd.other_lines.push_back("t=" + std::string(value)); // several t= are legal
      seen_t = true;
      break;
    case 'm': {
      if (sd.media.size() >= limits.max_media) {
        ok = fail(error, "too many m= sections");
        break;
      }
      sdp_media m;
      ok = parse_media_line(value, m, limits, error);
      if (ok)
        sd.media.push_back(std::move(m));
      break;
    }
    case 'a':
      ok = media ? parse_attribute(value, media->direction, media->attributes, media, error)
                 : parse_attribute(value, sd.direction, sd.attributes, nullptr, error);
      break;
    default:
      (media ? media->other_lines : sd.other_lines).emplace_back(line);
      break;
    }
    if (!ok)
      return std::nullopt;
  }
  if (!seen_v)
    return fail(error, "empty session description"), std::nullopt;
  return sd;
}

std::string build_sdp(const session_description& sd) {
  std::string out;
  out.reserve(256);
  add_line(out, 'v', "0");
  // o= is mandatory in RFC 4566 but older gateways omit it (RFC 2705 examples): never emit an
  // o= line with an empty field, it would not parse back.
  auto field = [](const std::string& s, const char* dflt) {
    return s.empty() ? std::string(dflt) : s;
  };
  sdp_connection origin = sd.origin_address;
  if (origin.address.empty())
    origin = sdp_connection{"IP4", "0.0.0.0"};
  add_line(out, 'o',
           field(sd.origin_user, "-") + " " + field(sd.session_id, "0") + " " +
             field(sd.session_version, "0") + " " + connection_text(origin));
  add_line(out, 's', sd.session_name);
  // Lines RFC 4566 puts between s= and c= (i, u, e, p) and after it (b, extra t/r, z, k).
  auto before_c = [](const std::string& l) {
    return !l.empty() && std::string_view("iuep").find(l[0]) != std::string_view::npos;
  };
  for (const auto& l : sd.other_lines)
    if (before_c(l))
      out += l + "\r\n";
  if (sd.connection)
    add_line(out, 'c', connection_text(*sd.connection));
  for (const auto& l : sd.other_lines)
    if (!before_c(l) && !l.empty() && l[0] == 'b')
      out += l + "\r\n";
  add_line(out, 't', sd.timing);
  for (const auto& l : sd.other_lines)
    if (!before_c(l) && !l.empty() && l[0] != 'b')
      out += l + "\r\n";
  for (const auto& a : sd.attributes)
    add_line(out, 'a', a);
  if (sd.direction)
    add_line(out, 'a', to_string(*sd.direction));
  for (const auto& m : sd.media) {
    std::string mline = m.media + " " + std::to_string(m.port);
    if (m.port_count)
      mline += "/" + std::to_string(*m.port_count);
    mline += " " + m.protocol;
    for (const auto& f : m.formats)
      mline += " " + f;
    add_line(out, 'm', mline);
    for (const auto& l : m.other_lines)
      if (!l.empty() && l[0] == 'i')
        out += l + "\r\n";
    if (m.connection)
      add_line(out, 'c', connection_text(*m.connection));
    for (const auto& l : m.other_lines)
      if (!l.empty() && l[0] != 'i')
        out += l + "\r\n";
    for (const auto& r : m.rtpmaps) {
      std::string v = "rtpmap:" + std::to_string(r.payload_type) + " " + r.encoding + "/" +
                      std::to_string(r.clock_rate);
      if (r.channels)
        v += "/" + *r.channels;
      add_line(out, 'a', v);
    }
    if (m.ptime)
      add_line(out, 'a', "ptime:" + std::to_string(*m.ptime));
    for (const auto& a : m.attributes)
      add_line(out, 'a', a);
    if (m.direction)
      add_line(out, 'a', to_string(*m.direction));
  }
  return out;
}

} // namespace cms::mgcp
