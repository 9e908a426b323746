#include "test/tools/mtasim/gateway.hpp"

#include "runtime/mgcp/trunk_package.hpp"
#include "test/tools/mtasim/sdp_lite.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace cms::sim {

namespace {

namespace trunk = mgcp::trunk;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto p = s.find(sep, start);
    out.emplace_back(
      s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos)
      return out;
    start = p + 1;
  }
}

/// RFC 3435 wildcards on the local name: "*" matches one term, a trailing "*" every deeper name.
bool covers(std::string_view pattern, std::string_view name) {
  if (pattern == "*" || pattern == "$")
    return true;
  auto p = split(lower(pattern), '/');
  auto n = split(lower(name), '/');
  bool open_end = !p.empty() && p.back() == "*";
  if (n.size() < p.size() || (!open_end && n.size() != p.size()))
    return false;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (p[i] != "*" && p[i] != "$" && p[i] != n[i])
      return false;
  return true;
}

const std::set<std::string> modes = {"sendonly", "recvonly", "sendrecv", "inactive",
                                     "loopback", "conttest", "netwtest"};

constexpr const char* mgcp_version = "MGCP 1.0";

} // namespace

std::string trunk_gateway::channel::local_name() const {
  return "ds/ds1-" + std::to_string(span) + "/" + std::to_string(number);
}

trunk_gateway::trunk_gateway(sim_context& ctx, trunk_counters& counters, std::string name,
                             std::string address, std::uint16_t port)
  : ctx_(ctx),
    counters_(counters),
    name_(lower(name)),
    address_(std::move(address)),
    port_(port),
    answer_(ctx.options.pstn_answer) {
  for (int s = 1; s <= ctx.options.spans; ++s)
    for (int n = 1; n <= ctx.options.channels; ++n) {
      channel c;
      c.span = s;
      c.number = n;
      channels_.push_back(std::move(c));
    }
}

trunk_gateway::~trunk_gateway() { stop(); }

void trunk_gateway::start() {
  mgcp::agent_config cfg;
  cfg.bind_address = address_;
  cfg.port = port_;
  cfg.timers.initial = ctx_.options.rto_initial;
  cfg.timers.max = ctx_.options.rto_max;
  cfg.timers.max2 = ctx_.options.max_retransmissions;
  cfg.timers.max1 = std::min(cfg.timers.max1, ctx_.options.max_retransmissions);
  cfg.timers.t_hist = ctx_.options.t_hist;
  agent_ = std::make_unique<mgcp::agent>(ctx_.io, cfg, ctx_.metrics);
  agent_->on_command([this](const mgcp::udp_endpoint& from, mgcp::command cmd) {
    on_command(from, std::move(cmd));
  });
  agent_->start();
  port_ = agent_->local_endpoint().port(); // a restart binds the same port again
  stopped_ = false;
  send_rsip("restart");
}

void trunk_gateway::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  for (auto& c : channels_)
    close_connection(c);
  if (agent_)
    agent_->stop();
  if (black_hole_) {
    boost::system::error_code ignored;
    black_hole_->close(ignored);
  }
}

mgcp::udp_endpoint trunk_gateway::local_endpoint() const {
  return {boost::asio::ip::make_address(address_), port_};
}

std::string trunk_gateway::state() const {
  if (silent_)
    return "silent";
  return forced_ ? "forced" : "up";
}

const mgcp::udp_endpoint& trunk_gateway::call_agent() const {
  return ctx_.options.call_agents[ca_index_ % ctx_.options.call_agents.size()];
}

// ---- failure modes ------------------------------------------------------------------------------

void trunk_gateway::stop_answering() {
  if (silent_ || !agent_)
    return;
  ctx_.log(name_ + ": stops answering");
  silent_ = true;
  agent_->stop();
  agent_.reset();
  // Keep the port bound, so the call agent's datagrams vanish instead of drawing ICMP errors.
  black_hole_ = std::make_unique<boost::asio::ip::udp::socket>(ctx_.io);
  black_hole_->open(local_endpoint().protocol());
  black_hole_->bind(local_endpoint());
  swallow();
}

