#include "runtime/mgcp/transaction_manager.hpp"

#include <algorithm>
#include <cctype>

namespace cms::mgcp {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

/// Local lookup so the transaction layer depends on the data model only, not on message.cpp.
const parameter* find_param(const parameter_list& params, std::string_view name) noexcept {
  for (const auto& p : params)
    if (iequals(p.name, name))
      return &p;
  return nullptr;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<std::uint32_t> parse_tid(std::string_view s) noexcept {
  s = trim(s);
  if (s.empty() || s.size() > 9)
    return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return v;
}

/// A final response asks for a 000 when it carries an empty ResponseAck (RFC 3435 3.5.6).
bool wants_response_ack(const response& rsp) noexcept {
  const auto* k = find_param(rsp.params, "K");
  return k != nullptr && trim(k->value).empty();
}

response response_ack_for(std::uint32_t tid) {
  response ack;
  ack.code = 0;
  ack.transaction_id = tid;
  ack.comment = "Response Acknowledgement";
  return ack;
}

} // namespace

transaction_manager::transaction_manager(transaction_timers timers, std::uint64_t seed,
                                         bool send_response_acks, receive_limits limits)
  : timers_(timers),
    rng_(seed),
    send_response_acks_(send_response_acks),
    limits_(limits) {
  if (limits_.pending_timeout.count() < 1)
    limits_.pending_timeout = std::chrono::milliseconds{1};
  if (timers_.initial.count() < 1)
    timers_.initial = std::chrono::milliseconds{1};
  if (timers_.max < timers_.initial)
    timers_.max = timers_.initial;
  timers_.max1 = std::max(0, timers_.max1);
  timers_.max2 = std::max(timers_.max1, timers_.max2);
  timers_.jitter = std::clamp(timers_.jitter, 0.0, 0.9);
  // Start somewhere random so two restarts of the node do not replay the same ids to a gateway
  // that still has them in its history.
  next_tid_ = static_cast<std::uint32_t>(rng_() % max_transaction_id) + 1;
}

// ---- time helpers ---------------------------------------------------------------------------

std::chrono::milliseconds transaction_manager::next_timeout(int attempt) {
  // RFC 3435 3.5.3 / NCS: initial 200 ms doubling per retransmission, capped at 4 s, each value
  // jittered so gateways that restarted together do not retransmit in lock step.
  double base = static_cast<double>(timers_.initial.count());
  const double cap = static_cast<double>(timers_.max.count());
  for (int i = 0; i < attempt && base < cap; ++i)
    base *= 2;
  base = std::min(base, cap);
  std::uniform_real_distribution<double> spread(-timers_.jitter, timers_.jitter);
  double jittered = base * (1.0 + spread(rng_));
  jittered = std::clamp(jittered, 1.0, cap);
  return std::chrono::milliseconds{static_cast<std::int64_t>(jittered)};
}

void transaction_manager::schedule(timer_kind kind, std::uint32_t tid, const udp_endpoint& peer,
                                   time_point& slot, time_point when) {
  timers_due_.erase(timer_key{slot, kind, tid, peer});
  slot = when;
  timers_due_.insert(timer_key{when, kind, tid, peer});
}

void transaction_manager::arm(timer_kind kind, std::uint32_t tid, const udp_endpoint& peer,
                              time_point& slot, time_point when) {
  slot = when;
  timers_due_.insert(timer_key{when, kind, tid, peer});
}

void transaction_manager::unschedule(timer_kind kind, std::uint32_t tid, const udp_endpoint& peer,
                                     time_point when) {
  timers_due_.erase(timer_key{when, kind, tid, peer});
}

std::optional<time_point> transaction_manager::next_deadline() const {
  if (timers_due_.empty())
    return std::nullopt;
  return std::get<0>(*timers_due_.begin());
}

// ---- our commands ---------------------------------------------------------------------------

std::uint32_t transaction_manager::allocate_tid() {
  // Ids still outstanding or inside their T-hist are skipped: a response to an old command must
  // never complete a new one. The loop ends because both maps are far smaller than the id space.
  for (;;) {
    std::uint32_t tid = next_tid_;
    next_tid_ = next_tid_ >= max_transaction_id ? 1 : next_tid_ + 1;
    if (outstanding_.count(tid) == 0 && completed_.count(tid) == 0)
      return tid;
  }
}

std::pair<std::string, std::size_t>
transaction_manager::format_ack_ranges(const std::set<std::uint32_t>& ids, std::size_t max_ranges) {
  std::string out;
  std::size_t used = 0;
  std::size_t ranges = 0;
  auto it = ids.begin();
  while (it != ids.end() && ranges < max_ranges) {
    std::uint32_t first = *it;
    std::uint32_t last = first;
    ++it;
    ++used;
    while (it != ids.end() && *it == last + 1) {
      last = *it;
      ++it;
      ++used;
    }
    if (!out.empty())
      out += ", ";
    out += std::to_string(first);
    if (last != first) {
      out += '-';
      out += std::to_string(last);
    }
    ++ranges;
  }
  return {out, used};
}

std::vector<std::pair<std::uint32_t, std::uint32_t>>
transaction_manager::parse_ack_ranges(std::string_view value) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    auto dash = item.find('-');
    auto lo = parse_tid(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_tid(item.substr(dash + 1));
    if (lo && hi && *lo <= *hi)
      out.emplace_back(*lo, *hi);
  }
  return out;
}

