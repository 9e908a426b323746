#include "test/tools/mtasim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>

namespace cms::sim {

using clock_type = std::chrono::steady_clock;

struct call_scenario::call {
  enum class phase { wait_dial_tone, dialling, proceeding, ringback, talking, releasing, ended };
  explicit call(boost::asio::io_context& io) : timer(io), digit_timer(io) {}
  line* caller = nullptr;
  line* callee = nullptr; ///< nullptr for an off-net call
  std::string number;     ///< what the caller dials
  phase state = phase::wait_dial_tone;
  clock_type::time_point off_hook_at;
  bool ringback_seen = false;
  bool setup_recorded = false;
  std::size_t next_digit = 0;
  boost::asio::steady_timer timer; ///< setup / no-answer / hold / release deadline
  boost::asio::steady_timer digit_timer;
  std::list<std::unique_ptr<call>>::iterator self; ///< own place in calls_ (O(1) removal)
  bool finished = false;
};

namespace {

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

const char* phase_name(int p) {
  static const char* names[] = {"wait_dial_tone", "dialling",  "proceeding", "ringback",
                                "talking",        "releasing", "ended"};
  return p >= 0 && p < 7 ? names[p] : "?";
}

/// Failed calls are rare below capacity: each one is worth a line to find it in the node's log.
/// Above capacity (shed calls by the thousand) only the first few of each cause are printed.
constexpr std::uint64_t failures_printed_per_cause = 20;

} // namespace

call_scenario::call_scenario(boost::asio::io_context& io, const sim_options& opts,
                             std::vector<line*> lines, call_counters& counters,
                             std::function<void()> finished)
  : io_(io),
    opts_(opts),
    lines_(std::move(lines)),
    counters_(counters),
    finished_(std::move(finished)),
    pacing_(io),
    drain_(io),
    callee_cursor_(lines_.size() / 2) {}

call_scenario::~call_scenario() = default;

bool call_scenario::idle(const line& l) const {
  return l.registered() && l.hook() == line::hook_state::on_hook && l.connections().empty() &&
         l.event_requested("L/hd") && !reserved_.count(&l);
}

bool call_scenario::is_caller(const line& l) const {
  auto it = by_caller_.find(&l);
  return it != by_caller_.end() && it->second->state != call::phase::ended;
}

std::chrono::milliseconds call_scenario::hold_time() {
  if (opts_.hold_max <= opts_.hold)
    return opts_.hold;
  static thread_local std::mt19937 gen{std::random_device{}()};
  std::uniform_int_distribution<long long> pick(opts_.hold.count(), opts_.hold_max.count());
  return std::chrono::milliseconds(pick(gen));
}

void call_scenario::start() {
  start_ = clock_type::now();
  end_ = start_ + opts_.duration;
  placing_ = true;
  pacing_.expires_at(start_);
  pacing_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec)
      place_next();
  });
}

void call_scenario::place_next() {
  auto now = clock_type::now();
  if (now >= end_) {
    placing_ = false;
    // Calls still running get the drain time to finish, then are abandoned.
    drain_.expires_after(std::max(opts_.hold, opts_.hold_max) + opts_.setup_timeout +
                         opts_.drain_timeout);
    drain_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec)
        abort();
    });
    check_done();
    return;
  }
  start_call();
  ++placed_;
  auto next = start_ + std::chrono::duration_cast<clock_type::duration>(
                         std::chrono::duration<double>(static_cast<double>(placed_) / opts_.rate));
  pacing_.expires_at(next);
  pacing_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec)
      place_next();
  });
}

void call_scenario::start_call() {
  line* caller = nullptr;
  line* callee = nullptr;
  auto n = lines_.size();
  for (std::size_t i = 0; i < n && !caller; ++i) {
    auto* l = lines_[(caller_cursor_ + i) % n];
    if (idle(*l)) {
      caller = l;
      caller_cursor_ = (caller_cursor_ + i + 1) % n;
    }
  }
  bool offnet = opts_.scenario == "offnet";
  if (caller && !offnet) {
    for (std::size_t i = 0; i < n && !callee; ++i) {
      auto* l = lines_[(callee_cursor_ + i) % n];
      if (l != caller && idle(*l)) {
        callee = l;
        callee_cursor_ = (callee_cursor_ + i + 1) % n;
      }
    }
  }
  if (!caller || (!callee && !offnet)) {
    counters_.skipped++;
    return;
  }
  counters_.attempts++;
  auto c = std::make_unique<call>(io_);
  c->caller = caller;
  c->callee = callee;
  // Off-net: the callee is the PSTN behind a trunking gateway (simulated or not).
  c->number = offnet ? opts_.called[called_cursor_++ % opts_.called.size()] : callee->dn();
  c->off_hook_at = clock_type::now();
  reserved_.insert(caller);
  if (callee)
    reserved_.insert(callee);
  auto* cp = c.get();
  calls_.push_back(std::move(c));
  cp->self = std::prev(calls_.end());
  by_caller_[caller] = cp;
  cp->timer.expires_after(opts_.setup_timeout);
  cp->timer.async_wait([this, cp](const boost::system::error_code& ec) {
    if (!ec && (cp->state == call::phase::wait_dial_tone || cp->state == call::phase::dialling ||
                cp->state == call::phase::proceeding))
      fail(*cp, "timeout");
  });
  caller->off_hook();
  advance(*cp);
}