void trunk_gateway::swallow() {
  if (!black_hole_)
    return;
  black_hole_->async_receive_from(boost::asio::buffer(sink_), sink_from_,
                                  [this](const boost::system::error_code& ec, std::size_t) {
                                    if (ec)
                                      return;
                                    counters_.dropped_silent++;
                                    swallow();
                                  });
}

void trunk_gateway::restart() {
  ctx_.log(name_ + ": restarts");
  if (black_hole_) {
    boost::system::error_code ignored;
    black_hole_->close(ignored);
    black_hole_.reset();
  }
  silent_ = false;
  forced_ = false;
  spans_down_.clear();
  for (auto& c : channels_)
    reset(c);
  if (!agent_)
    start(); // sends RSIP restart
  else
    send_rsip("restart");
}

void trunk_gateway::send_rsip(const std::string& method) {
  if (method == "forced") {
    forced_ = true;
    for (auto& c : channels_)
      reset(c);
  } else if (method == "restart") {
    forced_ = false;
  }
  if (!agent_)
    return;
  mgcp::command cmd;
  cmd.kind = mgcp::verb::rsip;
  cmd.set_param("RM", method);
  ctx_.signalling.rsip_sent++;
  send("*@" + name_, std::move(cmd), call_agent(), [this](int code) {
    if (code >= 200 && code < 300) {
      ctx_.signalling.rsip_acked++;
    } else {
      // A cold spare carries no facility yet: the call agent knows none of its endpoints (500).
      ctx_.signalling.rsip_failed++;
      ctx_.log(name_ + ": RSIP answered " + std::to_string(code));
    }
  });
}

bool trunk_gateway::set_span(int span, bool up) {
  if (span < 1 || span > ctx_.options.spans)
    return false;
  if (up)
    spans_down_.erase(span);
  else
    spans_down_.insert(span);
  if (!up)
    for (auto& c : channels_)
      if (c.span == span)
        reset(c);
  if (!agent_)
    return true;
  mgcp::command cmd;
  cmd.kind = mgcp::verb::rsip;
  cmd.set_param("RM", up ? "restart" : "forced");
  ctx_.signalling.rsip_sent++;
  send("ds/ds1-" + std::to_string(span) + "/*@" + name_, std::move(cmd), call_agent(),
       [this](int code) {
         if (code >= 200 && code < 300)
           ctx_.signalling.rsip_acked++;
         else
           ctx_.signalling.rsip_failed++;
       });
  return true;
}

// ---- the PSTN side ------------------------------------------------------------------------------

std::string trunk_gateway::place_call(const std::string& called, const std::string& calling) {
  if (!trunk::valid_number(called) || (!calling.empty() && !trunk::valid_number(calling)))
    return "error bad number";
  if (silent_ || forced_ || !agent_)
    return "error gateway is " + state();
  for (auto it = channels_.rbegin(); it != channels_.rend(); ++it) {
    auto& c = *it;
    if (spans_down_.count(c.span) || c.pstn_up || c.conn)
      continue;
    ++c.generation;
    c.pstn_up = true;
    c.outgoing = false;
    c.alerted = c.answered = false;
    c.called = called;
    c.calling = calling;
    counters_.incoming_offered++;
    auto gen = c.generation;
    auto* cp = &c;
    notify(c, trunk::build({trunk::signal_kind::sup, called, calling, 0}),
           [this, cp, gen](int code) {
             if (code >= 200 && code < 300) {
               counters_.incoming_accepted++;
               return;
             }
             counters_.incoming_refused++;
             // Refused (glare, channel not available) or unanswered: the PSTN call is cleared.
             if (cp->generation == gen && cp->pstn_up) {
               cp->pstn_up = false;
               ++cp->generation;
             }
           });
    return c.local_name() + "@" + name_;
  }
  return "error no idle channel";
}

