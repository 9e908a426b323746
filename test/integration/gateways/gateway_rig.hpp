#pragma once
// Off-net calling over the real interfaces, every piece a real process on loopback:
//   - `cmsd` with its own provisioning (4 trunking gateways: two partner, one local active, one
//     local cold spare for it; 3 facilities on two carriers; two data links),
//   - two `link-peer` probe responders standing for the far ends of the primary and backup data links,
//     probed over UDP by the node's real data-link actors,
//   - one `mtasim` playing an MTA (two lines) and the four trunking gateways (X-TR package,
//     docs/trunks.md), driven through its control port.
// Cutting the primary link = SIGSTOP of its responder: probes go out and are never answered.
// Shared by integration_gateways and the long flapping run (integration_gateways_long).

#include "support/mtasim_control.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace cms::test {

/// One request line to mtasim's control port, one response line back.
inline std::string control_request(std::uint16_t port, const std::string& line) {
  return mtasim_request(port, line, 5, "error connect");
}

inline boost::json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return ec ? boost::json::value{} : v;
}

class gateway_rig {
public:
  static constexpr const char* p1 = "gw-p1.example"; ///< partner, carrier northtel, facility p1
  static constexpr const char* p2 = "gw-p2.example"; ///< partner, carrier bluewave, facility p2
  static constexpr const char* l1 = "gw-l1.example"; ///< local, facility l1
  static constexpr const char* l9 = "gw-l9.example"; ///< local cold spare for gw-l1

  temp_dir dir;
  std::uint16_t mgcp_port = free_port(SOCK_DGRAM);
  std::uint16_t http_port = free_port();
  std::uint16_t mta_port = free_port(SOCK_DGRAM);
  std::vector<std::uint16_t> gateway_ports;
  std::uint16_t probe_primary = free_port(SOCK_DGRAM);
  std::uint16_t probe_backup = free_port(SOCK_DGRAM);
  std::uint16_t control_port = 0;
  int probe_interval_ms = 200; ///< [links] probe_interval_ms (3 misses: down within 4 intervals)
  std::unique_ptr<child_process> responder_primary, responder_backup, node, sim, scenario;

