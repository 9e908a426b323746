#include "test/tools/mtasim/simulator.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include <iostream>
#include <sstream>

namespace cms::sim {

simulator::simulator(boost::asio::io_context& io, sim_options opts,
                     std::function<void(const std::string&)> announce)
  : io_(io),
    opts_(std::move(opts)),
    announce_(std::move(announce)),
    media_(io),
    ctx_{
      io_,
      media_,
      opts_,
      signalling_,
      metrics_,
      [this](line& l, line_event e) { line_changed(l, e); },
      [this](const rtp_counters& c, bool carried) {
        rtp_released_.packets_sent += c.packets_sent;
        rtp_released_.octets_sent += c.octets_sent;
        rtp_released_.packets_received += c.packets_received;
        rtp_released_.octets_received += c.octets_received;
        rtp_released_.packets_lost += c.packets_lost;
        rtp_released_.invalid_received += c.invalid_received;
        if (carried)
          ++rtp_streams_;
      },
      [this](const std::string& t) { log(t); },
      [this](std::chrono::milliseconds d, std::function<void()> fn) { after(d, std::move(fn)); }} {
  std::size_t index = 1;
  for (int i = 0; i < opts_.mtas; ++i) {
    int number = opts_.first_mta + i;
    auto port = static_cast<std::uint16_t>(opts_.base_port == 0 ? 0 : opts_.base_port + i);
    std::string address = opts_.bind;
    if (!opts_.mta_address_base.empty()) {
      auto base = boost::asio::ip::make_address_v4(opts_.mta_address_base).to_uint();
      address = boost::asio::ip::address_v4(base + static_cast<std::uint32_t>(i)).to_string();
      port = static_cast<std::uint16_t>(opts_.base_port);
    }
    auto m = std::make_unique<mta>(ctx_, number, expand_pattern(opts_.domain_pattern, number),
                                   address, port, index, opts_.dn_base + (index - 1));
    index += m->lines().size();
    for (auto& l : m->lines())
      lines_.push_back(l.get());
    mtas_.push_back(std::move(m));
  }
  auto specs = opts_.gateway_list;
  for (int i = 0; i < opts_.gateways; ++i)
    specs.push_back({expand_pattern(opts_.gateway_pattern, i + 1), opts_.bind,
                     opts_.gateway_base_port == 0 ? 0 : opts_.gateway_base_port + i});
  for (auto& g : specs)
    gateways_.push_back(std::make_unique<trunk_gateway>(ctx_, trunk_counters_, g.name, g.address,
                                                        static_cast<std::uint16_t>(g.port)));
  subscribers_.resize(lines_.size());
  for (auto& s : subscribers_)
    s.policy = opts_.answer;
}

simulator::~simulator() = default;

void simulator::log(const std::string& text) {
  if (opts_.verbose)
    std::cerr << "mtasim: " << text << "\n";
}

void simulator::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto t = std::make_shared<boost::asio::steady_timer>(io_, delay);
  t->async_wait([t, fn = std::move(fn), this](const boost::system::error_code& ec) {
    if (!ec && !stopped_)
      fn();
  });
}