bool trunk_gateway::pstn_release(const std::string& channel_name, int cause) {
  auto at = channel_name.find('@');
  auto* c = find(at == std::string::npos ? channel_name : channel_name.substr(0, at));
  if (!c || !c->pstn_up)
    return false;
  end_pstn(*c, true, cause);
  return true;
}

void trunk_gateway::schedule_pstn(channel& c) {
  auto gen = c.generation;
  auto* cp = &c;
  auto current = [this, cp, gen] { return cp->generation == gen && cp->pstn_up && !stopped_; };
  auto& o = ctx_.options;
  if (answer_ == answer_policy::busy) {
    ctx_.after(o.pstn_alert_delay, [this, cp, current] {
      if (!current())
        return;
      counters_.busy++;
      end_pstn(*cp, true, 17);
    });
    return;
  }
  ctx_.after(o.pstn_alert_delay, [this, cp, current] {
    if (!current() || cp->alerted || cp->answered)
      return;
    cp->alerted = true;
    counters_.alerted++;
    if (requested(*cp, "alt"))
      notify(*cp, "X-TR/alt");
  });
  if (answer_ != answer_policy::automatic)
    return;
  ctx_.after(std::max(o.pstn_answer_delay, o.pstn_alert_delay), [this, cp, current, gen] {
    if (!current() || cp->answered)
      return;
    cp->answered = true;
    counters_.answered++;
    if (requested(*cp, "ans"))
      notify(*cp, "X-TR/ans");
    if (ctx_.options.pstn_hold.count() > 0)
      ctx_.after(ctx_.options.pstn_hold, [this, cp, gen] {
        if (cp->generation == gen && cp->pstn_up && !stopped_)
          end_pstn(*cp, true, 16);
      });
  });
}

void trunk_gateway::end_pstn(channel& c, bool notify_ca, int cause) {
  if (!c.pstn_up)
    return;
  c.pstn_up = false;
  ++c.generation;
  if (notify_ca) {
    counters_.released_by_pstn++;
    // X-TR/rel is persistent: a release is always reported, requested or not.
    notify(c, trunk::build({trunk::signal_kind::rel, {}, {}, cause}));
  } else {
    counters_.released_by_ca++;
  }
}

bool trunk_gateway::requested(const channel& c, const std::string& event) const {
  event_name ev{"X-TR", event};
  for (auto& r : c.requested)
    if (event_matches(r.event, ev))
      return true;
  return false;
}

// ---- channels and connections -------------------------------------------------------------------

void trunk_gateway::close_connection(channel& c, std::optional<rtp_counters>* stats) {
  if (!c.conn)
    return;
  if (c.conn->rtp) {
    auto counters = c.conn->rtp->counters();
    c.conn->rtp->close();
    ctx_.media_released(counters, c.conn->carried_media);
    if (stats)
      *stats = counters;
  }
  c.conn.reset();
}

void trunk_gateway::reset(channel& c) {
  close_connection(c);
  c.pstn_up = false;
  c.alerted = c.answered = false;
  c.requested.clear();
  ++c.generation;
}

std::size_t trunk_gateway::busy_channels() const {
  return static_cast<std::size_t>(std::count_if(
    channels_.begin(), channels_.end(), [](const channel& c) { return c.pstn_up || c.conn; }));
}

trunk_gateway::channel* trunk_gateway::find(std::string_view local_name) {
  auto name = lower(local_name);
  for (auto& c : channels_)
    if (c.local_name() == name)
      return &c;
  return nullptr;
}

std::vector<trunk_gateway::channel*> trunk_gateway::matching(std::string_view pattern) {
  std::vector<channel*> out;
  for (auto& c : channels_)
    if (covers(pattern, c.local_name()))
      out.push_back(&c);
  return out;
}

