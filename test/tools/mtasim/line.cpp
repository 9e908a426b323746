#include "test/tools/mtasim/line.hpp"

#include "runtime/mgcp/codec.hpp"
#include "test/tools/mtasim/sdp_lite.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace cms::sim {

namespace {

constexpr const char* ncs_version = "MGCP 1.0 NCS 1.0";

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

const std::set<std::string> line_events{"hd", "hu", "hf", "oc", "of", "ld"};
const std::set<std::string> line_signals{
  "dl", "rg",  "r0",  "r1",  "r2",  "r3", "r4",   "r5",  "r6", "r7", "rs", "rt",  "bz", "ro",
  "wt", "wt1", "wt2", "wt3", "wt4", "ci", "vmwi", "mwi", "sl", "ot", "cf", "sdl", "oc"};
const std::set<std::string> modes{"sendrecv", "sendonly", "recvonly", "inactive",
                                  "loopback", "conttest", "netwloop", "netwtest"};

bool valid_digit_event(const std::string& name) {
  if (name.size() == 1) {
    char c = name[0];
    return std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#' || c == 'x' ||
           c == 't' || (c >= 'a' && c <= 'd');
  }
  return name.size() >= 3 && name.front() == '[' && name.back() == ']';
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty())
      out += sep;
    out += s;
  }
  return out;
}

std::uint64_t next_connection_number() {
  static std::uint64_t n = 0;
  return ++n;
}

} // namespace

mgcp::response make_response(const mgcp::command& cmd, int code, std::string comment) {
  mgcp::response r;
  r.code = code;
  r.transaction_id = cmd.transaction_id;
  r.comment = comment.empty() ? std::string(mgcp::default_comment(code)) : std::move(comment);
  return r;
}

notified_entity parse_notified_entity(const std::string& text, const mgcp::udp_endpoint& from) {
  notified_entity ne{text, from};
  std::string rest = text;
  auto at = rest.find('@');
  if (at != std::string::npos)
    rest = rest.substr(at + 1);
  std::string host = rest;
  std::uint16_t port = from.port();
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos)
      throw std::invalid_argument("bad notified entity '" + text + "'");
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() == ':')
      rest = rest.substr(1);
    else
      rest.clear();
  } else {
    auto colon = rest.rfind(':');
    if (colon != std::string::npos) {
      host = rest.substr(0, colon);
      rest = rest.substr(colon + 1);
    } else {
      rest.clear();
    }
  }
  if (!rest.empty()) {
    unsigned v = 0;
    for (char c : rest) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || v > 65535)
        throw std::invalid_argument("bad port in notified entity '" + text + "'");
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535)
      throw std::invalid_argument("bad port in notified entity '" + text + "'");
    port = static_cast<std::uint16_t>(v);
  }
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  ne.address = mgcp::udp_endpoint(ec ? from.address() : addr, port);
  return ne;
}

struct line::pending_request {
  bool is_rqnt = false;
  bool new_request = false; ///< X: or R: present (or RQNT): lockstep ends, quarantine replays
  std::optional<std::vector<requested_event>> events;
  std::optional<std::vector<signal_request>> signals;
  std::optional<digit_map> map;
  std::optional<std::string> request_id;
  std::optional<notified_entity> ne;
  bool discard_quarantine = false;
};

line::line(line_host& host, std::size_t index, std::string local_name, std::string domain,
           std::string dn)
  : host_(host),
    index_(index),
    local_name_(std::move(local_name)),
    domain_(std::move(domain)),
    dn_(std::move(dn)),
    digit_timer_(host.io()) {}

line::~line() {
  for (auto& [id, c] : connections_)
    if (c.rtp)
      c.rtp->close();
}

mgcp::response line::error(const mgcp::command& cmd, int code, const std::string& why) const {
  host_.signalling().commands_refused++;
  host_.log(endpoint_name() + ": " + std::string(mgcp::to_string(cmd.kind)) + " refused " +
            std::to_string(code) + " (" + why + ")");
  return make_response(cmd, code, why);
}

// ---- commands ---------------------------------------------------------------------------------

