#pragma once
// The calls harness (fake MGCP edge, real endpoint/call actors) plus the trunk tree on
// the test scheduler. Gateways are played by the fake edge (it answers CRCX/MDCX/DLCX/RQNT/AUEP)
// and by the tests, which inject the gateways' NTFYs and RSIPs as the MGCP dispatch would.

#include "actors/trunks/trunk_control.hpp"
#include "actors/type_ids.hpp"
#include "unit/calls/calls_fixture.hpp"

#include <boost/json.hpp>

namespace cms::test {

class trunks_fixture : public calls_fixture {
protected:
  persistence::provisioning prov;
  std::shared_ptr<trunks::trunk_offnet_router> offnet;
  trunks::trunk_control trunks;
  caf::actor root;

  static persistence::gateway gw(std::string name, std::uint16_t port, std::string role,
                                 std::string segment, std::optional<std::string> spare_for = {}) {
    persistence::gateway g;
    g.name = std::move(name);
    g.address = "127.0.0.1";
    g.port = port;
    g.role = std::move(role);
    g.segment = std::move(segment);
    g.spare_for = std::move(spare_for);
    return g;
  }

  static persistence::facility fac(std::string id, std::string gateway, std::string carrier,
                                   int channels, std::optional<std::string> backup = {}) {
    persistence::facility f;
    f.id = std::move(id);
    f.gateway = std::move(gateway);
    f.kind = "pri";
    f.carrier = std::move(carrier);
    f.span = 1;
    f.channels = channels;
    f.backup_facility = std::move(backup);
    return f;
  }

  /// Partner: gw-p1 (northtel, facility p1) and gw-p2 (bluewave, p2), each the other's backup.
  /// Local: gw-l1 (l1) with the cold spare gw-l9. Routes: "1" -> tg-p then tg-l; "7" -> tg-l;
  /// no default route.
  virtual persistence::provisioning provisioning() {
    persistence::provisioning p;
    p.gateways = {gw("gw-p1.example", 3001, "active", "partner"),
                  gw("gw-p2.example", 3002, "active", "partner"),
                  gw("gw-l1.example", 3003, "active", "local"),
                  gw("gw-l9.example", 3009, "cold_spare", "local", std::string{"gw-l1.example"})};
    p.facilities = {fac("p1", "gw-p1.example", "northtel", 2, std::string{"p2"}),
                    fac("p2", "gw-p2.example", "bluewave", 2, std::string{"p1"}),
                    fac("l1", "gw-l1.example", "northtel", 2)};
    persistence::trunk_group tp{"tg-p", "partner", "partner", {{"p1", 1}}};
    persistence::trunk_group tl{"tg-l", "local", "local", {{"l1", 1}}};
    p.trunk_groups = {tp, tl};
    p.routes = {{"1", "tg-p", 1}, {"1", "tg-l", 2}, {"7", "tg-l", 1}};
    return p;
  }

  virtual trunks::trunk_settings trunk_settings() {
    trunks::trunk_settings s;
    s.keepalive_interval = std::chrono::milliseconds{500};
    s.keepalive_misses = 2;
    s.mgcp_request_timeout = std::chrono::milliseconds{3000};
    return s;
  }

  void SetUp() override {
    prov = provisioning();
    offnet = trunks::make_offnet_router(prov);
    auto subs = provisioned();
    actors::dial_plan plan{subs, settings().on_net_prefixes, offnet};
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
    trunks::trunk_options opts;
    opts.settings = trunk_settings();
    trunks = trunks::make_trunk_control(ctx, offnet, prov, opts, registry);
    root = sys.spawn(actors::supervisor, std::string{"root"},
                     std::vector<actors::child_spec>{trunks.child}, actors::restart_intensity{},
                     &registry);
    sched.run();
  }

  void TearDown() override {
    // First the trunk tree: its keepalive timers would re-arm for ever otherwise.
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    sched.run();
    root = nullptr;
    trunks.shutdown();
    calls_fixture::TearDown();
  }

  // ---- the gateway side --------------------------------------------------------------------

  actors::mgcp_peer peer_of(const std::string& gateway) const {
    for (auto& g : prov.gateways)
      if (g.name == gateway)
        return {g.address, g.port};
    return {};
  }

  static std::string domain(const std::string& endpoint) {
    return endpoint.substr(endpoint.rfind('@') + 1);
  }

  /// NTFY from the gateway for one channel; returns its transaction id.
  std::uint32_t gw_ntfy(const std::string& endpoint, const std::string& observed) {
    mgcp::command cmd;
    cmd.kind = mgcp::verb::ntfy;
    cmd.transaction_id = next_tid++;
    cmd.endpoint = endpoint;
    cmd.params = {{"X", "0"}, {"O", observed}};
    auto h = ctx->directory.find(endpoint);
    EXPECT_TRUE(h) << endpoint;
    if (h)
      caf::anon_send(h, actors::inbound_command{peer_of(domain(endpoint)), cmd, true});
    sched.run();
    return cmd.transaction_id;
  }

  /// RSIP as the MGCP dispatch delivers it: a wildcard goes to every covered channel once.
  void gw_rsip(const std::string& endpoint, const std::string& method) {
    mgcp::command cmd;
    cmd.kind = mgcp::verb::rsip;
    cmd.transaction_id = next_tid++;
    cmd.endpoint = endpoint;
    cmd.params = {{"RM", method}};
    auto name = mgcp::parse_endpoint_name(endpoint);
    ASSERT_TRUE(name);
    auto peer = peer_of(domain(endpoint));
    if (name->wildcarded()) {
      for (auto& h : ctx->directory.covered_by(*name))
        caf::anon_send(h, actors::inbound_command{peer, cmd, false});
    } else if (auto h = ctx->directory.find(endpoint)) {
      caf::anon_send(h, actors::inbound_command{peer, cmd, true});
    }
    sched.run();
  }

  /// Commands the actors sent to endpoints of `gateway`.
  std::vector<mgcp::command> to_gateway(const std::string& gateway, mgcp::verb v) const {
    std::vector<mgcp::command> out;
    for (auto& c : wire.sent)
      if (c.kind == v && domain(c.endpoint) == gateway)
        out.push_back(c);
    return out;
  }

  boost::json::object facility_json(const std::string& id) {
    auto all = boost::json::parse(trunks::trunks_json(*trunks.context)).as_object();
    for (auto& f : all["facilities"].as_array())
      if (f.as_object().at("id").as_string() == id)
        return f.as_object();
    ADD_FAILURE() << "no facility " << id;
    return {};
  }

  boost::json::object gateway_json(const std::string& name) {
    auto all = boost::json::parse(trunks::trunks_json(*trunks.context)).as_object();
    for (auto& g : all["gateways"].as_array())
      if (g.as_object().at("name").as_string() == name)
        return g.as_object();
    ADD_FAILURE() << "no gateway " << name;
    return {};
  }

  std::int64_t channels(const std::string& facility, const std::string& state) {
    auto f = facility_json(facility);
    return f["channels"].as_object()[state].as_int64();
  }

  void primary_link(links::link_state s) {
    links::link_status st;
    st.link = "dl-primary";
    st.kind = "primary";
    st.state = s;
    caf::anon_send(trunks.context->router(), atom::link_changed_v, st);
    sched.run();
  }

  /// Last signaling_stop of a call (after flushing the outbox).
  std::optional<billing::billing_record> stop_record(const std::string& call_id) {
    flush_billing();
    for (auto& r : billing_for(call_id))
      if (r.event == "signaling_stop")
        return r;
    return std::nullopt;
  }
};

} // namespace cms::test