void simulator::start() {
  started_at_ = std::chrono::steady_clock::now();
  if (opts_.control_port >= 0) {
    control_ = std::make_unique<control_server>(
      io_, opts_.bind, static_cast<std::uint16_t>(opts_.control_port),
      [this](const std::string& r) { return execute(r); });
    announce_("control " + opts_.bind + ":" + std::to_string(control_->port()));
  }
  for (auto& m : mtas_) {
    m->start();
    auto ep = m->local_endpoint();
    announce_("mta " + m->domain() + " " + ep.address().to_string() + ":" +
              std::to_string(ep.port()));
  }
  for (auto& g : gateways_) {
    g->start();
    auto ep = g->local_endpoint();
    announce_("gateway " + g->name() + " " + ep.address().to_string() + ":" +
              std::to_string(ep.port()));
  }
  if (!opts_.scenario.empty()) {
    scenario_ = std::make_unique<call_scenario>(io_, opts_, lines_, calls_, [this] {
      // Bounded: a hang-up NTFY to a dead call agent gives up after its retransmissions.
      auto retransmissions = std::min<std::chrono::milliseconds>(
        opts_.rto_max * (opts_.max_retransmissions + 1), std::chrono::seconds{10});
      auto bound =
        opts_.hangup_delay + opts_.answer_delay + retransmissions + std::chrono::seconds{1};
      settle_then_finish(std::chrono::steady_clock::now() + bound);
    });
    register_timer_ = std::make_unique<boost::asio::steady_timer>(io_, opts_.register_timeout);
    register_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !scenario_started_) {
        log("registration incomplete after --register-timeout; starting the scenario anyway");
        scenario_started_ = true;
        scenario_->start();
      }
    });
  }
  announce_("ready");
}

void simulator::settle_then_finish(std::chrono::steady_clock::time_point deadline) {
  bool settled = std::none_of(lines_.begin(), lines_.end(), [](const line* l) {
    return l->hook() == line::hook_state::off_hook || l->notify_in_flight();
  });
  if (settled || stopped_ || std::chrono::steady_clock::now() >= deadline) {
    if (!settled && !stopped_)
      log("scenario over; lines still off hook or notifying at the settle deadline");
    if (finished_)
      finished_();
    return;
  }
  after(std::chrono::milliseconds{20}, [this, deadline] { settle_then_finish(deadline); });
}

void simulator::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  if (scenario_)
    scenario_->abort();
  if (register_timer_)
    register_timer_->cancel();
  if (control_)
    control_->stop();
  for (auto& m : mtas_)
    m->stop();
  for (auto& g : gateways_)
    g->stop();
  for (auto* l : lines_)
    for (const auto& [id, c] : l->connections())
      c.rtp->close();
  media_.stop();
}

void simulator::maybe_start_scenario() {
  if (!scenario_ || scenario_started_)
    return;
  for (auto* l : lines_)
    if (!l->registered())
      return;
  scenario_started_ = true;
  register_timer_->cancel();
  // Give the call agent a moment to arm the lines (RQNT R: L/hd) after the last RSIP.
  after(std::chrono::milliseconds(500), [this] { scenario_->start(); });
}

void simulator::line_changed(line& l, line_event e) {
  if (stopped_)
    return;
  if (e == line_event::registered)
    maybe_start_scenario();
  auto& s = subscribers_[l.index() - 1];
  if (scenario_ && scenario_->is_caller(l)) {
    scenario_->line_changed(l, e);
    return;
  }
  subscriber_reacts(l, s, e);
}

void simulator::subscriber_reacts(line& l, subscriber& s, line_event e) {
  if (!l.connections().empty())
    s.had_connection = true;
  if (e == line_event::registered && s.policy == answer_policy::busy &&
      l.hook() == line::hook_state::on_hook) {
    // A "busy" subscriber has the handset off: the call agent sees it off-hook and any call to it
    // finds the line busy (RQNT with ringing is refused with 401).
    l.off_hook();
    return;
  }
  if (l.signal_active("rg") && l.hook() == line::hook_state::on_hook &&
      s.policy == answer_policy::automatic && !s.answering) {
    s.answering = true;
    after(opts_.answer_delay, [&l, &s] {
      s.answering = false;
      if (l.signal_active("rg") && l.hook() == line::hook_state::on_hook) {
        s.answered = true;
        s.had_connection = !l.connections().empty();
        l.off_hook();
      }
    });
    return;
  }
  if (!s.answered || s.hanging_up || l.hook() != line::hook_state::off_hook)
    return;
  // The answering subscriber hangs up when the call is over: its connections are gone, or the
  // call agent plays a tone that says the far end left.
  bool released = s.had_connection && l.connections().empty();
  bool tone = l.signal_active("bz") || l.signal_active("ro") || l.signal_active("dl");
  if (released || tone) {
    s.hanging_up = true;
    after(opts_.hangup_delay, [&l, &s] {
      s.hanging_up = false;
      s.answered = false;
      s.had_connection = false;
      l.on_hook();
    });
  }
}

