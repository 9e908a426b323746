#pragma once
// Deterministic harness for the endpoint and call actors: the real catalogue, manager, outbox owner
// and endpoint actors on CAF's test scheduler, with a fake MGCP edge that records every command
// the actors send and every response they give, and answers from a script (by default like a
// healthy MTA: CRCX returns a connection id and SDP, DLCX 250 with P:).

#include "actors/billing/billing_outbox.hpp"
#include "actors/calls/call_context.hpp"
#include "actors/calls/call_manager.hpp"
#include "actors/calls/endpoint_actor.hpp"
#include "actors/calls/mgcp_edge.hpp"
#include "actors/calls/state_catalog.hpp"
#include "caf_test_fixture.hpp"
#include "runtime/mgcp/text.hpp"

#include <boost/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cms::test {
/// To the fake edge: answer the held (swallowed) RQNTs of `endpoint` with 200 now. A promise
/// must be delivered on its actor's own context, hence a message instead of a direct call.
struct answer_held_rqnt {
  std::string endpoint;
};
} // namespace cms::test

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cms::test::answer_held_rqnt)

namespace cms::test {

/// What crossed the fake wire.
struct wire_log {
  std::vector<mgcp::command> sent; ///< commands the actors sent to MTAs
  std::vector<std::pair<actors::mgcp_peer, mgcp::response>> answers; ///< responses to MTAs
  /// Scripted reply: return nullopt for the default behaviour.
  std::function<std::optional<actors::mgcp_reply>(const mgcp::command&)> script;
  /// Commands to which the fake MTA never answers (the edge reply stays pending).
  std::function<bool(const mgcp::command&)> swallow;
  /// The swallowed commands with their pending edge replies, for a test to answer late.
  std::vector<std::pair<mgcp::command, caf::response_promise>> held;
  int next_connection = 1;
};

struct edge_state {
  wire_log* log = nullptr;
  std::vector<caf::response_promise> swallowed;
  static inline const char* name = "fake_edge";
};

inline caf::behavior fake_edge(caf::stateful_actor<edge_state>* self, wire_log* log) {
  self->state.log = log;
  return {
    [self](actors::mgcp_request& req) -> caf::result<actors::mgcp_reply> {
      auto& log = *self->state.log;
      log.sent.push_back(req.cmd);
      if (log.swallow && log.swallow(req.cmd)) {
        auto rp = self->make_response_promise<actors::mgcp_reply>();
        self->state.swallowed.push_back(rp);
        log.held.emplace_back(req.cmd, rp);
        return rp;
      }
      if (log.script)
        if (auto r = log.script(req.cmd))
          return *r;
      actors::mgcp_reply r;
      r.rsp.code = 200;
      r.rsp.transaction_id = req.cmd.transaction_id;
      if (req.cmd.kind == mgcp::verb::crcx) {
        auto n = log.next_connection++;
        r.rsp.set_param("I", "C0" + std::to_string(n));
        r.rsp.sdp = "v=0\r\no=- " + std::to_string(n) +
                    " 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                    "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
                    std::to_string(40000 + 2 * n) + " RTP/AVP 0\r\n";
      } else if (req.cmd.kind == mgcp::verb::dlcx) {
        r.rsp.code = 250;
        r.rsp.set_param("P", "PS=100, OS=16000, PR=98, OR=15680, PL=2, JI=1, LA=3");
      }
      return r;
    },
    [self](actors::mgcp_respond& m) { self->state.log->answers.emplace_back(m.peer, m.rsp); },
    [self](answer_held_rqnt& a) {
      for (auto& [cmd, rp] : self->state.log->held)
        if (cmd.endpoint == a.endpoint && cmd.kind == mgcp::verb::rqnt && rp.pending()) {
          actors::mgcp_reply r;
          r.rsp.code = 200;
          r.rsp.transaction_id = cmd.transaction_id;
          rp.deliver(r);
        }
    },
  };
}

/// Billing rows kept in memory; `fail` makes the next appends throw.
struct memory_billing {
  std::vector<billing::billing_record> rows;
  std::vector<std::size_t> batch_sizes;
  int fail = 0;
};

class memory_writer : public actors::billing_writer {
public:
  explicit memory_writer(memory_billing* store) : store_(store) {}
  std::vector<std::uint64_t> append(const std::vector<billing::billing_record>& batch) override {
    if (store_->fail > 0) {
      --store_->fail;
      throw std::runtime_error("disk on fire");
    }
    std::vector<std::uint64_t> seqs;
    for (auto r : batch) {
      r.sequence = store_->rows.size() + 1;
      seqs.push_back(r.sequence);
      store_->rows.push_back(std::move(r));
    }
    store_->batch_sizes.push_back(batch.size());
    return seqs;
  }

private:
  memory_billing* store_;
};

class calls_fixture : public caf_fixture {
protected:
  metrics::registry registry;
  wire_log wire;
  memory_billing billing;
  std::shared_ptr<actors::call_context> ctx;
  std::map<std::string, caf::actor> lines; ///< by endpoint name
  std::uint32_t next_tid = 1000;