std::uint32_t transaction_manager::start_command(const udp_endpoint& to, command& cmd,
                                                 time_point now) {
  std::uint32_t tid = allocate_tid();
  cmd.transaction_id = tid;
  if (find_param(cmd.params, "K") == nullptr) {
    auto acks = unacked_.find(to);
    if (acks != unacked_.end() && !acks->second.empty()) {
      auto [text, used] = format_ack_ranges(acks->second, max_ack_ranges);
      cmd.params.push_back(parameter{"K", std::move(text)});
      auto end = acks->second.begin();
      std::advance(end, static_cast<std::ptrdiff_t>(used));
      acks->second.erase(acks->second.begin(), end);
      if (acks->second.empty())
        unacked_.erase(acks);
    }
  }
  auto& rec = outstanding_[tid];
  rec.peer = to;
  rec.cmd = cmd;
  rec.retransmissions = 0;
  rec.provisional = false;
  arm(timer_kind::command, tid, to, rec.deadline, now + next_timeout(0));
  return tid;
}

bool transaction_manager::abandon(std::uint32_t transaction_id) {
  auto it = outstanding_.find(transaction_id);
  if (it == outstanding_.end())
    return false;
  unschedule(timer_kind::command, transaction_id, it->second.peer, it->second.deadline);
  outstanding_.erase(it);
  return true;
}

std::vector<std::uint32_t> transaction_manager::abandon_all() {
  std::vector<std::uint32_t> ids;
  ids.reserve(outstanding_.size());
  for (const auto& [tid, rec] : outstanding_) {
    unschedule(timer_kind::command, tid, rec.peer, rec.deadline);
    ids.push_back(tid);
  }
  outstanding_.clear();
  return ids;
}

incoming_response_result transaction_manager::on_response(const udp_endpoint& from,
                                                          const response& rsp, time_point now) {
  incoming_response_result result;
  if (rsp.code == 0) {
    // 000: the peer confirms it got our final response; the cached copy can go.
    auto peer = incoming_.find(from);
    if (peer != incoming_.end()) {
      auto it = peer->second.find(rsp.transaction_id);
      if (it != peer->second.end() && it->second.state != incoming_state::pending) {
        release(from, rsp.transaction_id, it->second);
        result.kind = incoming_response_kind::response_ack;
      }
    }
    return result;
  }

  auto out = outstanding_.find(rsp.transaction_id);
  if (out != outstanding_.end() && out->second.peer != from) {
    result.kind = incoming_response_kind::wrong_peer;
    return result;
  }
  if (out != outstanding_.end()) {
    auto& rec = out->second;
    if (rsp.provisional()) {
      // The peer is working on it: stop retransmitting, wait up to T-hist for the final response.
      rec.provisional = true;
      schedule(timer_kind::command, out->first, rec.peer, rec.deadline, now + timers_.t_hist);
      result.kind = incoming_response_kind::provisional;
      return result;
    }
    std::uint32_t tid = out->first;
    udp_endpoint peer = rec.peer;
    unschedule(timer_kind::command, tid, peer, rec.deadline);
    outstanding_.erase(out);
    auto& done = completed_[tid];
    done.peer = peer;
    done.ack_required = wants_response_ack(rsp);
    arm(timer_kind::completed, tid, peer, done.deadline, now + timers_.t_hist);
    if (done.ack_required)
      result.ack = response_ack_for(tid);
    else if (send_response_acks_)
      unacked_[peer].insert(tid);
    result.kind = incoming_response_kind::final;
    return result;
  }

  auto done = completed_.find(rsp.transaction_id);
  if (done != completed_.end() && done->second.peer != from) {
    result.kind = incoming_response_kind::wrong_peer;
    return result;
  }
  if (done != completed_.end()) {
    result.kind = incoming_response_kind::duplicate;
    if (done->second.ack_required && rsp.final())
      result.ack = response_ack_for(done->first); // our 000 was lost: say it again
    return result;
  }
  return result; // unknown
}