// ---- MGCP ---------------------------------------------------------------------------------------

void trunk_gateway::send(const std::string& endpoint, mgcp::command cmd,
                         const mgcp::udp_endpoint& to, std::function<void(int)> done) {
  if (!agent_) {
    if (done)
      done(0);
    return;
  }
  cmd.endpoint = endpoint;
  cmd.version = mgcp_version;
  if (ctx_.options.verbose)
    ctx_.log(name_ + ": send " + std::string(mgcp::to_string(cmd.kind)) + " " + endpoint);
  agent_->send(to, std::move(cmd), [this, done = std::move(done)](mgcp::command_outcome o) {
    int code = 0;
    if (auto* r = std::get_if<mgcp::response>(&o))
      code = r->code;
    else if (std::get<mgcp::transaction_failure>(o) == mgcp::transaction_failure::timeout)
      ++ca_index_; // the call agent is not answering: the next command tries the next one
    if (done)
      done(code);
  });
}

void trunk_gateway::notify(channel& c, const std::string& observed, std::function<void(int)> done) {
  if (!agent_ || silent_) {
    if (done)
      done(0);
    return;
  }
  mgcp::command cmd;
  cmd.kind = mgcp::verb::ntfy;
  cmd.set_param("X", c.request_id);
  cmd.set_param("O", observed);
  ctx_.log(name_ + ": " + c.local_name() + " NTFY O: " + observed);
  ctx_.signalling.ntfy_sent++;
  auto to = c.ne ? c.ne->address : call_agent();
  send(c.local_name() + "@" + name_, std::move(cmd), to, [this, done = std::move(done)](int code) {
    if (code >= 200 && code < 300)
      ctx_.signalling.ntfy_acked++;
    else if (code == 0)
      ctx_.signalling.ntfy_failed++;
    else
      ctx_.signalling.ntfy_rejected++;
    if (done)
      done(code);
  });
}

mgcp::response trunk_gateway::error(const mgcp::command& cmd, int code, const std::string& why) {
  counters_.refused++;
  ctx_.signalling.commands_refused++;
  ctx_.log(name_ + ": " + std::string(mgcp::to_string(cmd.kind)) + " " + cmd.endpoint +
           " refused " + std::to_string(code) + " (" + why + ")");
  return make_response(cmd, code, why);
}

void trunk_gateway::on_command(const mgcp::udp_endpoint& from, mgcp::command cmd) {
  auto& sig = ctx_.signalling;
  sig.commands_received++;
  sig.commands_by_verb[std::string(mgcp::to_string(cmd.kind))]++;
  if (ctx_.options.verbose)
    ctx_.log(name_ + ": received " + std::string(mgcp::to_string(cmd.kind)) + " " +
             std::to_string(cmd.transaction_id) + " " + cmd.endpoint);
  auto at = cmd.endpoint.find('@');
  if (at == std::string::npos || lower(cmd.endpoint.substr(at + 1)) != name_) {
    agent_->respond(from, error(cmd, 500, "unknown endpoint"));
    return;
  }
  auto local = std::string_view(cmd.endpoint).substr(0, at);
  if (local.find_first_of("*$") == std::string_view::npos) {
    auto* c = find(local);
    if (!c) {
      agent_->respond(from, error(cmd, 500, "unknown endpoint"));
      return;
    }
    agent_->respond(from, handle(*c, cmd, from));
    return;
  }
  auto matched = matching(local);
  if (matched.empty()) {
    agent_->respond(from, error(cmd, 500, "no endpoint matches " + std::string(local)));
    return;
  }
  switch (cmd.kind) {
  case mgcp::verb::auep: {
    // RFC 3435 2.3.10: a wildcarded audit returns the endpoint names. Also the keepalive.
    auto rsp = make_response(cmd, 200);
    for (auto* c : matched)
      rsp.params.push_back(mgcp::parameter{"Z", c->local_name() + "@" + name_});
    agent_->respond(from, std::move(rsp));
    return;
  }
  case mgcp::verb::dlcx:
  case mgcp::verb::rqnt:
    for (auto* c : matched)
      handle(*c, cmd, from); // per-channel refusals (no connection) do not fail the whole
    agent_->respond(from, make_response(cmd, cmd.kind == mgcp::verb::dlcx ? 250 : 200));
    return;
  default:
    agent_->respond(
      from,
      error(cmd, 500, "wildcard not supported for " + std::string(mgcp::to_string(cmd.kind))));
  }
}