mgcp::response line::handle(const mgcp::command& cmd, const mgcp::udp_endpoint& from) {
  switch (cmd.kind) {
  case mgcp::verb::rqnt:
    return on_rqnt(cmd, from);
  case mgcp::verb::crcx:
    return on_crcx(cmd, from);
  case mgcp::verb::mdcx:
    return on_mdcx(cmd, from);
  case mgcp::verb::dlcx:
    return on_dlcx(cmd, from);
  case mgcp::verb::auep:
    return on_auep(cmd);
  case mgcp::verb::aucx:
    return on_aucx(cmd);
  case mgcp::verb::epcf:
    return make_response(cmd, 200);
  case mgcp::verb::ntfy:
  case mgcp::verb::rsip:
    break;
  }
  return error(cmd, 504, "command not accepted by an endpoint");
}

std::optional<mgcp::response> line::parse_request(const mgcp::command& cmd,
                                                  const mgcp::udp_endpoint& from, bool is_rqnt,
                                                  pending_request& out) const {
  out.is_rqnt = is_rqnt;
  try {
    if (auto* n = cmd.param("N"))
      out.ne = parse_notified_entity(*n, from);
  } catch (const std::exception& e) {
    return error(cmd, 538, e.what());
  }
  if (auto* x = cmd.param("X"))
    out.request_id = trim(*x);
  else if (is_rqnt)
    return error(cmd, 510, "missing RequestIdentifier (X:)");
  try {
    if (auto* r = cmd.param("R"))
      out.events = parse_requested_events(*r);
    else if (is_rqnt)
      out.events.emplace();
    if (auto* s = cmd.param("S"))
      out.signals = parse_signals(*s);
    else if (is_rqnt)
      out.signals.emplace();
    if (auto* d = cmd.param("D"))
      out.map = digit_map(*d);
  } catch (const std::exception& e) {
    return error(cmd, 538, e.what());
  }
  if (auto* q = cmd.param("Q")) {
    // RFC 3435 3.2.2.9: a loop control and/or a process control, comma-separated, either order.
    auto rest = lower(*q);
    int parts = 0;
    while (!rest.empty() || parts == 0) {
      auto comma = rest.find(',');
      auto v = trim(rest.substr(0, comma));
      rest = comma == std::string::npos ? std::string{} : rest.substr(comma + 1);
      ++parts;
      if (v == "discard")
        out.discard_quarantine = true;
      else if ((v != "process" && v != "step" && v != "loop") || parts > 2)
        return error(cmd, 538, "bad quarantine handling '" + *q + "'");
    }
  }
  out.new_request = is_rqnt || out.request_id || out.events;

  auto check_events =
    [&](const std::vector<requested_event>& evs) -> std::optional<mgcp::response> {
    for (const auto& e : evs) {
      const auto& p = e.event.package;
      if (p == "L" || (p.empty() && line_events.count(e.event.name))) {
        if (!line_events.count(e.event.name))
          return error(cmd, 522, "no such event " + e.text);
        if (!e.ignore && e.event.name == "hd" && hook_ == hook_state::off_hook)
          return error(cmd, 401, "phone off hook");
        if (!e.ignore && e.event.name == "hu" && hook_ == hook_state::on_hook)
          return error(cmd, 402, "phone on hook");
      } else if (p == "D" || p.empty()) {
        if (!valid_digit_event(e.event.name))
          return error(cmd, 522, "no such event " + e.text);
        if (e.digit_map && !out.map && !digit_map_)
          return error(cmd, 519, "no digit map");
      } else {
        return error(cmd, 518, "unsupported package in " + e.text);
      }
    }
    return std::nullopt;
  };
  auto check_signals =
    [&](const std::vector<signal_request>& sigs) -> std::optional<mgcp::response> {
    for (const auto& s : sigs) {
      if (!s.signal.package.empty() && s.signal.package != "L")
        return error(cmd, 518, "unsupported package in " + s.text);
      if (!line_signals.count(s.signal.name))
        return error(cmd, 513, "cannot generate signal " + s.text);
      bool rings = s.signal.name == "rg" || s.signal.name == "rs" ||
                   (s.signal.name.size() == 2 && s.signal.name[0] == 'r' &&
                    std::isdigit(static_cast<unsigned char>(s.signal.name[1])));
      if (rings && hook_ == hook_state::off_hook)
        return error(cmd, 401, "phone off hook");
    }
    return std::nullopt;
  };
  if (out.events) {
    if (auto r = check_events(*out.events))
      return r;
    for (const auto& e : *out.events)
      for (const auto& emb : e.embedded) {
        if (emb.events)
          if (auto r = check_events(*emb.events))
            return r;
        if (emb.signals)
          if (auto r = check_signals(*emb.signals))
            return r;
        if (emb.digit_map) {
          try {
            digit_map check(*emb.digit_map);
          } catch (const std::exception& ex) {
            return error(cmd, 538, ex.what());
          }
        }
      }
  }
  if (out.signals)
    if (auto r = check_signals(*out.signals))
      return r;
  return std::nullopt;
}