// ---- commands we receive --------------------------------------------------------------------

void transaction_manager::release(const udp_endpoint& peer, std::uint32_t tid,
                                  incoming_record& rec) {
  // Keep a tombstone until T-hist ends so a late copy of the command is still not executed twice.
  rec.state = incoming_state::acknowledged;
  if (rec.cached)
    --cached_count_;
  rec.cached.reset();
  rec.awaiting_ack = false;
  schedule(timer_kind::incoming, tid, peer, rec.deadline, rec.expires);
}

std::size_t transaction_manager::release_acknowledged(const udp_endpoint& peer,
                                                      std::string_view ranges) {
  auto it = incoming_.find(peer);
  if (it == incoming_.end())
    return 0;
  std::size_t released = 0;
  auto parsed = parse_ack_ranges(ranges);
  if (parsed.size() > max_ack_ranges * 4)
    parsed.resize(max_ack_ranges * 4); // bound the work a hostile K: can cause
  for (auto [lo, hi] : parsed) {
    for (auto rec = it->second.lower_bound(lo); rec != it->second.end() && rec->first <= hi;
         ++rec) {
      if (rec->second.state == incoming_state::answered) {
        release(peer, rec->first, rec->second);
        ++released;
      }
    }
  }
  return released;
}

incoming_command_result transaction_manager::on_command(const udp_endpoint& from,
                                                        const command& cmd, time_point now) {
  incoming_command_result result;
  if (const auto* k = find_param(cmd.params, "K"))
    result.released = release_acknowledged(from, k->value);

  auto known = incoming_.find(from);
  if (known == incoming_.end() || known->second.count(cmd.transaction_id) == 0) {
    // Fresh: refused (not recorded, not executed) when it would pass a bound.
    std::size_t of_peer = known == incoming_.end() ? 0 : known->second.size();
    if (of_peer >= limits_.max_per_peer || incoming_count_ >= limits_.max_transactions) {
      result.kind = of_peer >= limits_.max_per_peer ? incoming_command_kind::refused_peer_limit
                                                    : incoming_command_kind::refused_global_limit;
      response busy;
      busy.code = 409;
      busy.transaction_id = cmd.transaction_id;
      busy.comment = "Internal overload";
      result.reply = std::move(busy);
      return result;
    }
  }
  auto& peer = known != incoming_.end() ? known->second : incoming_[from];
  auto [it, inserted] = peer.try_emplace(cmd.transaction_id);
  auto& rec = it->second;
  if (inserted) {
    ++incoming_count_;
    rec.state = incoming_state::pending;
    rec.first_seen = now;
    arm(timer_kind::incoming, cmd.transaction_id, from, rec.deadline,
        now + limits_.pending_timeout);
    result.kind = incoming_command_kind::fresh;
    return result;
  }
  switch (rec.state) {
  case incoming_state::pending:
    result.kind = incoming_command_kind::duplicate_pending;
    if (now - rec.first_seen >= timers_.provisional_after) {
      response trying;
      trying.code = 100;
      trying.transaction_id = cmd.transaction_id;
      trying.comment = "Transaction in progress";
      result.reply = std::move(trying);
      rec.provisional_sent = true;
    }
    break;
  case incoming_state::answered:
    result.kind = incoming_command_kind::duplicate_answered;
    result.reply = rec.cached;
    break;
  case incoming_state::acknowledged:
    result.kind = incoming_command_kind::duplicate_acknowledged;
    break;
  }
  return result;
}

