// The gate controller session against the real cmtssim process over loopback TCP.

#include "cops_rig.hpp"

#include <csignal>

namespace cms::cops::test {
namespace {

constexpr std::uint32_t mta = 0x7f000001; // 127.0.0.1: the policing test sends from loopback

TEST(CopsSession, HandshakeThenGateSetAckCarriesTheGateTheCmtsKeeps) {
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path()};
  running_session s{fast_config(sim.cops_port())};
  s.start_and_wait_ready();
  EXPECT_TRUE(s.session().ready());

  auto out = s.send(gate_set_for(mta, 0, 7));
  ASSERT_EQ(out.status, command_status::ack) << to_string(out.status) << "\n" << s.log_text();
  EXPECT_EQ(out.answer.command, gate_command_type::set_ack);
  EXPECT_EQ(out.answer.transaction_id, out.transaction_id);
  ASSERT_TRUE(out.answer.gate_id.has_value());
  EXPECT_NE(*out.answer.gate_id, 0u);
  EXPECT_EQ(out.answer.activity_count, 1u);

  auto gates = sim.gates();
  ASSERT_EQ(gates.size(), 1u);
  const auto& g = gates[0].as_object();
  EXPECT_EQ(num(g.at("gate_id")), *out.answer.gate_id);
  EXPECT_EQ(g.at("subscriber").as_string(), "127.0.0.1");
  EXPECT_EQ(g.at("state").as_string(), "authorized");
  EXPECT_EQ(g.at("specs").as_array().size(), 2u);
  EXPECT_EQ(g.at("specs").as_array()[1].as_object().at("direction").as_string(), "upstream");
  EXPECT_EQ(g.at("event_generation").as_object().at("bcid").as_string(),
            "070707070707070707070707070707070707070707070707");
  EXPECT_EQ(g.at("event_generation").as_object().at("primary_rks").as_string(), "127.0.0.1:1813");

  // A second gate for the same subscriber: activity count 2, a different Gate ID.
  auto second = s.send(gate_set_for(mta));
  ASSERT_EQ(second.status, command_status::ack);
  EXPECT_EQ(second.answer.activity_count, 2u);
  EXPECT_NE(second.answer.gate_id, out.answer.gate_id);
  EXPECT_NE(second.transaction_id, out.transaction_id);

  // Gate-Info returns what was set.
  auto info = s.send(simple(gate_command_type::gate_info, *out.answer.gate_id, mta));
  ASSERT_EQ(info.status, command_status::ack);
  EXPECT_EQ(info.answer.command, gate_command_type::info_ack);
  ASSERT_EQ(info.answer.gate_specs.size(), 2u);
  EXPECT_EQ(info.answer.gate_specs[1], gate_set_for(mta, 0, 7).gate_specs[1]);
  ASSERT_TRUE(info.answer.event_generation.has_value());
  EXPECT_EQ(info.answer.event_generation->bcid, gate_set_for(mta, 0, 7).event_generation->bcid);

  const auto c = s.session().counters();
  EXPECT_EQ(c.commands, 3u);
  EXPECT_EQ(c.acks, 3u);
  EXPECT_EQ(c.malformed, 0u);
  EXPECT_EQ(c.connects, 1u);
}

TEST(CopsSession, SetErrOnCommandThenRecovery) {
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path()};
  running_session s{fast_config(sim.cops_port())};
  s.start_and_wait_ready();
  ASSERT_TRUE(sim.control({{"cmd", "fail_sets"}, {"count", 2}, {"code", 4}, {"subcode", 9}})
                .at("ok")
                .as_bool());
  for (int i = 0; i < 2; ++i) {
    auto out = s.send(gate_set_for(mta));
    ASSERT_EQ(out.status, command_status::err) << to_string(out.status);
    EXPECT_EQ(out.answer.command, gate_command_type::set_err);
    ASSERT_TRUE(out.answer.error.has_value());
    EXPECT_EQ(out.answer.error->code, 4);
    EXPECT_EQ(out.answer.error->subcode, 9);
  }
  auto ok = s.send(gate_set_for(mta));
  EXPECT_EQ(ok.status, command_status::ack);
  // A Gate-Set naming a Gate ID the CMTS never issued: Unknown Gate ID.
  auto modify = gate_set_for(mta);
  modify.gate_id = 0x12345678;
  auto unknown = s.send(modify);
  ASSERT_EQ(unknown.status, command_status::err);
  EXPECT_EQ(unknown.answer.error->code, static_cast<std::uint16_t>(pc_error::unknown_gate_id));
  EXPECT_EQ(s.session().counters().errs, 3u);
  EXPECT_EQ(s.session().counters().acks, 1u);
}