void line::apply_request(pending_request&& req) {
  if (req.ne)
    notified_entity_ = std::move(*req.ne);
  if (req.map)
    digit_map_ = std::move(*req.map);
  if (req.request_id)
    request_id_ = *req.request_id;
  if (req.events)
    requested_ = std::move(*req.events);
  if (req.new_request) {
    awaiting_request_ = false;
    observed_.clear();
    dialled_.clear();
    ++digit_timer_generation_;
    digit_timer_.cancel();
    quarantine_discard_ = req.discard_quarantine;
  }
  if (req.signals)
    set_signals(std::move(*req.signals));
  if (req.new_request && !quarantine_.empty()) {
    if (req.discard_quarantine) {
      quarantine_.clear();
    } else {
      // After the response has gone out: the NTFY these events may cause must follow it.
      boost::asio::post(host_.io(), [this] { replay_quarantine(); });
    }
  }
}

mgcp::response line::on_rqnt(const mgcp::command& cmd, const mgcp::udp_endpoint& from) {
  pending_request req;
  if (auto err = parse_request(cmd, from, true, req))
    return *err;
  apply_request(std::move(req));
  return make_response(cmd, 200);
}

std::optional<mgcp::response> line::apply_connection_params(const mgcp::command& cmd, connection& c,
                                                            bool creating) {
  std::string mode = c.mode;
  if (auto* m = cmd.param("M")) {
    mode = lower(trim(*m));
    if (!modes.count(mode))
      return error(cmd, 517, "unsupported mode '" + *m + "'");
  } else if (creating) {
    return error(cmd, 510, "missing ConnectionMode (M:)");
  }
  if (auto* l = cmd.param("L")) {
    // Only the codec matters to us: refuse a list that does not offer PCMU.
    auto lc = lower(*l);
    auto a = lc.find("a:");
    if (a != std::string::npos) {
      auto end = lc.find(',', a);
      auto codecs = lc.substr(a + 2, end == std::string::npos ? std::string::npos : end - a - 2);
      if (codecs.find("pcmu") == std::string::npos)
        return error(cmd, 534, "codec negotiation failure (only PCMU)");
    }
  }
  std::optional<mgcp::udp_endpoint> target;
  bool new_remote = false;
  if (cmd.sdp && !trim(*cmd.sdp).empty()) {
    if (cmd.sdp->find("m=audio") == std::string::npos)
      return error(cmd, 505, "remote connection descriptor without audio");
    target = parse_media_target(*cmd.sdp);
    new_remote = true;
  }
  c.mode = mode;
  if (new_remote) {
    c.remote_sdp = *cmd.sdp;
    c.rtp->set_remote(target);
  }
  c.rtp->set_sending(mode == "sendrecv" || mode == "sendonly" || mode == "netwtest");
  if (c.rtp->sending())
    c.carried_media = true;
  return std::nullopt;
}