  /// `sim_args` are added to mtasim's command line (answer delays...). With `scenario_args`, the
  /// MTA runs that scenario in a second mtasim and the first plays only the gateways, so that they
  /// outlive the scenario and can be checked for leaks afterwards.
  void start(std::vector<std::string> sim_args = {}, std::vector<std::string> scenario_args = {}) {
    for (int i = 0; i < 4; ++i)
      gateway_ports.push_back(free_port(SOCK_DGRAM));
    write_provisioning();
    write_config();
    responder_primary = probe_responder(probe_primary, "probe-primary.out");
    responder_backup = probe_responder(probe_backup, "probe-backup.out");
    child_process prov{
      {CMS_BINARY_DIR "/cmsd", "--provision", path("prov.toml"), path("data/cms.db")},
      dir.path() / "provision.out"};
    ASSERT_EQ(prov.wait_exit(std::chrono::seconds{20}), 0) << prov.output();
    node = std::make_unique<child_process>(
      std::vector<std::string>{CMS_BINARY_DIR "/cmsd", "--config", path("node.toml")},
      dir.path() / "cmsd.out");
    ASSERT_TRUE(eventually([&] { return field("/status", "role") == "\"active\""; },
                           std::chrono::seconds{20}))
      << node->output();
    std::vector<std::string> mta{
      "--mtas",         "1",  "--lines", "2", "--base-port", std::to_string(mta_port),
      "--answer-delay", "100"};
    std::vector<std::string> args{CMS_BINARY_DIR "/mtasim",
                                  "--ca",
                                  "127.0.0.1:" + std::to_string(mgcp_port),
                                  "--control",
                                  "0",
                                  "--channels",
                                  "4",
                                  "--pstn-alert-delay",
                                  "50",
                                  "--pstn-answer-delay",
                                  "150",
                                  "--rto-max",
                                  "1000"};
    const char* names[] = {p1, p2, l1, l9};
    for (int i = 0; i < 4; ++i)
      args.push_back("--gateway"),
        args.push_back(std::string(names[i]) + "@127.0.0.1:" + std::to_string(gateway_ports[i]));
    args.insert(args.end(), sim_args.begin(), sim_args.end());
    if (scenario_args.empty())
      args.insert(args.end(), mta.begin(), mta.end());
    else
      args.insert(args.end(), {"--mtas", "0"});
    sim = std::make_unique<child_process>(args, dir.path() / "mtasim.out");
    ASSERT_TRUE(eventually([&] { return sim_output().find("mtasim: ready") != std::string::npos; }))
      << sim_output();
    std::smatch m;
    auto out = sim_output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex{"mtasim: control [0-9.]+:([0-9]+)"}));
    control_port = static_cast<std::uint16_t>(std::stoi(m[1]));
    // Everything in service: both links up, every gateway healthy, both lines registered idle.
    ASSERT_TRUE(eventually(
      [&] {
        auto t = get("/trunks");
        if (!t.is_object() || !t.as_object().at("primary_link_up").as_bool())
          return false;
        for (auto& g : t.as_object().at("gateways").as_array())
          if (!g.as_object().at("healthy").as_bool())
            return false;
        return !scenario_args.empty() || (line_idle(1) && line_idle(2));
      },
      std::chrono::seconds{20}))
      << boost::json::serialize(get("/trunks")) << "\n"
      << node->output();
    if (!scenario_args.empty()) {
      std::vector<std::string> s{CMS_BINARY_DIR "/mtasim", "--ca",
                                 "127.0.0.1:" + std::to_string(mgcp_port)};
      s.insert(s.end(), mta.begin(), mta.end());
      s.insert(s.end(), scenario_args.begin(), scenario_args.end());
      scenario = std::make_unique<child_process>(s, dir.path() / "scenario.out");
    }
  }

  ~gateway_rig() {
    if (responder_primary)
      responder_primary->signal(SIGCONT);
  }

  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
  std::string sim_output() const { return sim ? sim->output() : std::string{}; }

  // ---- the node's HTTP API ----
  boost::json::value get(const std::string& p) const {
    auto raw = http_get(http_port, p);
    return http_status(raw) == 200 ? parse_json(http_body(raw)) : boost::json::value{};
  }
  std::string field(const std::string& p, const std::string& name) const {
    auto v = get(p);
    auto* f = v.is_object() ? v.as_object().if_contains(name) : nullptr;
    return f ? boost::json::serialize(*f) : std::string{};
  }
  boost::json::object facility(const std::string& id) const {
    auto t = get("/trunks");
    if (t.is_object())
      for (auto& f : t.as_object().at("items").as_array())
        if (f.as_object().at("id").as_string() == id)
          return f.as_object();
    return {};
  }
  std::string carried_by(const std::string& id) const {
    auto f = facility(id);
    auto* g = f.if_contains("gateway");
    return g && g->is_string() ? std::string(g->as_string()) : std::string{};
  }
  std::int64_t channels(const std::string& id, const std::string& state) const {
    auto f = facility(id);
    auto* c = f.if_contains("channels_by_state");
    return c && c->is_object() ? c->as_object().at(state).as_int64() : -1;
  }
  std::string link_state(const std::string& name) const {
    auto l = get("/links");
    if (l.is_object())
      for (auto& i : l.as_object().at("items").as_array())
        if (i.as_object().at("name").as_string() == name)
          return std::string(i.as_object().at("state").as_string());
    return {};
  }
  bool primary_up() const { return field("/trunks", "primary_link_up") == "true"; }
  std::size_t calls_listed() const {
    auto c = get("/calls");
    return c.is_object() ? c.as_object().at("items").as_array().size() : 999;
  }
  double metric(const std::string& line_prefix) const {
    auto body = http_body(http_get(http_port, "/metrics"));
    std::istringstream in{body};
    std::string l;
    double sum = 0;
    while (std::getline(in, l))
      if (l.rfind(line_prefix, 0) == 0)
        sum += std::stod(l.substr(l.rfind(' ') + 1));
    return sum;
  }

  // ---- mtasim ----
  std::string control(const std::string& line) const { return control_request(control_port, line); }
  boost::json::object gateway(const std::string& name) const {
    auto v = parse_json(control("gw-status " + name));
    return v.is_object() ? v.as_object() : boost::json::object{};
  }
  /// PSTN calls (or connections) the simulated gateway has now.
  std::size_t gateway_calls(const std::string& name) const {
    auto g = gateway(name);
    auto* c = g.if_contains("calls");
    return c ? c->as_array().size() : 999;
  }
  /// Outgoing PSTN calls answered on that gateway right now.
  std::size_t answered_on(const std::string& name) const {
    std::size_t n = 0;
    auto g = gateway(name);
    if (auto* c = g.if_contains("calls"))
      for (auto& call : c->as_array())
        if (call.as_object().at("answered").as_bool() && call.as_object().at("pstn").as_bool())
          ++n;
    return n;
  }
  boost::json::object line(int index) const {
    auto v = parse_json(control("status " + std::to_string(index)));
    return v.is_object() ? v.as_object() : boost::json::object{};
  }
  bool line_idle(int index) const {
    auto l = line(index);
    return !l.empty() && l.at("registered").as_bool() && l.at("hook").as_string() == "on" &&
           l.at("connections").as_array().empty() && !l.at("requested_events").as_array().empty();
  }
  bool signal_on(int index, const std::string& signal) const {
    auto l = line(index);
    if (auto* s = l.if_contains("signals"))
      for (auto& v : s->as_array())
        if (v.as_string() == signal)
          return true;
    return false;
  }
  /// Talking: a sendrecv connection with a remote address and no ringback.
  bool line_talking(int index) const {
    auto l = line(index);
    if (l.empty())
      return false;
    for (auto& s : l.at("signals").as_array())
      if (s.as_string() == "L/rt")
        return false;
    for (auto& c : l.at("connections").as_array())
      if (c.as_object().at("mode").as_string() == "sendrecv" &&
          !c.as_object().at("remote").is_null())
        return true;
    return false;
  }
  /// Off-hook, dial, wait until the line talks.
  ::testing::AssertionResult call(int index, const std::string& number) const {
    if (control("offhook " + std::to_string(index)) != "ok")
      return ::testing::AssertionFailure() << "offhook refused";
    if (!eventually([&] { return signal_on(index, "L/dl"); }))
      return ::testing::AssertionFailure() << "no dial tone";
    control("dial " + std::to_string(index) + " " + number);
    if (!eventually([&] { return line_talking(index); }))
      return ::testing::AssertionFailure()
             << "not connected: " << boost::json::serialize(line(index));
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult hang_up(int index) const {
    control("onhook " + std::to_string(index));
    if (!eventually([&] { return line_idle(index); }))
      return ::testing::AssertionFailure() << "line " << index << " not idle again";
    return ::testing::AssertionSuccess();
  }
  /// Nothing leaked anywhere: no call listed, every channel of every facility idle (or out of
  /// service), every simulated gateway channel idle, both lines idle.
  ::testing::AssertionResult all_idle() const {
    bool ok = eventually(
      [&] {
        if (calls_listed() != 0 || !line_idle(1) || !line_idle(2))
          return false;
        for (auto id : {"p1", "p2", "l1"})
          if (channels(id, "seized") != 0 || channels(id, "in_call") != 0)
            return false;
        for (auto g : {p1, p2, l1, l9})
          if (gateway_calls(g) != 0)
            return false;
        return true;
      },
      std::chrono::seconds{15});
    if (ok)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "leak: calls " << calls_listed() << "\ntrunks "
           << boost::json::serialize(get("/trunks")) << "\ngateways " << control("gateways")
           << "\nline1 " << boost::json::serialize(line(1)) << "\nline2 "
           << boost::json::serialize(line(2));
  }

  /// The primary data link loses every probe from now on (the responder stops reading).
  void cut_primary() { responder_primary->signal(SIGSTOP); }
  void restore_primary() { responder_primary->signal(SIGCONT); }

private:
  std::unique_ptr<child_process> probe_responder(std::uint16_t port, const std::string& out) {
    return std::make_unique<child_process>(
      std::vector<std::string>{CMS_BINARY_DIR "/link-peer", "--listen",
                               "127.0.0.1:" + std::to_string(port)},
      dir.path() / out);
  }

  void write_provisioning() {
    std::filesystem::create_directories(dir.path() / "data");
    std::ofstream o{dir.path() / "prov.toml"};
    o << "[[carrier]]\nid = \"northtel\"\nname = \"NorthTel\"\n"
      << "[[carrier]]\nid = \"bluewave\"\nname = \"BlueWave\"\n";
    struct gw {
      const char* name;
      const char* role;
      const char* segment;
    } gws[] = {{p1, "active", "partner"},
               {p2, "active", "partner"},
               {l1, "active", "local"},
               {l9, "cold_spare", "local"}};
    for (int i = 0; i < 4; ++i) {
      o << "[[gateway]]\nname = \"" << gws[i].name
        << "\"\naddress = \"127.0.0.1\"\nport = " << gateway_ports[i] << "\nrole = \""
        << gws[i].role << "\"\nsegment = \"" << gws[i].segment << "\"\n";
      if (std::string(gws[i].role) == "cold_spare")
        o << "spare_for = \"" << l1 << "\"\n";
    }
    auto fac = [&](const char* id, const char* g, const char* carrier, const char* backup) {
      o << "[[facility]]\nid = \"" << id << "\"\ngateway = \"" << g << "\"\nkind = \"pri\"\n"
        << "carrier = \"" << carrier << "\"\nspan = 1\nchannels = 4\n";
      if (backup)
        o << "backup_facility = \"" << backup << "\"\n";
    };
    fac("p1", p1, "northtel", "p2");
    fac("p2", p2, "bluewave", "p1");
    fac("l1", l1, "northtel", nullptr);
    o << "[[trunk_group]]\nid = \"tg-p\"\nname = \"partner\"\nsegment = \"partner\"\n"
      << "members = [ { facility = \"p1\", priority = 1 } ]\n"
      << "[[trunk_group]]\nid = \"tg-l\"\nname = \"local\"\nsegment = \"local\"\n"
      << "members = [ { facility = \"l1\", priority = 1 } ]\n"
      << "[[route]]\nprefix = \"1\"\ntrunk_group = \"tg-p\"\npriority = 1\n"
      << "[[route]]\nprefix = \"\"\ntrunk_group = \"tg-l\"\npriority = 1\n";
    o << "[[data_link]]\nname = \"dl-primary\"\nkind = \"primary\"\nlocal_address = \"127.0.0.1\"\n"
      << "remote_address = \"127.0.0.1\"\nremote_port = " << probe_primary << "\n"
      << "[[data_link]]\nname = \"dl-backup\"\nkind = \"backup\"\nlocal_address = \"127.0.0.1\"\n"
      << "remote_address = \"127.0.0.1\"\nremote_port = " << probe_backup << "\n";
    for (int i = 1; i <= 2; ++i)
      o << "[[subscriber]]\ndirectory_number = \"555100" << i << "\"\nendpoint_name = \"aaln/" << i
        << "@mta-0001.cable.example\"\nmta_fqdn = \"mta-0001.cable.example\"\n"
        << "mta_address = \"127.0.0.1\"\nmta_port = " << mta_port << "\nstatus = \"active\"\n";
  }

  void write_config() {
    std::ofstream o{dir.path() / "node.toml"};
    o << "[node]\nid = \"it-gateways\"\ndata_dir = \"data\"\n"
      << "[mgcp]\nbind = \"127.0.0.1\"\nport = " << mgcp_port << "\n"
      << "[http]\nbind = \"127.0.0.1\"\nport = " << http_port << "\n"
      << "[peer]\naddress = \"127.0.0.2\"\nlisten_port = " << free_port()
      << "\nudp_heartbeat_port = " << free_port(SOCK_DGRAM) << "\nheartbeat_interval_ms = 100\n"
      << "[log]\nlevel = \"info\"\n"
      // 200 ms x 3 by default: a dead link is down within 800 ms (the shipped configs' values).
      << "[links]\nprobe_interval_ms = " << probe_interval_ms << "\nprobe_misses = 3\n";
  }
};

