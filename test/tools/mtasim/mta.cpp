#include "test/tools/mtasim/mta.hpp"

#include <algorithm>
#include <cctype>

namespace cms::sim {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

} // namespace

bool local_name_matches(std::string_view pattern, std::string_view name) {
  if (pattern == "*" || pattern == "$")
    return true;
  auto star = pattern.find('*');
  if (star == std::string_view::npos)
    return iequals(pattern, name);
  // Only a trailing "*" term is supported ("aaln/*"), as NCS uses it.
  return name.size() >= star && iequals(pattern.substr(0, star), name.substr(0, star));
}

mta::mta(sim_context& ctx, int number, std::string domain, std::string address, std::uint16_t port,
         std::size_t first_index, std::uint64_t first_dn)
  : ctx_(ctx),
    number_(number),
    domain_(std::move(domain)),
    address_(std::move(address)),
    port_(port) {
  for (int i = 0; i < ctx.options.lines; ++i)
    lines_.push_back(std::make_unique<line>(
      *this, first_index + static_cast<std::size_t>(i), "aaln/" + std::to_string(i + 1), domain_,
      std::to_string(first_dn + static_cast<std::uint64_t>(i))));
}

mta::~mta() { stop(); }

void mta::start() {
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
  auto ne = call_agent_entity();
  for (auto& l : lines_) {
    l->set_notified_entity(ne);
    auto spread = ctx_.options.rsip_spread.count();
    if (spread == 0) {
      l->send_rsip("restart");
    } else {
      auto delay = std::chrono::milliseconds(
        static_cast<long long>((l->index() * 7919u) % static_cast<unsigned long long>(spread + 1)));
      line* lp = l.get();
      ctx_.after(delay, [lp] { lp->send_rsip("restart"); });
    }
  }
}

void mta::stop() {
  if (agent_)
    agent_->stop();
}

mgcp::udp_endpoint mta::local_endpoint() const {
  return agent_ ? agent_->local_endpoint() : mgcp::udp_endpoint{};
}

const mgcp::udp_endpoint& mta::call_agent() const { return ctx_.options.call_agents[ca_index_]; }

notified_entity mta::call_agent_entity() const {
  const auto& ca = call_agent();
  return notified_entity{"ca@[" + ca.address().to_string() + "]:" + std::to_string(ca.port()), ca};
}

void mta::send_from(line& l, mgcp::command cmd, mgcp::agent::outcome_handler done) {
  if (!agent_) {
    done(mgcp::transaction_failure::stopped);
    return;
  }
  if (ctx_.options.verbose)
    ctx_.log(l.endpoint_name() + ": send " + std::string(mgcp::to_string(cmd.kind)) + " to " +
             l.current_notified_entity().address.address().to_string() + ":" +
             std::to_string(l.current_notified_entity().address.port()));
  auto generation = ca_generation_;
  auto to = l.current_notified_entity().address;
  agent_->send(to, std::move(cmd),
               [this, generation, to, lp = &l, done = std::move(done)](mgcp::command_outcome o) {
                 auto* f = std::get_if<mgcp::transaction_failure>(&o);
                 if (!f)
                   failovers_unanswered_ = 0;
                 else if (*f != mgcp::transaction_failure::stopped)
                   fail_over(generation, to, *lp);
                 done(std::move(o));
               });
}

void mta::fail_over(std::uint64_t generation, const mgcp::udp_endpoint& failed, const line& l) {
  if (generation != ca_generation_)
    return; // another transaction of this MTA already triggered the move
  // A call agent redirected the line (N:) while this command was retransmitted to the old one:
  // the new notified entity is the one that answers now, nothing to fail over from.
  if (l.current_notified_entity().address != failed)
    return;
  ++ca_generation_;
  ctx_.signalling.failovers++;
  // The next call agent after the one that failed, not after the one we started with: a takeover
  // moves the lines (N:) without telling us which entry of the list that was.
  const auto& cas = ctx_.options.call_agents;
  auto it = std::find(cas.begin(), cas.end(), failed);
  std::size_t failed_index =
    it != cas.end() ? static_cast<std::size_t>(it - cas.begin()) : ca_index_;
  ca_index_ = (failed_index + 1) % cas.size();
  bool wrapped = ++failovers_unanswered_ >= cas.size();
  auto ne = call_agent_entity();
  ctx_.log(domain_ + ": call agent not answering, moving to " + ne.text);
  auto restart = [this, ne, generation = ca_generation_] {
    if (generation != ca_generation_)
      return;
    for (auto& l : lines_) {
      l->set_notified_entity(ne);
      l->send_rsip("disconnected");
    }
  };
  // Every call agent of the list failed in a row: pause first so a dead network is not hammered.
  if (wrapped)
    ctx_.after(ctx_.options.reconnect_delay, restart);
  else
    restart();
}

void mta::on_command(const mgcp::udp_endpoint& from, mgcp::command cmd) {
  auto& sig = ctx_.signalling;
  sig.commands_received++;
  sig.commands_by_verb[std::string(mgcp::to_string(cmd.kind))]++;
  if (ctx_.options.verbose)
    ctx_.log(domain_ + ": received " + std::string(mgcp::to_string(cmd.kind)) + " " +
             std::to_string(cmd.transaction_id) + " " + cmd.endpoint);
  auto refuse = [&](int code, const std::string& why) {
    sig.commands_refused++;
    ctx_.log(domain_ + ": " + std::string(mgcp::to_string(cmd.kind)) + " " + cmd.endpoint +
             " refused " + std::to_string(code) + " (" + why + ")");
    agent_->respond(from, make_response(cmd, code, why));
  };
  auto at = cmd.endpoint.find('@');
  if (at == std::string::npos)
    return refuse(500, "endpoint name without domain");
  auto local = std::string_view(cmd.endpoint).substr(0, at);
  auto domain = std::string_view(cmd.endpoint).substr(at + 1);
  if (!iequals(domain, domain_))
    return refuse(500, "unknown endpoint");
  bool wildcard = local.find_first_of("*$") != std::string_view::npos;
  if (!wildcard) {
    auto it = std::find_if(lines_.begin(), lines_.end(),
                           [&](const auto& l) { return iequals(l->local_name(), local); });
    if (it == lines_.end())
      return refuse(500, "unknown endpoint");
    agent_->respond(from, (*it)->handle(cmd, from));
    return;
  }
  std::vector<line*> matched;
  for (auto& l : lines_)
    if (local_name_matches(local, l->local_name()))
      matched.push_back(l.get());
  if (matched.empty())
    return refuse(500, "no endpoint matches " + std::string(local));
  switch (cmd.kind) {
  case mgcp::verb::auep: {
    // RFC 3435 2.3.10: a wildcarded audit returns the endpoint names.
    auto rsp = make_response(cmd, 200);
    for (auto* l : matched)
      rsp.params.push_back(mgcp::parameter{"Z", l->endpoint_name()});
    agent_->respond(from, std::move(rsp));
    return;
  }
  case mgcp::verb::dlcx:
  case mgcp::verb::rqnt:
  case mgcp::verb::epcf: {
    for (auto* l : matched) {
      auto r = l->handle(cmd, from);
      if (r.code >= 300) {
        agent_->respond(from, std::move(r));
        return;
      }
    }
    agent_->respond(from, make_response(cmd, cmd.kind == mgcp::verb::dlcx ? 250 : 200));
    return;
  }
  default:
    return refuse(500, "wildcard not supported for " + std::string(mgcp::to_string(cmd.kind)));
  }
}

} // namespace cms::sim