mgcp::response line::on_crcx(const mgcp::command& cmd, const mgcp::udp_endpoint& from) {
  auto* call_id = cmd.param("C");
  if (!call_id || trim(*call_id).empty())
    return error(cmd, 510, "missing CallId (C:)");
  if (static_cast<int>(connections_.size()) >= host_.options().max_connections)
    return error(cmd, 502, "no more connections on this endpoint");
  pending_request req;
  if (auto err = parse_request(cmd, from, false, req))
    return *err;
  connection c;
  char id[24];
  std::snprintf(id, sizeof id, "%llX", static_cast<unsigned long long>(next_connection_number()));
  c.id = id;
  c.call_id = trim(*call_id);
  try {
    if (host_.options().media) {
      c.rtp = std::make_shared<rtp_session>(
        host_.io(), boost::asio::ip::make_address(host_.bind_address()), host_.media());
      c.rtp->start();
    } else {
      // No socket: an even port in the dynamic range, distinct enough for SDP bookkeeping.
      auto port = static_cast<std::uint16_t>(20000 + 2 * (next_connection_number() % 20000));
      c.rtp = std::make_shared<rtp_session>(host_.io(), host_.media(), port);
    }
  } catch (const std::exception& e) {
    return error(cmd, 502, std::string("no RTP port: ") + e.what());
  }
  if (auto err = apply_connection_params(cmd, c, true)) {
    c.rtp->close();
    return *err;
  }
  apply_request(std::move(req));
  auto rsp = make_response(cmd, 200);
  rsp.set_param("I", c.id);
  rsp.sdp = make_audio_sdp(host_.bind_address(), c.rtp->local_port(), next_connection_number());
  host_.log(endpoint_name() + ": CRCX " + c.id + " call " + c.call_id + " mode " + c.mode +
            " rtp port " + std::to_string(c.rtp->local_port()));
  connections_.emplace(c.id, std::move(c));
  host_.line_changed(*this, line_event::connections);
  return rsp;
}

mgcp::response line::on_mdcx(const mgcp::command& cmd, const mgcp::udp_endpoint& from) {
  auto* id = cmd.param("I");
  if (!id)
    return error(cmd, 510, "missing ConnectionId (I:)");
  auto it = connections_.find(trim(*id));
  if (it == connections_.end())
    return error(cmd, 515, "unknown connection " + *id);
  auto* call_id = cmd.param("C");
  if (call_id && trim(*call_id) != it->second.call_id)
    return error(cmd, 516, "call id does not match the connection");
  pending_request req;
  if (auto err = parse_request(cmd, from, false, req))
    return *err;
  if (auto err = apply_connection_params(cmd, it->second, false))
    return *err;
  apply_request(std::move(req));
  auto rsp = make_response(cmd, 200);
  rsp.sdp =
    make_audio_sdp(host_.bind_address(), it->second.rtp->local_port(), next_connection_number());
  host_.line_changed(*this, line_event::connections);
  return rsp;
}

void line::release_connection(const std::string& id, std::optional<rtp_counters>* stats) {
  auto it = connections_.find(id);
  if (it == connections_.end())
    return;
  auto counters = it->second.rtp->counters();
  it->second.rtp->close();
  host_.media_released(counters, it->second.carried_media);
  if (stats)
    *stats = counters;
  connections_.erase(it);
}

std::string line::connection_parameters(const rtp_counters& c) const {
  char buf[200];
  std::snprintf(buf, sizeof buf, "PS=%llu, OS=%llu, PR=%llu, OR=%llu, PL=%llu, JI=%llu, LA=0",
                static_cast<unsigned long long>(c.packets_sent),
                static_cast<unsigned long long>(c.octets_sent),
                static_cast<unsigned long long>(c.packets_received),
                static_cast<unsigned long long>(c.octets_received),
                static_cast<unsigned long long>(c.packets_lost),
                static_cast<unsigned long long>(c.jitter_ms + 0.5));
  return buf;
}

mgcp::response line::on_dlcx(const mgcp::command& cmd, const mgcp::udp_endpoint& from) {
  pending_request req;
  if (auto err = parse_request(cmd, from, false, req))
    return *err;
  auto* id = cmd.param("I");
  auto* call_id = cmd.param("C");
  std::vector<std::string> victims;
  if (id) {
    auto it = connections_.find(trim(*id));
    if (it == connections_.end())
      return error(cmd, 515, "unknown connection " + *id);
    if (call_id && trim(*call_id) != it->second.call_id)
      return error(cmd, 516, "call id does not match the connection");
    victims.push_back(it->first);
  } else if (call_id) {
    for (const auto& [cid, c] : connections_)
      if (c.call_id == trim(*call_id))
        victims.push_back(cid);
    if (victims.empty())
      return error(cmd, 516, "no connection in call " + *call_id);
  } else {
    for (const auto& [cid, c] : connections_)
      victims.push_back(cid);
  }
  std::optional<rtp_counters> stats;
  for (const auto& v : victims)
    release_connection(v, &stats);
  apply_request(std::move(req));
  auto rsp = make_response(cmd, 250);
  if (victims.size() == 1 && stats)
    rsp.set_param("P", connection_parameters(*stats));
  host_.log(endpoint_name() + ": DLCX released " + std::to_string(victims.size()) +
            " connection(s)");
  if (!victims.empty())
    host_.line_changed(*this, line_event::connections);
  return rsp;
}