  const actors::mgcp_peer mta_a{"127.0.0.1", 2427};
  const actors::mgcp_peer mta_b{"127.0.0.1", 2428};
  const std::string line_a = "aaln/1@mta-a.example";
  const std::string line_b = "aaln/1@mta-b.example";

  static std::vector<persistence::subscriber> provisioned() {
    std::vector<persistence::subscriber> out;
    auto add = [&](std::string dn, std::string ep, std::string fqdn,
                   std::string status = "active") {
      persistence::subscriber s;
      s.directory_number = std::move(dn);
      s.endpoint_name = std::move(ep);
      s.mta_fqdn = std::move(fqdn);
      s.mta_address = "127.0.0.1";
      s.status = std::move(status);
      out.push_back(s);
    };
    add("5551001", "aaln/1@mta-a.example", "mta-a.example");
    add("5551002", "aaln/1@mta-b.example", "mta-b.example");
    add("5551003", "aaln/1@mta-c.example", "mta-c.example", "suspended");
    return out;
  }

  virtual actors::call_settings settings() {
    actors::call_settings s;
    s.notified_entity = "ca@cms-a.example:2727";
    s.on_net_prefixes = {"555"};
    s.in_call_audit_interval = std::chrono::milliseconds{0};
    return s;
  }

  void SetUp() override {
    auto subs = provisioned();
    actors::dial_plan plan{subs, settings().on_net_prefixes, nullptr};
    ctx = std::make_shared<actors::call_context>(settings(), registry, std::move(plan));
    ctx->set_catalog(sys.spawn(actors::state_catalog, std::vector<actors::endpoint_state>{}));
    auto* store = &billing;
    ctx->set_outbox(sys.spawn(actors::billing_outbox, ctx, actors::billing_writer_factory{[store] {
                                return std::unique_ptr<actors::billing_writer>(
                                  new memory_writer(store));
                              }}));
    ctx->set_edge(sys.spawn(fake_edge, &wire));
    ctx->set_manager(sys.spawn(actors::call_manager, ctx));
    for (auto& s : subs)
      lines[mgcp::text::lower(s.endpoint_name)] = sys.spawn(actors::endpoint_actor, ctx, s);
    sched.run();
  }

  void TearDown() override {
    for (auto& [n, h] : lines)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    for (auto h : {ctx->edge(), ctx->manager(), ctx->catalog(), ctx->outbox()})
      if (h)
        caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    sched.run();
    // Timers and requests that are still pending must not keep anything alive.
    while (sched.trigger_timeouts() > 0)
      sched.run();
    ctx->clear();
    lines.clear();
    sched.run();
  }

  actors::endpoint_state line(const std::string& name) {
    auto s = ctx->snapshot(name);
    EXPECT_TRUE(s.has_value()) << name;
    return s ? *s : actors::endpoint_state{};
  }