trunk_gateway* simulator::find_gateway(const std::string& token) const {
  if (token.empty())
    return nullptr;
  if (token.find_first_not_of("0123456789") == std::string::npos && token.size() <= 4) {
    auto i = std::stoul(token);
    return i >= 1 && i <= gateways_.size() ? gateways_[i - 1].get() : nullptr;
  }
  for (auto& g : gateways_)
    if (g->name() == token)
      return g.get();
  return nullptr;
}

std::string simulator::execute_gateway(const std::string& verb, std::istringstream& in) {
  if (verb == "gateways") {
    boost::json::array a;
    for (auto& g : gateways_)
      a.push_back(g->status());
    return boost::json::serialize(a);
  }
  std::string target;
  in >> target;
  auto* g = find_gateway(target);
  if (!g)
    return target.empty() ? "error " + verb + ": missing gateway"
                          : "error unknown gateway '" + target + "'";
  if (verb == "gw-status")
    return boost::json::serialize(g->status());
  if (verb == "gw-stop") {
    g->stop_answering();
    return "ok";
  }
  if (verb == "gw-start") {
    g->restart();
    return "ok";
  }
  if (verb == "gw-rsip") {
    std::string method = "restart";
    in >> method;
    if (method != "restart" && method != "forced" && method != "graceful" &&
        method != "disconnected")
      return "error gw-rsip: unknown restart method '" + method + "'";
    if (g->state() == "silent")
      return "error gateway is silent (gw-start first)";
    g->send_rsip(method);
    return "ok";
  }
  if (verb == "gw-span") {
    int span = 0;
    std::string how;
    in >> span >> how;
    if (how != "up" && how != "down")
      return "error gw-span: expected SPAN up|down";
    return g->set_span(span, how == "up") ? "ok" : "error gw-span: unknown span";
  }
  if (verb == "gw-call") {
    std::string called, calling;
    in >> called >> calling;
    if (called.empty())
      return "error gw-call: missing called number";
    auto r = g->place_call(called, calling);
    return r.rfind("error", 0) == 0 ? r : "ok " + r;
  }
  if (verb == "gw-release") {
    std::string channel;
    int cause = 16;
    in >> channel >> cause;
    return g->pstn_release(channel, cause) ? "ok" : "error no PSTN call on '" + channel + "'";
  }
  if (verb == "gw-answer") {
    std::string policy;
    in >> policy;
    if (policy == "auto")
      g->set_answer_policy(answer_policy::automatic);
    else if (policy == "never")
      g->set_answer_policy(answer_policy::never);
    else if (policy == "busy")
      g->set_answer_policy(answer_policy::busy);
    else
      return "error gw-answer: expected auto, never or busy";
    return "ok";
  }
  return "error unknown command '" + verb + "'";
}

line* simulator::find_line(const std::string& token) const {
  if (token.empty())
    return nullptr;
  bool numeric = token.find_first_not_of("0123456789") == std::string::npos;
  if (numeric && token.size() <= 6) {
    auto i = std::stoul(token);
    if (i >= 1 && i <= lines_.size())
      return lines_[i - 1];
  }
  for (auto* l : lines_)
    if (l->endpoint_name() == token || l->dn() == token)
      return l;
  return nullptr;
}