mgcp::response line::on_auep(const mgcp::command& cmd) {
  auto rsp = make_response(cmd, 200);
  auto* f = cmd.param("F");
  if (!f)
    return rsp;
  std::vector<std::string> requested_text, signal_text, ids;
  for (const auto& e : requested_)
    requested_text.push_back(e.text);
  for (const auto& s : signals_)
    signal_text.push_back(s.text);
  for (const auto& [id, c] : connections_)
    ids.push_back(id);
  for (const auto& item : split_top_level(*f)) {
    auto k = upper(trim(item));
    if (k == "R")
      rsp.set_param("R", join(requested_text));
    else if (k == "S")
      rsp.set_param("S", join(signal_text));
    else if (k == "D")
      rsp.set_param("D", digit_map_ ? digit_map_->text() : "");
    else if (k == "X")
      rsp.set_param("X", request_id_);
    else if (k == "N")
      rsp.set_param("N", notified_entity_.text);
    else if (k == "I" && !ids.empty())
      rsp.set_param("I", join(ids)); // no I: line at all when there is no connection
    else if (k == "O")
      rsp.set_param("O", join(observed_));
    else if (k == "ES")
      rsp.set_param("ES", hook_ == hook_state::off_hook ? "L/hd" : "L/hu");
    else if (k == "RM")
      rsp.set_param("RM", restart_method_);
    else if (k == "VS")
      rsp.set_param("VS", ncs_version);
    else if (k == "A")
      rsp.set_param("A",
                    "a:PCMU, p:10-30, e:on, s:off, v:L;D, "
                    "m:sendrecv;sendonly;recvonly;inactive;loopback;conttest;netwloop;netwtest");
    else if (k == "Q")
      rsp.set_param("Q", quarantine_discard_ ? "discard" : "process");
    // Other info codes (T:, E:...) are not kept by a simulated line: left out, as RFC 3435 allows.
  }
  return rsp;
}

mgcp::response line::on_aucx(const mgcp::command& cmd) {
  auto* id = cmd.param("I");
  if (!id)
    return error(cmd, 510, "missing ConnectionId (I:)");
  auto it = connections_.find(trim(*id));
  if (it == connections_.end())
    return error(cmd, 515, "unknown connection " + *id);
  const auto& c = it->second;
  auto rsp = make_response(cmd, 200);
  if (auto* f = cmd.param("F")) {
    for (const auto& item : split_top_level(*f)) {
      auto k = upper(trim(item));
      if (k == "C")
        rsp.set_param("C", c.call_id);
      else if (k == "N")
        rsp.set_param("N", notified_entity_.text);
      else if (k == "L")
        rsp.set_param("L", "p:20, a:PCMU");
      else if (k == "M")
        rsp.set_param("M", c.mode);
      else if (k == "P")
        rsp.set_param("P", connection_parameters(c.rtp->counters()));
      else if (k == "LC")
        rsp.sdp = make_audio_sdp(host_.bind_address(), c.rtp->local_port(), 1);
    }
  }
  return rsp;
}

// ---- registration -----------------------------------------------------------------------------

void line::send_rsip(const std::string& method) {
  mgcp::command cmd;
  cmd.kind = mgcp::verb::rsip;
  cmd.endpoint = endpoint_name();
  cmd.version = ncs_version;
  cmd.set_param("RM", method);
  restart_method_ = method;
  host_.signalling().rsip_sent++;
  host_.send_from(*this, std::move(cmd), [this](mgcp::command_outcome o) {
    if (auto* r = std::get_if<mgcp::response>(&o)) {
      if (r->code >= 200 && r->code < 300) {
        host_.signalling().rsip_acked++;
        registered_ = true;
        host_.line_changed(*this, line_event::registered);
        return;
      }
      host_.log(endpoint_name() + ": RSIP answered " + std::to_string(r->code));
    }
    host_.signalling().rsip_failed++;
  });
}