/// The primary data link is cut and restored every second for `length` while mtasim places
/// off-net calls from both lines (up to 4/s, held 0.3 s); then nothing may have leaked on either side.
inline void run_flapping(std::chrono::seconds length) {
  using namespace std::chrono_literals;
  gateway_rig rig;
  // 100 ms probes: a cut is seen within 400 ms, so each 1 s cut leaves the local segment preferred
  // for about half of it and calls really alternate between the segments.
  rig.probe_interval_ms = 100;
  // Off-net calls from both lines, 2 per second, each held 1 s, answered by the PSTN at once.
  auto seconds = std::to_string(length.count());
  ASSERT_NO_FATAL_FAILURE(
    rig.start({}, {"--scenario", "offnet", "--called", "12125550100", "--rate", "4", "--hold",
                   "0.3", "--duration", seconds, "--register-timeout", "10", "--json"}));
  auto flaps = 0;
  auto end = std::chrono::steady_clock::now() + length;
  bool cut = false;
  while (std::chrono::steady_clock::now() < end) {
    cut = !cut;
    cut ? rig.cut_primary() : rig.restore_primary();
    flaps += cut;
    std::this_thread::sleep_for(1s);
  }
  rig.restore_primary();
  ASSERT_TRUE(rig.scenario->wait_exit(60s).has_value()) << "mtasim scenario did not finish";
  auto out = rig.scenario->output();
  auto brace = out.rfind("\n{");
  ASSERT_NE(brace, std::string::npos) << out;
  auto report = parse_json(out.substr(brace + 1));
  ASSERT_TRUE(report.is_object()) << out;
  auto& calls = report.as_object().at("calls").as_object();
  auto attempts = calls.at("attempts").as_int64();
  auto completed = calls.at("completed").as_int64();
  std::cout << "flapping " << length.count() << " s: " << flaps << " cuts, " << attempts
            << " calls, " << completed << " completed, "
            << rig.metric("cms_data_link_transitions_total{link=\"dl-primary\"")
            << " link transitions, " << rig.metric("cms_trunk_segment_changes_total")
            << " segment changes\n";
  EXPECT_GE(attempts, length.count()) << out;
  EXPECT_EQ(completed, attempts) << out;
  EXPECT_EQ(calls.at("release_timeouts").as_int64(), 0) << out;
  // Routing followed the link: to local and back on (nearly) every cut. Which segment each call
  // took depends on timing (a cut is seen after 300-400 ms, a return at the first answer).
  EXPECT_GE(rig.metric("cms_trunk_segment_changes_total"), flaps);
  auto partner = rig.facility("p1").at("seizures").as_int64();
  auto local = rig.facility("l1").at("seizures").as_int64();
  // Informational: how many calls hit a local window depends on the machine's timing; the local
  // choice itself is checked deterministically by primary_link_cut_sends_the_next_call_to_...
  std::cout << "seizures: partner " << partner << ", local " << local << "\n";
  EXPECT_EQ(partner + local, attempts);
  EXPECT_GE(rig.metric("cms_data_link_transitions_total{link=\"dl-primary\",to=\"down\""),
            flaps / 2);
  ASSERT_TRUE(eventually([&] { return rig.primary_up(); }, 10s));
  ASSERT_TRUE(eventually(
    [&] {
      if (rig.calls_listed() != 0)
        return false;
      for (auto id : {"p1", "p2", "l1"})
        if (rig.channels(id, "seized") != 0 || rig.channels(id, "in_call") != 0)
          return false;
      for (auto g : {gateway_rig::p1, gateway_rig::p2, gateway_rig::l1, gateway_rig::l9})
        if (rig.gateway_calls(g) != 0)
          return false;
      return true;
    },
    15s))
    << boost::json::serialize(rig.get("/trunks")) << "\ncalls "
    << boost::json::serialize(rig.get("/calls")) << "\ngateways " << rig.control("gateways");
  // Every call seized a channel on a simulated gateway and was released by the call agent.
  auto sim_report = parse_json(rig.control("report"));
  auto& trunks = sim_report.as_object().at("trunks").as_object();
  EXPECT_EQ(trunks.at("seizures").as_int64(), attempts) << rig.control("report");
  EXPECT_EQ(trunks.at("released_by_ca").as_int64(), attempts) << rig.control("report");
}

} // namespace cms::test