outgoing_response transaction_manager::respond(const udp_endpoint& to, response rsp,
                                               time_point now) {
  outgoing_response out;
  auto peer = incoming_.find(to);
  incoming_record* rec = nullptr;
  if (peer != incoming_.end()) {
    auto it = peer->second.find(rsp.transaction_id);
    if (it != peer->second.end())
      rec = &it->second;
  }
  if (rec == nullptr || rsp.provisional()) {
    // Not a command we track (decode-error answers, or an explicit provisional from the owner).
    if (rec != nullptr && rec->state == incoming_state::pending)
      rec->provisional_sent = true;
    out.kind = outgoing_response_kind::uncached;
    out.msg = std::move(rsp);
    return out;
  }
  if (rec->state != incoming_state::pending) {
    out.kind = outgoing_response_kind::duplicate;
    out.msg = std::move(rsp);
    return out;
  }
  rec->state = incoming_state::answered;
  rec->expires = now + timers_.t_hist;
  if (rec->provisional_sent) {
    // RFC 3435 3.5.6: after a provisional response the final one carries an empty K: and is
    // repeated until the peer acknowledges it with 000.
    if (find_param(rsp.params, "K") == nullptr)
      rsp.params.push_back(parameter{"K", ""});
    rec->awaiting_ack = true;
    rec->retransmissions = 0;
    schedule(timer_kind::incoming, rsp.transaction_id, to, rec->deadline, now + next_timeout(0));
  } else {
    schedule(timer_kind::incoming, rsp.transaction_id, to, rec->deadline, rec->expires);
  }
  if (!rec->cached)
    ++cached_count_;
  rec->cached = rsp;
  out.kind = outgoing_response_kind::cached;
  out.msg = std::move(rsp);
  return out;
}

// ---- timers ---------------------------------------------------------------------------------

timer_result transaction_manager::on_timer(time_point now) {
  timer_result result;
  while (!timers_due_.empty()) {
    auto first = timers_due_.begin();
    auto [when, kind, tid, peer] = *first;
    if (when > now)
      break;
    timers_due_.erase(first);

    switch (kind) {
    case timer_kind::command: {
      auto it = outstanding_.find(tid);
      if (it == outstanding_.end())
        break;
      auto& rec = it->second;
      if (rec.provisional || rec.retransmissions >= timers_.max2) {
        result.failed.emplace_back(tid, rec.peer);
        // Remember the id for T-hist: a late response must not be taken for a new command's.
        auto& done = completed_[tid];
        done.peer = rec.peer;
        done.ack_required = false;
        arm(timer_kind::completed, tid, rec.peer, done.deadline, now + timers_.t_hist);
        outstanding_.erase(it);
        break;
      }
      ++rec.retransmissions;
      if (rec.retransmissions == timers_.max1)
        result.suspect.push_back(rec.peer);
      result.retransmissions.push_back(outbound{rec.peer, rec.cmd});
      arm(timer_kind::command, tid, rec.peer, rec.deadline,
          now + next_timeout(rec.retransmissions));
      break;
    }
    case timer_kind::completed: {
      auto it = completed_.find(tid);
      if (it == completed_.end())
        break;
      auto acks = unacked_.find(it->second.peer);
      if (acks != unacked_.end()) {
        acks->second.erase(tid); // past T-hist the peer has dropped its copy anyway
        if (acks->second.empty())
          unacked_.erase(acks);
      }
      completed_.erase(it);
      ++result.expired;
      break;
    }
    case timer_kind::incoming: {
      auto p = incoming_.find(peer);
      if (p == incoming_.end())
        break;
      auto it = p->second.find(tid);
      if (it == p->second.end())
        break;
      auto& rec = it->second;
      if (rec.state == incoming_state::pending) {
        // Nobody answered it: forget it so a silent owner cannot grow the table. A late
        // respond() goes out uncached.
        p->second.erase(it);
        --incoming_count_;
        if (p->second.empty())
          incoming_.erase(p);
        ++result.pending_expired;
        break;
      }
      if (rec.awaiting_ack && rec.retransmissions < timers_.max2 && rec.cached) {
        ++rec.retransmissions;
        result.retransmissions.push_back(outbound{peer, *rec.cached});
        arm(timer_kind::incoming, tid, peer, rec.deadline, now + next_timeout(rec.retransmissions));
        break;
      }
      rec.awaiting_ack = false;
      if (rec.expires > now) {
        arm(timer_kind::incoming, tid, peer, rec.deadline, rec.expires);
        break;
      }
      if (rec.cached)
        --cached_count_;
      p->second.erase(it);
      --incoming_count_;
      if (p->second.empty())
        incoming_.erase(p);
      ++result.expired;
      break;
    }
    }
  }
  return result;
}

// ---- introspection --------------------------------------------------------------------------

std::size_t transaction_manager::cached_responses() const noexcept {
  // Kept as a count: the agent reads it after every response and timer, and walking every
  // record of the last T-hist there was the hottest spot of cmsd under call load
  // (docs/performance.md, "CPU profile").
  return cached_count_;
}

std::vector<std::uint32_t> transaction_manager::unacknowledged(const udp_endpoint& peer) const {
  auto it = unacked_.find(peer);
  if (it == unacked_.end())
    return {};
  return {it->second.begin(), it->second.end()};
}

} // namespace cms::mgcp