// ---- subscriber actions and NCS event processing -----------------------------------------------

void line::off_hook() {
  if (hook_ == hook_state::off_hook)
    return;
  observe("L", "hd");
}

void line::on_hook() {
  if (hook_ == hook_state::on_hook)
    return;
  observe("L", "hu");
}

void line::flash() {
  if (hook_ == hook_state::off_hook)
    observe("L", "hf");
}

bool line::press_digit(char d) {
  d = static_cast<char>(std::toupper(static_cast<unsigned char>(d)));
  bool ok =
    std::isdigit(static_cast<unsigned char>(d)) || d == '*' || d == '#' || (d >= 'A' && d <= 'D');
  if (!ok || hook_ != hook_state::off_hook)
    return false;
  observe("D", std::string(1, d));
  return true;
}

void line::observe(const std::string& package, const std::string& name) {
  if (package == "L" && name == "hd") {
    hook_ = hook_state::off_hook;
    // A ringer stops when the handset is lifted, whatever the call agent requested.
    auto before = signals_.size();
    signals_.erase(std::remove_if(signals_.begin(), signals_.end(),
                                  [](const signal_request& s) { return s.signal.name == "rg"; }),
                   signals_.end());
    host_.line_changed(*this, line_event::hook);
    if (signals_.size() != before)
      host_.line_changed(*this, line_event::signals);
  } else if (package == "L" && name == "hu") {
    hook_ = hook_state::on_hook;
    host_.line_changed(*this, line_event::hook);
  }
  process_event(event_name{package, name});
}

void line::process_event(const event_name& ev) {
  if (awaiting_request_) {
    quarantine_.push_back(ev);
    return;
  }
  auto it = std::find_if(requested_.begin(), requested_.end(),
                         [&](const requested_event& r) { return event_matches(r.event, ev); });
  if (it == requested_.end() || it->ignore)
    return;
  requested_event r = *it; // copy: an embedded request may replace requested_
  if (!r.keep_signals)
    stop_signals();
  observed_.push_back(ev.text());
  for (const auto& emb : r.embedded) {
    if (emb.digit_map)
      digit_map_ = digit_map(*emb.digit_map); // validated when the request arrived
    if (emb.events)
      requested_ = *emb.events;
    if (emb.signals)
      set_signals(*emb.signals);
  }
  if (r.digit_map && ev.package == "D") {
    dialled_ += upper(ev.name);
    if (!digit_map_ || upper(ev.name) == "T") {
      notify();
      return;
    }
    auto m = digit_map_->match(dialled_);
    if (m == digit_match::full || m == digit_match::none) {
      notify();
      return;
    }
    auto wait = digit_map_->timer_completes(dialled_) ? host_.options().critical_timer
                                                      : host_.options().partial_timer;
    auto generation = ++digit_timer_generation_;
    digit_timer_.expires_after(wait);
    digit_timer_.async_wait([this, generation](const boost::system::error_code& ec) {
      if (!ec && generation == digit_timer_generation_)
        digit_timer_fired();
    });
    return;
  }
  if (r.notify)
    notify();
}

void line::digit_timer_fired() {
  if (awaiting_request_)
    return;
  event_name t{"D", "T"};
  bool t_requested =
    std::any_of(requested_.begin(), requested_.end(),
                [&](const requested_event& r) { return event_matches(r.event, t); });
  if (t_requested)
    process_event(t);
  else if (!observed_.empty())
    notify();
}

void line::notify() {
  mgcp::command cmd;
  cmd.kind = mgcp::verb::ntfy;
  cmd.endpoint = endpoint_name();
  cmd.version = ncs_version;
  cmd.set_param("X", request_id_);
  cmd.set_param("O", join(observed_));
  host_.log(endpoint_name() + ": NTFY O: " + join(observed_));
  awaiting_request_ = true;
  observed_.clear();
  dialled_.clear();
  ++digit_timer_generation_;
  digit_timer_.cancel();
  host_.signalling().ntfy_sent++;
  notify_in_flight_ = true;
  host_.send_from(*this, std::move(cmd), [this](mgcp::command_outcome o) {
    notify_in_flight_ = false;
    if (auto* r = std::get_if<mgcp::response>(&o)) {
      if (r->code >= 200 && r->code < 300) {
        host_.signalling().ntfy_acked++;
      } else {
        host_.signalling().ntfy_rejected++;
        host_.log(endpoint_name() + ": NTFY answered " + std::to_string(r->code));
      }
    } else {
      host_.signalling().ntfy_failed++;
    }
  });
}