  std::uint32_t send_command(const std::string& name, const actors::mgcp_peer& from, mgcp::verb v,
                             mgcp::parameter_list params) {
    mgcp::command cmd;
    cmd.kind = v;
    cmd.transaction_id = next_tid++;
    cmd.endpoint = name;
    cmd.version = "MGCP 1.0 NCS 1.0";
    cmd.params = std::move(params);
    caf::anon_send<caf::message_priority::high>(lines.at(name),
                                                actors::inbound_command{from, cmd, true});
    sched.run();
    return cmd.transaction_id;
  }

  /// Response code the line gave to transaction `tid`, 0 if none.
  int answer_to(std::uint32_t tid) {
    for (auto& [peer, rsp] : wire.answers)
      if (rsp.transaction_id == tid)
        return rsp.code;
    return 0;
  }

  std::uint32_t rsip(const std::string& name, const actors::mgcp_peer& from,
                     const std::string& method = "restart", const std::string& delay = {}) {
    mgcp::parameter_list p{{"RM", method}};
    if (!delay.empty())
      p.push_back({"RD", delay});
    return send_command(name, from, mgcp::verb::rsip, p);
  }

  /// NTFY with the line's armed X: (or `x` when given).
  std::uint32_t ntfy(const std::string& name, const actors::mgcp_peer& from,
                     const std::string& observed, std::optional<std::string> x = std::nullopt) {
    auto xv = x ? *x : line(name).request_id;
    return send_command(name, from, mgcp::verb::ntfy,
                        {{"N", "ca@cms-a.example:2727"}, {"X", xv}, {"O", observed}});
  }

  /// Commands sent to `endpoint` with verb `v`, in order.
  std::vector<mgcp::command> sent(const std::string& endpoint, mgcp::verb v) const {
    std::vector<mgcp::command> out;
    for (auto& c : wire.sent)
      if (c.kind == v && c.endpoint == endpoint)
        out.push_back(c);
    return out;
  }

  std::optional<mgcp::command> last(const std::string& endpoint, mgcp::verb v) const {
    auto all = sent(endpoint, v);
    if (all.empty())
      return std::nullopt;
    return all.back();
  }

  static std::string param(const mgcp::command& c, const char* name) {
    auto p = c.param(name);
    return p ? *p : std::string{"<absent>"};
  }

  void register_both() {
    rsip(line_a, mta_a);
    rsip(line_b, mta_b);
    ASSERT_EQ(line(line_a).state, actors::line_state::idle);
    ASSERT_EQ(line(line_b).state, actors::line_state::idle);
  }

  void flush_billing() {
    sched.advance_time(std::chrono::milliseconds{50});
    sched.run();
  }

  std::vector<billing::billing_record> billing_for(const std::string& call_id) const {
    std::vector<billing::billing_record> out;
    for (auto& r : billing.rows)
      if (r.call_id == call_id)
        out.push_back(r);
    return out;
  }

  /// A off hook, dial tone, dials `number`.
  std::string dial_from_a(const std::string& number) {
    ntfy(line_a, mta_a, "L/hd");
    auto call_id = line(line_a).call_id;
    EXPECT_FALSE(call_id.empty());
    EXPECT_EQ(line(line_a).state, actors::line_state::dialling);
    if (!number.empty())
      ntfy(line_a, mta_a, "D/" + number);
    return call_id;
  }

  /// A calls B and B rings.
  std::string ring_b() {
    auto call_id = dial_from_a("5551002");
    EXPECT_EQ(line(line_b).state, actors::line_state::ringing);
    EXPECT_EQ(line(line_a).state, actors::line_state::ringing);
    return call_id;
  }

  std::string connect_a_b() {
    auto call_id = ring_b();
    ntfy(line_b, mta_b, "L/hd");
    EXPECT_EQ(line(line_a).state, actors::line_state::in_call);
    EXPECT_EQ(line(line_b).state, actors::line_state::in_call);
    return call_id;
  }

  double gauge(const std::string& name) { return registry.value(name); }
};

} // namespace cms::test