mgcp::response trunk_gateway::handle(channel& c, const mgcp::command& cmd,
                                     const mgcp::udp_endpoint& from) {
  bool blocked = forced_ || spans_down_.count(c.span) > 0;
  switch (cmd.kind) {
  case mgcp::verb::crcx:
    return blocked ? error(cmd, 501,
                           "endpoint not ready (" + std::string(forced_ ? "gateway" : "span") +
                             " out of service)")
                   : on_crcx(c, cmd, from);
  case mgcp::verb::mdcx:
    return blocked ? error(cmd, 501, "endpoint not ready") : on_mdcx(c, cmd);
  case mgcp::verb::dlcx:
    return on_dlcx(c, cmd, from);
  case mgcp::verb::rqnt:
    return blocked ? error(cmd, 501, "endpoint not ready") : on_rqnt(c, cmd, from);
  case mgcp::verb::auep:
  case mgcp::verb::epcf:
    return make_response(cmd, 200);
  case mgcp::verb::aucx: {
    if (!c.conn)
      return error(cmd, 515, "no connection");
    auto rsp = make_response(cmd, 200);
    rsp.set_param("C", c.conn->call_id);
    rsp.set_param("M", c.conn->mode);
    return rsp;
  }
  default:
    return error(cmd, 504, "unknown or unsupported command");
  }
}

std::optional<mgcp::response> trunk_gateway::take_request(channel& c, const mgcp::command& cmd,
                                                          const mgcp::udp_endpoint& from) {
  try {
    if (auto* r = cmd.param("R"))
      c.requested = parse_requested_events(*r);
    if (auto* n = cmd.param("N"))
      c.ne = parse_notified_entity(trim(*n), from);
  } catch (const std::invalid_argument& e) {
    return error(cmd, 538, e.what());
  }
  if (auto* x = cmd.param("X"))
    c.request_id = trim(*x);
  return std::nullopt;
}

std::optional<mgcp::response> trunk_gateway::apply_signals(channel& c, const mgcp::command& cmd) {
  auto* s = cmd.param("S");
  if (!s)
    return std::nullopt;
  auto events = trunk::parse_list(*s);
  if (!events)
    return error(cmd, 538, "bad X-TR signal list '" + *s + "'");
  for (auto& e : *events) {
    switch (e.kind) {
    case trunk::signal_kind::sup:
      break; // only on CRCX
    case trunk::signal_kind::alt:
      if (c.pstn_up && !c.outgoing)
        c.alerted = true; // the PSTN caller hears the line ring
      break;
    case trunk::signal_kind::ans:
      if (c.pstn_up && !c.outgoing && !c.answered) {
        c.answered = true;
        counters_.answered++;
        if (ctx_.options.pstn_hold.count() > 0) {
          auto gen = c.generation;
          auto* cp = &c;
          ctx_.after(ctx_.options.pstn_hold, [this, cp, gen] {
            if (cp->generation == gen && cp->pstn_up && !stopped_)
              end_pstn(*cp, true, 16);
          });
        }
      }
      break;
    case trunk::signal_kind::rel:
      end_pstn(c, false, e.cause);
      break;
    }
  }
  return std::nullopt;
}