TEST(CopsSession, GateDeleteAndItsErrors) {
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path()};
  running_session s{fast_config(sim.cops_port())};
  s.start_and_wait_ready();
  auto set = s.send(gate_set_for(mta));
  ASSERT_EQ(set.status, command_status::ack);
  const auto id = *set.answer.gate_id;
  auto del = s.send(simple(gate_command_type::gate_delete, id, mta));
  ASSERT_EQ(del.status, command_status::ack);
  EXPECT_EQ(del.answer.command, gate_command_type::delete_ack);
  EXPECT_EQ(del.answer.gate_id, id);
  EXPECT_TRUE(sim.gates().empty());
  auto again = s.send(simple(gate_command_type::gate_delete, id, mta));
  ASSERT_EQ(again.status, command_status::err);
  EXPECT_EQ(again.answer.command, gate_command_type::delete_err);
  EXPECT_EQ(again.answer.error->code, static_cast<std::uint16_t>(pc_error::unknown_gate_id));
  auto info = s.send(simple(gate_command_type::gate_info, id, mta));
  EXPECT_EQ(info.status, command_status::err);
  EXPECT_EQ(info.answer.command, gate_command_type::info_err);
}

TEST(CopsSession, UnsolicitedGateCloseIsDelivered) {
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path()};
  running_session s{fast_config(sim.cops_port())};
  s.start_and_wait_ready();
  auto set = s.send(gate_set_for(mta));
  ASSERT_EQ(set.status, command_status::ack);
  const auto id = *set.answer.gate_id;
  auto r = sim.control({{"cmd", "close_gate"}, {"gate_id", id}, {"subcode", 7}});
  ASSERT_TRUE(r.at("ok").as_bool());
  EXPECT_EQ(num(r.at("sent")), 1u);
  ASSERT_TRUE(s.events().wait([](auto& e) { return !e.gate_events.empty(); })) << s.log_text();
  std::lock_guard lock{s.events().mutex};
  const auto& ev = s.events().gate_events[0];
  EXPECT_EQ(ev.command, gate_command_type::gate_close);
  EXPECT_EQ(ev.gate_id, id);
  ASSERT_TRUE(ev.reason.has_value());
  EXPECT_EQ(ev.reason->code, 1);
  EXPECT_EQ(ev.reason->subcode, 7);
  EXPECT_EQ(s.session().counters().gate_events, 1u);
}

TEST(CopsSession, DroppedConnectionComesBackAndTheAuditHookSeesTheGates) {
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path()};
  // The owner's audit: on every (re)connect, Gate-Info for each gate it believes in.
  std::mutex mutex;
  std::vector<std::uint32_t> known;
  std::vector<command_status> audit_results;
  session_handlers extra;
  running_session* rs = nullptr;
  extra.connected = [&] {
    std::vector<std::uint32_t> ids;
    {
      std::lock_guard lock{mutex};
      ids = known;
    }
    for (auto id : ids)
      rs->session().send(simple(gate_command_type::gate_info, id, mta),
                         [&](const command_outcome& o) {
                           std::lock_guard lock{mutex};
                           audit_results.push_back(o.status);
                         });
  };
  running_session s{fast_config(sim.cops_port()), extra};
  rs = &s;
  s.start_and_wait_ready();
  auto set = s.send(gate_set_for(mta));
  ASSERT_EQ(set.status, command_status::ack);
  {
    std::lock_guard lock{mutex};
    known.push_back(*set.answer.gate_id);
  }
  EXPECT_EQ(num(sim.control({{"cmd", "drop"}}).at("dropped")), 1u);
  ASSERT_TRUE(s.events().wait([](auto& e) { return e.connected >= 2 && !e.lost.empty(); }))
    << s.log_text();
  ASSERT_TRUE(cms::test::eventually([&] {
    std::lock_guard lock{mutex};
    return !audit_results.empty();
  }));
  {
    std::lock_guard lock{mutex};
    EXPECT_EQ(audit_results[0], command_status::ack); // the CMTS kept the gate across the drop
  }
  const auto c = s.session().counters();
  EXPECT_EQ(c.losses, 1u);
  EXPECT_GE(c.reconnects, 1u);
  EXPECT_EQ(c.connects, 2u);
  // Commands work on the new connection.
  EXPECT_EQ(s.send(gate_set_for(mta)).status, command_status::ack);
  EXPECT_GE(num(sim.counters().at("cops").as_object().at("connections")), 2u);
}