report_data simulator::report() const {
  report_data r;
  r.mode = opts_.scenario.empty() ? (lines_.empty() ? "gateway" : "answer") : opts_.scenario;
  r.gateways = gateways_.size();
  r.trunks = trunk_counters_;
  r.elapsed_s =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  r.lines = lines_.size();
  for (auto* l : lines_) {
    if (l->registered())
      ++r.lines_registered;
    if (l->hook() == line::hook_state::off_hook)
      ++r.lines_off_hook;
  }
  r.signalling = signalling_;
  r.calls = calls_;
  r.rtp = rtp_released_;
  r.rtp_streams = rtp_streams_;
  for (auto* l : lines_) {
    for (const auto& [id, c] : l->connections()) {
      auto x = c.rtp->counters();
      r.rtp.packets_sent += x.packets_sent;
      r.rtp.octets_sent += x.octets_sent;
      r.rtp.packets_received += x.packets_received;
      r.rtp.octets_received += x.octets_received;
      r.rtp.packets_lost += x.packets_lost;
      r.rtp.invalid_received += x.invalid_received;
      if (c.carried_media)
        ++r.rtp_streams;
    }
  }
  return r;
}

std::string simulator::execute(const std::string& request) {
  std::istringstream in(request);
  std::string verb, target;
  in >> verb;
  if (verb.empty())
    return "error empty request";
  if (verb == "ping")
    return "pong";
  if (verb == "help")
    return "ok commands: offhook onhook flash dial status answer rsip lines report ping "
           "gateways gw-status gw-stop gw-start gw-rsip gw-span gw-call gw-release gw-answer";
  if (verb == "gateways" || verb.rfind("gw-", 0) == 0)
    return execute_gateway(verb, in);
  if (verb == "report")
    return boost::json::serialize(to_json(report()));
  if (verb == "lines") {
    boost::json::array a;
    for (auto* l : lines_) {
      boost::json::object o;
      o["index"] = l->index();
      o["endpoint"] = l->endpoint_name();
      o["dn"] = l->dn();
      o["hook"] = l->hook() == line::hook_state::off_hook ? "off" : "on";
      o["registered"] = l->registered();
      a.push_back(std::move(o));
    }
    return boost::json::serialize(a);
  }
  in >> target;
  line* l = find_line(target);
  if (!l)
    return target.empty() ? "error " + verb + ": missing line"
                          : "error unknown line '" + target + "'";
  if (verb == "status")
    return boost::json::serialize(l->status());
  if (verb == "offhook") {
    if (l->hook() == line::hook_state::off_hook)
      return "error line already off-hook";
    l->off_hook();
    return "ok";
  }
  if (verb == "onhook") {
    if (l->hook() == line::hook_state::on_hook)
      return "error line already on-hook";
    l->on_hook();
    return "ok";
  }
  if (verb == "flash") {
    if (l->hook() == line::hook_state::on_hook)
      return "error line is on-hook";
    l->flash();
    return "ok";
  }
  if (verb == "dial") {
    std::string digits;
    long interval = 0;
    in >> digits >> interval;
    if (digits.empty())
      return "error dial: missing digits";
    if (l->hook() == line::hook_state::on_hook)
      return "error line is on-hook";
    for (char c : digits)
      if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#'))
        return std::string("error dial: bad digit '") + c + "'";
    if (interval <= 0) {
      for (char c : digits)
        l->press_digit(c);
    } else {
      for (std::size_t i = 0; i < digits.size(); ++i) {
        char c = digits[i];
        after(std::chrono::milliseconds(interval * static_cast<long>(i)),
              [l, c] { l->press_digit(c); });
      }
    }
    return "ok";
  }
  if (verb == "answer") {
    std::string policy;
    in >> policy;
    auto& s = subscribers_[l->index() - 1];
    if (policy == "auto")
      s.policy = answer_policy::automatic;
    else if (policy == "never")
      s.policy = answer_policy::never;
    else if (policy == "busy")
      s.policy = answer_policy::busy;
    else
      return "error answer: expected auto, never or busy";
    return "ok";
  }
  if (verb == "rsip") {
    std::string method = "restart";
    in >> method;
    if (method != "restart" && method != "forced" && method != "graceful" &&
        method != "disconnected" && method != "cancel-graceful")
      return "error rsip: unknown restart method '" + method + "'";
    l->send_rsip(method);
    return "ok";
  }
  return "error unknown command '" + verb + "'";
}

} // namespace cms::sim