std::optional<mgcp::response> trunk_gateway::set_media(channel& c, const mgcp::command& cmd,
                                                       bool creating) {
  auto& conn = *c.conn;
  std::string mode = conn.mode;
  if (auto* m = cmd.param("M")) {
    mode = lower(trim(*m));
    if (!modes.count(mode))
      return error(cmd, 517, "unsupported mode '" + *m + "'");
  } else if (creating) {
    return error(cmd, 510, "missing ConnectionMode (M:)");
  }
  if (cmd.sdp && !trim(*cmd.sdp).empty()) {
    if (cmd.sdp->find("m=audio") == std::string::npos)
      return error(cmd, 505, "remote connection descriptor without audio");
    conn.remote_sdp = *cmd.sdp;
    conn.rtp->set_remote(parse_media_target(*cmd.sdp));
  }
  conn.mode = mode;
  conn.rtp->set_sending(mode == "sendrecv" || mode == "sendonly");
  if (conn.rtp->sending())
    conn.carried_media = true;
  return std::nullopt;
}

mgcp::response trunk_gateway::on_crcx(channel& c, const mgcp::command& cmd,
                                      const mgcp::udp_endpoint& from) {
  auto* call_id = cmd.param("C");
  if (!call_id || trim(*call_id).empty())
    return error(cmd, 510, "missing CallId (C:)");
  if (c.conn)
    return error(cmd, 502, "the channel already has a connection");
  std::optional<trunk::pstn_event> sup;
  if (auto* s = cmd.param("S")) {
    auto events = trunk::parse_list(*s);
    if (!events)
      return error(cmd, 538, "bad X-TR signal list '" + *s + "'");
    for (auto& e : *events)
      if (e.kind == trunk::signal_kind::sup)
        sup = e;
  }
  if (sup && c.pstn_up)
    return error(cmd, 400, "channel seized by an incoming PSTN call (glare)");
  if (auto err = take_request(c, cmd, from))
    return *err;
  connection conn;
  char id[24];
  // ConnectionId is a hex string (RFC 3435 3.2.2.5); the high digit tells gateway ids apart.
  std::snprintf(id, sizeof id, "F%07llX", static_cast<unsigned long long>(++connection_counter_));
  conn.id = id;
  conn.call_id = trim(*call_id);
  try {
    if (ctx_.options.media) {
      conn.rtp =
        std::make_shared<rtp_session>(ctx_.io, boost::asio::ip::make_address(address_), ctx_.media);
      conn.rtp->start();
    } else {
      auto port = static_cast<std::uint16_t>(40000 + 2 * (connection_counter_ % 10000));
      conn.rtp = std::make_shared<rtp_session>(ctx_.io, ctx_.media, port);
    }
  } catch (const std::exception& e) {
    return error(cmd, 502, std::string("no RTP port: ") + e.what());
  }
  c.conn = std::move(conn);
  if (auto err = set_media(c, cmd, true)) {
    close_connection(c);
    return *err;
  }
  if (sup) {
    ++c.generation;
    c.pstn_up = true;
    c.outgoing = true;
    c.alerted = c.answered = false;
    c.called = sup->called;
    c.calling = sup->calling;
    counters_.seizures++;
    ctx_.log(name_ + ": " + c.local_name() + " seized for " + c.called);
    schedule_pstn(c);
  } else if (auto err = apply_signals(c, cmd)) {
    close_connection(c);
    return *err;
  }
  auto rsp = make_response(cmd, 200);
  rsp.set_param("I", c.conn->id);
  rsp.sdp = make_audio_sdp(address_, c.conn->rtp->local_port(), connection_counter_);
  return rsp;
}