void line::replay_quarantine() {
  while (!quarantine_.empty() && !awaiting_request_) {
    auto ev = quarantine_.front();
    quarantine_.pop_front();
    process_event(ev);
  }
}

void line::set_signals(std::vector<signal_request> s) {
  signals_ = std::move(s);
  host_.line_changed(*this, line_event::signals);
}

void line::stop_signals() {
  if (signals_.empty())
    return;
  signals_.clear();
  host_.line_changed(*this, line_event::signals);
}

// ---- inspection -------------------------------------------------------------------------------

bool line::signal_active(std::string_view name) const {
  return std::any_of(signals_.begin(), signals_.end(),
                     [&](const signal_request& s) { return s.signal.name == name; });
}

bool line::event_requested(std::string_view package_and_name) const {
  auto ev = parse_event_name(package_and_name);
  return std::any_of(requested_.begin(), requested_.end(), [&](const requested_event& r) {
    return !r.ignore && event_matches(r.event, ev);
  });
}

bool line::in_media() const {
  return std::any_of(connections_.begin(), connections_.end(), [](const auto& kv) {
    return kv.second.mode == "sendrecv" && kv.second.rtp->remote().has_value();
  });
}

rtp_counters line::media_counters() const {
  rtp_counters sum;
  for (const auto& [id, c] : connections_) {
    auto x = c.rtp->counters();
    sum.packets_sent += x.packets_sent;
    sum.octets_sent += x.octets_sent;
    sum.packets_received += x.packets_received;
    sum.octets_received += x.octets_received;
    sum.packets_lost += x.packets_lost;
    sum.invalid_received += x.invalid_received;
    sum.jitter_ms = std::max(sum.jitter_ms, x.jitter_ms);
  }
  return sum;
}

boost::json::object line::status() const {
  boost::json::object o;
  o["index"] = index_;
  o["endpoint"] = endpoint_name();
  o["dn"] = dn_;
  o["hook"] = hook_ == hook_state::off_hook ? "off" : "on";
  o["registered"] = registered_;
  o["notified_entity"] = notified_entity_.text;
  o["call_agent"] = notified_entity_.address.address().to_string() + ":" +
                    std::to_string(notified_entity_.address.port());
  o["request_id"] = request_id_;
  boost::json::array req, sig, obs, quar;
  for (const auto& e : requested_)
    req.emplace_back(e.text);
  for (const auto& s : signals_)
    sig.emplace_back(s.text);
  for (const auto& e : observed_)
    obs.emplace_back(e);
  for (const auto& e : quarantine_)
    quar.emplace_back(e.text());
  o["requested_events"] = std::move(req);
  o["signals"] = std::move(sig);
  o["observed"] = std::move(obs);
  o["quarantine"] = std::move(quar);
  o["awaiting_request"] = awaiting_request_;
  o["digit_map"] = digit_map_ ? digit_map_->text() : "";
  o["dialled"] = dialled_;
  boost::json::array conns;
  for (const auto& [id, c] : connections_) {
    boost::json::object co;
    co["id"] = id;
    co["call_id"] = c.call_id;
    co["mode"] = c.mode;
    co["local_port"] = c.rtp->local_port();
    if (auto& r = c.rtp->remote())
      co["remote"] = r->address().to_string() + ":" + std::to_string(r->port());
    else
      co["remote"] = nullptr;
    auto x = c.rtp->counters();
    boost::json::object rtp;
    rtp["sent"] = x.packets_sent;
    rtp["received"] = x.packets_received;
    rtp["lost"] = x.packets_lost;
    rtp["jitter_ms"] = x.jitter_ms;
    co["rtp"] = std::move(rtp);
    conns.push_back(std::move(co));
  }
  o["connections"] = std::move(conns);
  return o;
}

} // namespace cms::sim
