#pragma once
// Test support for the replication tests: a real cmsd pair (pair_harness) provisioned from
// config/provisioning.toml, mtasim playing the provisioned MTAs with both call agents in its
// failover list, a client for mtasim's control port, and read access to each node's store.

#include "persistence/database.hpp"
#include "support/mtasim_control.hpp"
#include "support/pair_harness.hpp"

#include <arpa/inet.h>
#include <boost/json.hpp>

#include <regex>

namespace cms::test {

/// One request line, one response line over mtasim's control port.
inline std::string control(std::uint16_t port, const std::string& request) {
  return mtasim_request(port, request, 3);
}

inline boost::json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return ec ? boost::json::value{} : v;
}

class replication_pair : public pair_harness {
public:
  std::unique_ptr<child_process> sim;
  std::uint16_t sim_control = 0;

  replication_pair() {
    for (int i = 0; i < 2; ++i) {
      auto data = dir.path() / (names[i] + "-data");
      std::filesystem::create_directories(data);
      auto cmd = std::string{CMS_BINARY_DIR "/cmsd --provision "} + CMS_SOURCE_DIR +
                 "/config/provisioning.toml " + (data / "cms.db").string() + " >/dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0)
        throw std::runtime_error("cmsd --provision failed");
    }
  }

  std::filesystem::path db_file(int i) { return dir.path() / (names[i] + "-data") / "cms.db"; }

  /// mtasim with `mtas` MTAs of 2 lines on 127.0.0.101.. (as provisioned), both call agents.
  void start_sim(int mtas = 2) {
    auto out = dir.path() / "mtasim.out";
    sim = std::make_unique<child_process>(
      std::vector<std::string>{CMS_BINARY_DIR "/mtasim",
                               "--ca",
                               "127.0.0.1:" + std::to_string(ports[0].mgcp) +
                                 ",127.0.0.1:" + std::to_string(ports[1].mgcp),
                               "--mtas",
                               std::to_string(mtas),
                               "--lines",
                               "2",
                               "--mta-address-base",
                               "127.0.0.101",
                               "--base-port",
                               std::to_string(free_port(SOCK_DGRAM)),
                               "--control",
                               "0",
                               "--answer",
                               "auto",
                               "--answer-delay",
                               "200",
                               "--rto-max",
                               "1000",
                               "--max-retrans",
                               "3"},
      out);
    std::regex re{"mtasim: control [0-9.]+:([0-9]+)"};
    if (!eventually([&] {
          std::smatch m;
          auto text = sim->output();
          if (!std::regex_search(text, m, re) || text.find("mtasim: ready") == std::string::npos)
            return false;
          sim_control = static_cast<std::uint16_t>(std::stoi(m[1]));
          return true;
        }))
      throw std::runtime_error("mtasim did not start: " + sim->output());
  }

  std::string ctl(const std::string& request) { return control(sim_control, request); }
  boost::json::object line(int index) {
    auto v = parse_json(ctl("status " + std::to_string(index)));
    return v.is_object() ? v.as_object() : boost::json::object{};
  }
  boost::json::object report() {
    auto v = parse_json(ctl("report"));
    return v.is_object() ? v.as_object() : boost::json::object{};
  }
  std::int64_t dlcx_seen() {
    auto r = report();
    auto* s = r.if_contains("signalling");
    if (!s)
      return -1;
    auto* by = s->as_object().if_contains("commands_by_verb");
    if (!by)
      return 0;
    auto* d = by->as_object().if_contains("DLCX");
    return d ? d->to_number<std::int64_t>() : 0;
  }
  /// RTP packets received by every connection of a line (0 without connections).
  std::int64_t rtp_received(int index) {
    auto l = line(index);
    std::int64_t n = 0;
    if (auto* c = l.if_contains("connections"))
      for (auto& conn : c->as_array())
        n += conn.at("rtp").at("received").to_number<std::int64_t>();
    return n;
  }
  std::size_t connections(int index) {
    auto l = line(index);
    auto* c = l.if_contains("connections");
    return c ? c->as_array().size() : 0;
  }

  /// GET `path` on node i as a JSON listing ({"items": [...]}), empty when unreachable.
  boost::json::array items(int i, const std::string& path) {
    auto raw = http_get(ports[i].http, path);
    auto v = parse_json(http_body(raw));
    if (!v.is_object() || !v.as_object().if_contains("items"))
      return {};
    return v.as_object().at("items").as_array();
  }
  std::optional<boost::json::object> call(int i, const std::string& call_id) {
    for (auto& c : items(i, "/calls?limit=1000"))
      if (c.at("call_id") == call_id.c_str())
        return c.as_object();
    return std::nullopt;
  }
  /// Call ids listed on node i in `phase`.
  std::vector<std::string> calls_in(int i, const std::string& phase) {
    std::vector<std::string> out;
    for (auto& c : items(i, "/calls?limit=1000&state=" + phase))
      out.emplace_back(c.at("call_id").as_string().c_str());
    return out;
  }

  /// Places a call from line `from` to directory number `dn` and waits until it is connected on
  /// node `i`; returns its call id (empty on failure).
  std::string connect_call(int i, int from, const std::string& dn) {
    auto before = calls_in(i, "connected");
    if (ctl("offhook " + std::to_string(from)) != "ok")
      return {};
    if (!eventually([&] {
          auto l = line(from);
          auto* sig = l.if_contains("signals");
          if (!sig)
            return false;
          for (auto& s : sig->as_array())
            if (s.as_string().find("dl") != boost::json::string::npos)
              return true;
          return false;
        }))
      return {};
    if (ctl("dial " + std::to_string(from) + " " + dn) != "ok")
      return {};
    std::string id;
    eventually([&] {
      for (auto& c : calls_in(i, "connected"))
        if (std::find(before.begin(), before.end(), c) == before.end()) {
          id = c;
          return true;
        }
      return false;
    });
    return id;
  }

  std::uint64_t billing_count(int i, const std::string& call_id, const std::string& event) {
    auto db = persistence::database::open(db_file(i));
    auto q = db.prepare("SELECT count(*) FROM billing_outbox WHERE call_id = ? AND event = ?");
    q.bind_all(call_id, event);
    q.step();
    return static_cast<std::uint64_t>(q.column_int64(0));
  }
  std::optional<std::uint64_t> billing_sequence(int i, const std::string& record_id) {
    auto db = persistence::database::open(db_file(i));
    auto q = db.prepare("SELECT sequence FROM billing_outbox WHERE record_id = ?");
    q.bind(1, record_id);
    if (!q.step())
      return std::nullopt;
    return static_cast<std::uint64_t>(q.column_int64(0));
  }
  std::uint64_t stored_states(int i, const std::string& kind) {
    auto db = persistence::database::open(db_file(i));
    auto q = db.prepare("SELECT count(*) FROM actor_state WHERE kind = ?");
    q.bind(1, kind);
    q.step();
    return static_cast<std::uint64_t>(q.column_int64(0));
  }
  std::string logs() {
    return "--- A ---\n" + output(0) + "\n--- B ---\n" + output(1) + "\n--- mtasim ---\n" +
           (sim ? sim->output() : std::string{});
  }
};

} // namespace cms::test