mgcp::response trunk_gateway::on_mdcx(channel& c, const mgcp::command& cmd) {
  auto* id = cmd.param("I");
  if (!id)
    return error(cmd, 510, "missing ConnectionId (I:)");
  if (!c.conn || trim(*id) != c.conn->id)
    return error(cmd, 515, "unknown connection " + *id);
  auto* call_id = cmd.param("C");
  if (call_id && trim(*call_id) != c.conn->call_id)
    return error(cmd, 516, "call id does not match the connection");
  if (auto err = set_media(c, cmd, false))
    return *err;
  auto rsp = make_response(cmd, 200);
  rsp.sdp = make_audio_sdp(address_, c.conn->rtp->local_port(), connection_counter_);
  return rsp;
}

mgcp::response trunk_gateway::on_dlcx(channel& c, const mgcp::command& cmd,
                                      const mgcp::udp_endpoint& from) {
  // The release signal first: it clears the PSTN side whatever happens to the connection.
  if (auto err = take_request(c, cmd, from))
    return *err;
  if (auto err = apply_signals(c, cmd))
    return *err;
  auto* id = cmd.param("I");
  auto* call_id = cmd.param("C");
  if (id && (!c.conn || trim(*id) != c.conn->id))
    return error(cmd, 515, "unknown connection " + *id);
  if (call_id && (!c.conn || trim(*call_id) != c.conn->call_id))
    return id ? error(cmd, 516, "call id does not match the connection")
              : error(cmd, 515, "no connection of call " + *call_id);
  if (!c.conn)
    return make_response(cmd, 250);
  std::optional<rtp_counters> stats;
  close_connection(c, &stats);
  auto rsp = make_response(cmd, 250);
  if (stats) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "PS=%llu, OS=%llu, PR=%llu, OR=%llu, PL=%llu, JI=%llu, LA=0",
                  static_cast<unsigned long long>(stats->packets_sent),
                  static_cast<unsigned long long>(stats->octets_sent),
                  static_cast<unsigned long long>(stats->packets_received),
                  static_cast<unsigned long long>(stats->octets_received),
                  static_cast<unsigned long long>(stats->packets_lost),
                  static_cast<unsigned long long>(stats->jitter_ms + 0.5));
    rsp.set_param("P", buf);
  }
  return rsp;
}

mgcp::response trunk_gateway::on_rqnt(channel& c, const mgcp::command& cmd,
                                      const mgcp::udp_endpoint& from) {
  if (auto err = take_request(c, cmd, from))
    return *err;
  if (auto err = apply_signals(c, cmd))
    return *err;
  return make_response(cmd, 200);
}

boost::json::object trunk_gateway::status() const {
  std::size_t idle = 0, outgoing = 0, incoming = 0, releasing = 0;
  boost::json::array calls;
  for (auto& c : channels_) {
    if (!c.pstn_up && !c.conn) {
      ++idle;
      continue;
    }
    if (!c.pstn_up)
      ++releasing; // PSTN side gone, the call agent has not deleted the connection yet
    else if (c.outgoing)
      ++outgoing;
    else
      ++incoming;
    boost::json::object o{{"channel", c.local_name() + "@" + name_},
                          {"pstn", c.pstn_up},
                          {"direction", c.outgoing ? "outgoing" : "incoming"},
                          {"called", c.called},
                          {"calling", c.calling},
                          {"answered", c.answered},
                          {"connection", c.conn ? c.conn->id : std::string{}},
                          {"call_id", c.conn ? c.conn->call_id : std::string{}}};
    if (c.conn && c.conn->rtp) {
      auto r = c.conn->rtp->counters();
      o["rtp"] = boost::json::object{{"sent", r.packets_sent}, {"received", r.packets_received}};
    }
    calls.push_back(std::move(o));
  }
  boost::json::array down;
  for (int s : spans_down_)
    down.push_back(s);
  return boost::json::object{
    {"name", name_},
    {"address", address_},
    {"port", port_},
    {"state", state()},
    {"spans_down", std::move(down)},
    {"channels",
     boost::json::object{
       {"idle", idle}, {"outgoing", outgoing}, {"incoming", incoming}, {"releasing", releasing}}},
    {"calls", std::move(calls)},
  };
}

} // namespace cms::sim