TEST(CopsSession, KeepAlivesAreEchoedAndASilentCmtsIsDeclaredDead) {
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path()};
  running_session s{fast_config(sim.cops_port())}; // KA timer 1 s: cmtssim sends every 500 ms
  s.start_and_wait_ready();
  ASSERT_TRUE(cms::test::eventually([&] { return s.session().counters().keepalives >= 3; }, 5s));
  ASSERT_TRUE(cms::test::eventually(
    [&] { return num(sim.counters().at("cops").as_object().at("keepalives_received")) >= 3; }, 5s))
    << "cmtssim did not get our KA echoes";

  // Frozen: no KAs and no answers. A command times out, and after 3 silent KA periods (3 s) the
  // session gives up on the connection.
  sim.control({{"cmd", "freeze"}, {"on", true}});
  const auto frozen_at = std::chrono::steady_clock::now();
  auto out = s.send(gate_set_for(mta));
  EXPECT_EQ(out.status, command_status::timeout);
  EXPECT_EQ(s.session().counters().timeouts, 1u);
  ASSERT_TRUE(s.events().wait([](auto& e) { return !e.lost.empty(); }, 8s)) << s.log_text();
  const auto silent_for = std::chrono::steady_clock::now() - frozen_at;
  EXPECT_GE(silent_for, 2500ms); // about 3 x 1 s after the last KA
  EXPECT_LE(silent_for, 6000ms); // not, say, 10 periods; slack for a loaded machine
  {
    std::lock_guard lock{s.events().mutex};
    EXPECT_NE(s.events().lost[0].find("silent"), std::string::npos) << s.events().lost[0];
  }
  // The new connections' KAs are frozen too; thawing lets the session settle again.
  sim.control({{"cmd", "freeze"}, {"on", false}});
  ASSERT_TRUE(s.events().wait([](auto& e) { return e.connected >= 2; }, 10s)) << s.log_text();
  EXPECT_EQ(s.send(gate_set_for(mta)).status, command_status::ack);
}

TEST(CopsSession, AnotherClientTypeIsRefusedWithClientClose) {
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path(), {"--client-type", "0x800a"}};
  running_session s{fast_config(sim.cops_port())};
  s.session().start();
  ASSERT_TRUE(cms::test::eventually(
    [&] { return num(sim.counters().at("cops").as_object().at("client_closes")) >= 2; }, 10s))
    << s.log_text();
  EXPECT_FALSE(s.session().ready());
  EXPECT_GE(s.session().counters().reconnects, 1u); // it keeps trying, with backoff
  EXPECT_EQ(s.session().counters().connects, 0u);
  std::lock_guard lock{s.events().mutex};
  EXPECT_EQ(s.events().connected, 0);
}

TEST(CopsSession, CommandsWithoutAReadyConnectionFailFast) {
  running_session s{fast_config(cms::test::free_port())}; // nobody listens there
  auto out = s.send(gate_set_for(mta), 2s);
  EXPECT_EQ(out.status, command_status::not_ready);
  s.session().start();
  out = s.send(gate_set_for(mta), 2s);
  EXPECT_EQ(out.status, command_status::not_ready);
  ASSERT_TRUE(cms::test::eventually([&] { return s.session().counters().reconnects >= 2; }, 5s));
  // Not a request: refused even when ready would be irrelevant.
  gate_command bogus;
  bogus.command = gate_command_type::set_ack;
  EXPECT_EQ(s.send(bogus, 2s).status, command_status::not_ready);
}

