#include "actors/calls/mgcp_edge.hpp"

#include "actors/calls/endpoint_directory.hpp"
#include "actors/ha/takeover_protocol.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/mgcp/endpoint_name.hpp"

#include <boost/asio/ip/address.hpp>

namespace cms::actors {

mgcp_peer to_peer(const mgcp::udp_endpoint& ep) {
  return mgcp_peer{ep.address().to_string(), ep.port()};
}

std::optional<mgcp::udp_endpoint> to_udp(const mgcp_peer& p) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(p.address, ec);
  if (ec || p.port == 0)
    return std::nullopt;
  return mgcp::udp_endpoint{addr, p.port};
}

caf::behavior mgcp_edge(caf::stateful_actor<mgcp_edge_state>* self, mgcp::agent* agent,
                        bool start_fenced) {
  self->state.agent = agent;
  self->state.fenced = start_fenced;
  // The agent holds the fence for every answer it would send on its own (errors, 100, replays).
  if (agent)
    agent->set_fenced(start_fenced);
  return {
    [self](mgcp_request& req) -> caf::result<mgcp_reply> {
      if (self->state.fenced) {
        mgcp_reply r;
        r.fail = mgcp_reply::failure::stopped;
        return r;
      }
      auto to = to_udp(req.peer);
      if (!to) {
        mgcp_reply r;
        r.fail = mgcp_reply::failure::bad_peer;
        return r;
      }
      auto tag = self->state.next_tag++;
      auto rp = self->make_response_promise<mgcp_reply>();
      self->state.pending.emplace(tag, rp);
      auto me = caf::actor_cast<caf::actor>(self);
      // The outcome arrives on the io thread: only post it back to ourselves.
      self->state.agent->send(*to, std::move(req.cmd), [me, tag](mgcp::command_outcome out) {
        caf::anon_send<caf::message_priority::high>(me, mgcp_outcome{tag, std::move(out)});
      });
      return rp;
    },
    [self](mgcp_outcome& out) {
      auto it = self->state.pending.find(out.tag);
      if (it == self->state.pending.end())
        return;
      mgcp_reply r;
      if (auto rsp = std::get_if<mgcp::response>(&out.outcome)) {
        r.rsp = std::move(*rsp);
      } else {
        switch (std::get<mgcp::transaction_failure>(out.outcome)) {
        case mgcp::transaction_failure::timeout:
          r.fail = mgcp_reply::failure::timeout;
          break;
        case mgcp::transaction_failure::send_error:
          r.fail = mgcp_reply::failure::send_error;
          break;
        case mgcp::transaction_failure::stopped:
          r.fail = mgcp_reply::failure::stopped;
          break;
        }
      }
      it->second.deliver(std::move(r));
      self->state.pending.erase(it);
    },
    [self](mgcp_fence& f) {
      if (f.closed != self->state.fenced)
        log::get("mgcp")->info("event=mgcp_fence state={}", f.closed ? "closed" : "open");
      self->state.fenced = f.closed;
      if (self->state.agent)
        self->state.agent->set_fenced(f.closed);
    },
    [self](mgcp_respond& m) {
      // A standby stays silent: an MTA that tries it fails over to the next call agent of its
      // list (NCS disconnected procedure) instead of believing it registered here.
      if (self->state.fenced)
        return;
      if (auto to = to_udp(m.peer))
        self->state.agent->respond(*to, std::move(m.rsp));
    },
  };
}

namespace {
void answer(mgcp::agent& agent, const mgcp::udp_endpoint& to, std::uint32_t tid, int code,
            std::string comment) {
  mgcp::response rsp;
  rsp.code = code;
  rsp.transaction_id = tid;
  rsp.comment = std::move(comment);
  agent.respond(to, std::move(rsp));
}
} // namespace

void dispatch_inbound(const endpoint_directory& directory, mgcp::agent& agent,
                      const inbound_metrics& counters, const mgcp::udp_endpoint& from,
                      mgcp::command cmd) {
  auto name = mgcp::parse_endpoint_name(cmd.endpoint);
  if (name && directory.check_source(name->domain, from.address()) ==
                endpoint_directory::source_check::refused) {
    if (counters.wrong_source)
      counters.wrong_source->inc();
    log::get("mgcp")->debug("event=wrong_source verb={} endpoint={} from={}:{}",
                            mgcp::to_string(cmd.kind), cmd.endpoint, from.address().to_string(),
                            from.port());
    return;
  }
  if (name && name->wildcarded()) {
    auto lines = name->all_of() && cmd.kind == mgcp::verb::rsip ? directory.covered_by(*name)
                                                                : std::vector<caf::actor>{};
    if (lines.empty()) {
      if (counters.unknown_endpoint)
        counters.unknown_endpoint->inc();
      answer(agent, from, cmd.transaction_id, 500, "Endpoint unknown");
      return;
    }
    // One answer for the whole MTA; each line then checks the source and registers itself.
    if (counters.wildcard)
      counters.wildcard->inc();
    answer(agent, from, cmd.transaction_id, 200, "OK");
    auto peer = to_peer(from);
    for (auto& line : lines)
      caf::anon_send<caf::message_priority::high>(line, inbound_command{peer, cmd, false});
    return;
  }
  auto line = name ? directory.find(cmd.endpoint) : caf::actor{};
  if (!line) {
    if (counters.unknown_endpoint)
      counters.unknown_endpoint->inc();
    answer(agent, from, cmd.transaction_id, 500, "Endpoint unknown");
    return;
  }
  if (counters.dispatched)
    counters.dispatched->inc();
  caf::anon_send<caf::message_priority::high>(line,
                                              inbound_command{to_peer(from), std::move(cmd), true});
}

} // namespace cms::actors