void call_scenario::line_changed(line& l, line_event) {
  auto it = by_caller_.find(&l);
  if (it != by_caller_.end() && it->second->state != call::phase::ended)
    advance(*it->second);
}

void call_scenario::advance(call& c) {
  auto& l = *c.caller;
  using phase = call::phase;
  switch (c.state) {
  case phase::wait_dial_tone:
    if (l.signal_active("dl") || (l.event_requested("D/0") && !l.signal_active("ro"))) {
      c.state = phase::dialling;
      dial(c);
      return;
    }
    if (l.signal_active("ro"))
      return fail(c, "reorder");
    if (l.signal_active("bz"))
      return fail(c, "busy");
    return;
  case phase::dialling:
    // Tones during dialling mean the call agent gave up on the number (partial dial, unknown).
    if (l.signal_active("ro"))
      return fail(c, "reorder");
    if (l.signal_active("bz"))
      return fail(c, "busy");
    return;
  case phase::proceeding:
  case phase::ringback:
    if (l.signal_active("rt") && !c.ringback_seen) {
      c.ringback_seen = true;
      c.state = phase::ringback;
      if (!c.setup_recorded) {
        c.setup_recorded = true;
        counters_.setup_latency_ms.add(ms_since(c.off_hook_at));
      }
      c.timer.expires_after(opts_.no_answer_timeout);
      c.timer.async_wait([this, cp = &c](const boost::system::error_code& ec) {
        if (!ec && cp->state == phase::ringback)
          fail(*cp, "no_answer");
      });
      return;
    }
    if (l.in_media() && !l.signal_active("rt")) {
      if (!c.setup_recorded) {
        c.setup_recorded = true;
        counters_.setup_latency_ms.add(ms_since(c.off_hook_at));
      }
      counters_.answered++;
      counters_.answer_latency_ms.add(ms_since(c.off_hook_at));
      c.state = phase::talking;
      c.timer.expires_after(hold_time());
      c.timer.async_wait([this, cp = &c](const boost::system::error_code& ec) {
        if (!ec && cp->state == phase::talking)
          hang_up(*cp);
      });
      return;
    }
    if (l.signal_active("bz"))
      return fail(c, c.ringback_seen ? "no_answer" : "busy");
    if (l.signal_active("ro"))
      return fail(c, c.ringback_seen ? "no_answer" : "reorder");
    return;
  case phase::talking:
    if (l.connections().empty())
      return fail(c, "dropped");
    return;
  case phase::releasing:
    if (l.connections().empty()) {
      counters_.completed++;
      finish(c);
    }
    return;
  case phase::ended:
    return;
  }
}

void call_scenario::dial(call& c) {
  const auto& number = c.number;
  while (c.next_digit < number.size()) {
    if (c.state != call::phase::dialling)
      return;
    c.caller->press_digit(number[c.next_digit++]);
    if (opts_.digit_interval.count() > 0 && c.next_digit < number.size()) {
      c.digit_timer.expires_after(opts_.digit_interval);
      c.digit_timer.async_wait([this, cp = &c](const boost::system::error_code& ec) {
        if (!ec)
          dial(*cp);
      });
      return;
    }
  }
  if (c.state == call::phase::dialling) {
    c.state = call::phase::proceeding;
    advance(c); // the last digit may already have brought ringback
  }
}

void call_scenario::fail(call& c, const char* cause) {
  if (c.state == call::phase::ended)
    return;
  auto n = ++counters_.failures[cause];
  if (n <= failures_printed_per_cause)
    std::cerr << "mtasim: call failed: cause=" << cause << " caller=" << c.caller->endpoint_name()
              << " callee=" << (c.callee ? c.callee->endpoint_name() : c.number)
              << " phase=" << phase_name(static_cast<int>(c.state))
              << " after_ms=" << static_cast<long long>(ms_since(c.off_hook_at)) << " at_utc_ms="
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()
              << "\n";
  c.state = call::phase::ended;
  c.caller->on_hook();
  finish(c);
}

void call_scenario::hang_up(call& c) {
  c.state = call::phase::releasing;
  c.caller->on_hook();
  if (c.caller->connections().empty()) {
    counters_.completed++;
    return finish(c);
  }
  c.timer.expires_after(opts_.setup_timeout);
  c.timer.async_wait([this, cp = &c](const boost::system::error_code& ec) {
    if (!ec && cp->state == call::phase::releasing) {
      counters_.release_timeouts++;
      finish(*cp);
    }
  });
}

void call_scenario::finish(call& c) {
  if (c.finished)
    return; // removal already queued
  c.finished = true;
  c.state = call::phase::ended;
  // Timers may hold handlers pointing at this call: destroy it only once they have run.
  c.timer.cancel();
  c.digit_timer.cancel();
  reserved_.erase(c.caller);
  if (c.callee)
    reserved_.erase(c.callee);
  if (auto it = by_caller_.find(c.caller); it != by_caller_.end() && it->second == &c)
    by_caller_.erase(it);
  auto* cp = &c;
  boost::asio::post(io_, [this, cp] {
    calls_.erase(cp->self);
    check_done();
  });
}

void call_scenario::abort() {
  placing_ = false;
  pacing_.cancel();
  for (auto& c : calls_)
    if (c->state != call::phase::ended)
      fail(*c, "timeout");
  check_done();
}

void call_scenario::check_done() {
  if (done_ || placing_ || !calls_.empty())
    return;
  done_ = true;
  drain_.cancel();
  if (finished_)
    finished_();
}

} // namespace cms::sim