TEST(CopsSession, UpstreamPolicingCommitsTheGateAndCountsPolicedMedia) {
  cms::test::temp_dir dir;
  cmtssim_process sim{dir.path(), {}, true};
  running_session s{fast_config(sim.cops_port())};
  s.start_and_wait_ready();
  // The "MTA": a UDP socket on loopback whose port the upstream Gate Spec names.
  const std::uint16_t rtp_port = cms::test::free_port(SOCK_DGRAM);
  auto udp_from = [](std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("bind");
    return fd;
  };
  auto send_to_cmts = [&](int fd, std::size_t size) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(sim.police_port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string payload(size, 'x');
    ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  };
  const int mta_fd = udp_from(rtp_port);
  const int rogue_fd = udp_from(cms::test::free_port(SOCK_DGRAM));

  // Before any gate: policed.
  send_to_cmts(mta_fd, 172);
  ASSERT_TRUE(cms::test::eventually(
    [&] { return num(sim.counters().at("gates").as_object().at("policed_packets")) == 1; }, 3s));

  auto set = s.send(gate_set_for(mta, rtp_port));
  ASSERT_EQ(set.status, command_status::ack);
  send_to_cmts(mta_fd, 172);   // within M = 200 and the 200-byte bucket: forwarded, commits
  send_to_cmts(mta_fd, 400);   // larger than M: policed
  send_to_cmts(rogue_fd, 172); // no gate for that source port: policed
  ASSERT_TRUE(s.events().wait([](auto& e) { return !e.gate_events.empty(); }, 5s)) << s.log_text();
  {
    std::lock_guard lock{s.events().mutex};
    EXPECT_EQ(s.events().gate_events[0].command, gate_command_type::gate_open);
    EXPECT_EQ(s.events().gate_events[0].gate_id, set.answer.gate_id);
  }
  ASSERT_TRUE(cms::test::eventually(
    [&] {
      auto g = sim.counters().at("gates").as_object();
      return num(g.at("forwarded_packets")) == 1 && num(g.at("policed_packets")) == 3;
    },
    3s))
    << boost::json::serialize(sim.counters());
  auto gates = sim.gates();
  ASSERT_EQ(gates.size(), 1u);
  EXPECT_EQ(gates[0].as_object().at("state").as_string(), "committed");
  EXPECT_EQ(num(gates[0].as_object().at("policed_packets")), 1u);
  ::close(mta_fd);
  ::close(rogue_fd);
}

TEST(CopsSession, CmtssimReportsLeakedGatesAtExit) {
  cms::test::temp_dir dir;
  const auto report_file = dir.path() / "report.json";
  cmtssim_process sim{dir.path(), {"--report", report_file.string()}};
  {
    running_session s{fast_config(sim.cops_port())};
    s.start_and_wait_ready();
    auto a = s.send(gate_set_for(mta));
    auto b = s.send(gate_set_for(mta));
    ASSERT_EQ(a.status, command_status::ack);
    ASSERT_EQ(b.status, command_status::ack);
    ASSERT_EQ(s.send(simple(gate_command_type::gate_delete, *a.answer.gate_id, mta)).status,
              command_status::ack);
  }
  sim.process().signal(SIGTERM);
  ASSERT_EQ(sim.process().wait_exit(10s), 0) << sim.process().output();
  std::ifstream in{report_file};
  std::stringstream text;
  text << in.rdbuf();
  auto report = boost::json::parse(text.str()).as_object();
  EXPECT_EQ(num(report.at("gates_set")), 2u);
  EXPECT_EQ(num(report.at("gates_deleted")), 1u);
  EXPECT_EQ(num(report.at("leaked")), 1u);
  EXPECT_EQ(report.at("leaked_gates").as_array().size(), 1u);
}

} // namespace
} // namespace cms::cops::test
