#pragma once
// One real cmsd (standalone: its peer never answers, so it goes active alone) with a provisioned
// store, plus mtasim with a few lines driven through its control port, for the fault tests: the
// fault is applied from outside (a full file system under the data directory, a second process
// holding the SQLite lock, a wall clock moved under the node, a flood of bad datagrams) and the
// node is judged by what a subscriber and an operator see: calls, /status, /billing, and the
// SQLite file opened after the node stopped.

#include "support/mtasim_control.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <sqlite3.h>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace cms::test::faults {

using namespace std::chrono_literals;

constexpr int mtas = 2;
constexpr int lines_per_mta = 2;
constexpr int lines = mtas * lines_per_mta;
constexpr std::uint64_t dn_base = 5551001;

inline boost::json::object get_json(std::uint16_t port, const std::string& path) {
  boost::system::error_code ec;
  auto v = boost::json::parse(http_body(http_get(port, path)), ec);
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

/// A value of /status "counters" whose key starts with `prefix` and contains every string of
/// `parts` (labels), summed over matching keys; -1 when none matches.
inline double status_counter(std::uint16_t port, const std::string& prefix,
                             const std::vector<std::string>& parts = {}) {
  auto o = get_json(port, "/status");
  auto* c = o.if_contains("counters");
  if (!c || !c->is_object())
    return -1;
  double sum = 0;
  bool found = false;
  for (auto& [key, value] : c->as_object()) {
    std::string k{key};
    if (k.rfind(prefix, 0) != 0)
      continue;
    if (k.size() > prefix.size() && k[prefix.size()] != '{')
      continue; // another metric whose name merely starts the same
    bool all = true;
    for (auto& p : parts)
      all = all && k.find(p) != std::string::npos;
    if (!all)
      continue;
    found = true;
    sum += value.to_number<double>();
  }
  return found ? sum : -1;
}

inline bool has_signal(const boost::json::object& line, const std::string& name) {
  if (auto* s = line.if_contains("signals"))
    for (auto& sig : s->as_array())
      if (std::string{sig.as_string().c_str()}.find(name) != std::string::npos)
        return true;
  return false;
}

/// The billing rows of an outbox, read with plain SQLite (read-only) after the node stopped.
struct billing_row {
  std::uint64_t sequence = 0;
  std::string record_id;
  std::string event;
  std::string call_id;
  std::int64_t timestamp_ms = 0;
  std::int64_t time_adjustment_ms = 0;
};

struct store_check {
  std::string integrity; ///< PRAGMA integrity_check: "ok"
  std::vector<billing_row> billing;
  std::int64_t subscribers = -1;
  std::string error;
};

inline store_check read_store(const std::filesystem::path& file) {
  store_check out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    out.error = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return out;
  }
  auto each = [&](const char* sql, auto on_row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
      out.error += std::string(sqlite3_errmsg(db)) + "; ";
      return;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
      on_row(st);
    sqlite3_finalize(st);
  };
  auto text = [](sqlite3_stmt* st, int i) {
    auto* p = sqlite3_column_text(st, i);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string{};
  };
  each("PRAGMA integrity_check", [&](sqlite3_stmt* st) { out.integrity += text(st, 0); });
  each("SELECT sequence, record_id, event, call_id, timestamp_ms, time_adjustment_ms FROM "
       "billing_outbox ORDER BY sequence",
       [&](sqlite3_stmt* st) {
         out.billing.push_back({static_cast<std::uint64_t>(sqlite3_column_int64(st, 0)),
                                text(st, 1), text(st, 2), text(st, 3), sqlite3_column_int64(st, 4),
                                sqlite3_column_int64(st, 5)});
       });
  each("SELECT count(*) FROM subscribers",
       [&](sqlite3_stmt* st) { out.subscribers = sqlite3_column_int64(st, 0); });
  sqlite3_close(db);
  return out;
}

/// Every call billed completely: three events per call id, sequences 1..N without a gap.
inline std::string billing_problems(const std::vector<billing_row>& rows) {
  std::string problems;
  std::map<std::string, std::set<std::string>> events;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].sequence != i + 1)
      problems += "sequence " + std::to_string(rows[i].sequence) + " at position " +
                  std::to_string(i + 1) + "; ";
    events[rows[i].call_id].insert(rows[i].event);
  }
  for (auto& [call, ev] : events)
    if (ev != std::set<std::string>{"signaling_start", "call_answer", "signaling_stop"})
      problems += "call " + call + " has " + std::to_string(ev.size()) + " events; ";
  return problems;
}

class fault_rig {
public:
  temp_dir dir;
  std::filesystem::path data_dir = dir.path() / "data";
  std::uint16_t http_port = free_port();
  std::uint16_t mgcp_port = free_port(SOCK_DGRAM);
  std::unique_ptr<child_process> node;
  std::unique_ptr<child_process> sim;
  std::unique_ptr<mtasim_control> ctl;
  int node_starts = 0;

  fault_rig() { std::filesystem::create_directories(data_dir); }
  ~fault_rig() { stop(); }

  std::filesystem::path db_file() const { return data_dir / "cms.db"; }

  /// Provisions the lines into data_dir/cms.db (the directory must exist).
  std::string provision() {
    auto toml = dir.path() / "provisioning.toml";
    {
      std::ofstream out{toml};
      std::uint64_t dn = dn_base;
      for (int m = 1; m <= mtas; ++m) {
        char fqdn[64];
        std::snprintf(fqdn, sizeof fqdn, "mta-%04d.cable.example", m);
        for (int l = 1; l <= lines_per_mta; ++l)
          out << "[[subscriber]]\ndirectory_number = \"" << dn++ << "\"\nendpoint_name = \"aaln/"
              << l << "@" << fqdn << "\"\nmta_fqdn = \"" << fqdn
              << "\"\nmta_address = \"127.0.0.1\"\n\n";
      }
    }
    child_process p{{CMS_BINARY_DIR "/cmsd", "--provision", toml.string(), db_file().string()},
                    dir.path() / "provision.out"};
    auto code = p.wait_exit(60s);
    return code == 0 ? std::string{} : "provisioning failed: " + p.output();
  }

  /// Starts cmsd; `wrapper` is put in front of the command (e.g. env with LD_PRELOAD).
  void start_node(const std::vector<std::string>& wrapper = {}) {
    auto config = dir.path() / "node.toml";
    {
      std::ofstream out{config};
      out << "[node]\nid = \"faults\"\ncluster_id = \"faults\"\ndata_dir = \"" << data_dir.string()
          << "\"\n"
          << "[mgcp]\nbind = \"127.0.0.1\"\nport = " << mgcp_port << "\n"
          << "[http]\nbind = \"127.0.0.1\"\nport = " << http_port << "\n"
          << "[peer]\naddress = \"127.0.0.1\"\nport = " << free_port()
          << "\nlisten_address = \"127.0.0.1\"\n"
          << "listen_port = 0\nudp_heartbeat_port = " << free_port(SOCK_DGRAM)
          << "\npeer_udp_heartbeat_port = " << free_port(SOCK_DGRAM)
          << "\nheartbeat_interval_ms = 100\nheartbeat_misses = 3\n"
          << "[log]\nlevel = \"info\"\n";
    }
    std::vector<std::string> argv = wrapper;
    argv.insert(argv.end(), {CMS_BINARY_DIR "/cmsd", "--config", config.string()});
    node = std::make_unique<child_process>(
      argv, dir.path() / ("cmsd-" + std::to_string(++node_starts) + ".out"));
  }

  std::string role() {
    auto s = get_json(http_port, "/status");
    auto* r = s.if_contains("role");
    return r && r->is_string() ? std::string(r->as_string()) : std::string{};
  }

  std::int64_t epoch() {
    auto s = get_json(http_port, "/status");
    auto* e = s.if_contains("epoch");
    return e ? e->to_number<std::int64_t>() : -1;
  }

  bool wait_active() {
    return eventually([&] { return role() == "active"; }, 60s);
  }

  /// Starts mtasim against the node; false when it does not come up.
  bool start_sim() {
    sim = std::make_unique<child_process>(
      std::vector<std::string>{
        CMS_BINARY_DIR "/mtasim", "--ca", "127.0.0.1:" + std::to_string(mgcp_port), "--mtas",
        std::to_string(mtas), "--lines", std::to_string(lines_per_mta), "--base-port", "0",
        "--control", "0", "--answer", "auto", "--answer-delay", "50", "--hangup-delay", "50"},
      dir.path() / "mtasim.out");
    std::uint16_t control_port = 0;
    if (!eventually(
          [&] {
            std::smatch m;
            auto text = sim->output();
            static const std::regex re{"mtasim: control [0-9.]+:([0-9]+)"};
            if (!std::regex_search(text, m, re) || text.find("mtasim: ready") == std::string::npos)
              return false;
            control_port = static_cast<std::uint16_t>(std::stoi(m[1]));
            return true;
          },
          30s))
      return false;
    ctl = std::make_unique<mtasim_control>(control_port);
    for (int i = 1; i <= lines; ++i)
      if (!eventually(
            [&] {
              auto s = ctl->status(i);
              return s.contains("registered") && s.at("registered") == true &&
                     s.contains("awaiting_request") && s.at("awaiting_request") == false;
            },
            30s))
        return false;
    // The node's side too: every line idle (armed for off-hook), not just the MTAs' view.
    return eventually(
      [&] {
        auto o = get_json(http_port, "/endpoints?state=idle&limit=1");
        auto* t = o.if_contains("total");
        return t && t->to_number<std::int64_t>() == lines;
      },
      30s);
  }

  /// Line `caller` calls line `callee` (1-based), the callee answers, the caller hangs up, both
  /// lines end idle. Empty when the call went through; otherwise what went wrong.
  std::string complete_call(int caller, int callee) {
    auto e = connect_call(caller, callee);
    return e.empty() ? hang_up(caller, callee) : e;
  }

  /// Line `caller` calls line `callee` (1-based) and the callee answers: both legs sendrecv.
  /// Empty when connected; otherwise what went wrong.
  std::string connect_call(int caller, int callee) {
    auto dn = std::to_string(dn_base + static_cast<std::uint64_t>(callee) - 1);
    if (ctl->request("offhook " + std::to_string(caller)) != "ok")
      return "offhook refused";
    if (!eventually([&] { return has_signal(ctl->status(caller), "dl"); }, 20s))
      return "no dial tone on line " + std::to_string(caller) + ": " +
             boost::json::serialize(ctl->status(caller)) +
             " node: " + boost::json::serialize(get_json(http_port, "/endpoints?limit=10"));
    if (ctl->request("dial " + std::to_string(caller) + " " + dn) != "ok")
      return "dial refused";
    auto connected = [&](int line) {
      auto s = ctl->status(line);
      auto* c = s.if_contains("connections");
      return c && c->as_array().size() == 1 &&
             c->as_array()[0].as_object().at("mode") == "sendrecv";
    };
    if (!eventually([&] { return connected(caller) && connected(callee); }, 30s))
      return "not connected: caller " + boost::json::serialize(ctl->status(caller)) + " callee " +
             boost::json::serialize(ctl->status(callee));
    return {};
  }

  /// The caller of a connected call hangs up; empty once both lines are idle.
  std::string hang_up(int caller, int callee) {
    if (ctl->request("onhook " + std::to_string(caller)) != "ok")
      return "onhook refused";
    auto idle = [&](int line) {
      auto s = ctl->status(line);
      // Lookups only: operator[] would insert a missing key and move `c`'s storage.
      auto* hook = s.if_contains("hook");
      auto* awaiting = s.if_contains("awaiting_request");
      auto* c = s.if_contains("connections");
      return hook && *hook == "on" && c && c->as_array().empty() && awaiting && *awaiting == false;
    };
    if (!eventually([&] { return idle(caller) && idle(callee); }, 30s))
      return "lines not idle after the call";
    return {};
  }

  /// Billing records the node has stored, as /billing reports them (-1: no answer).
  std::int64_t billed() {
    auto b = get_json(http_port, "/billing");
    auto* t = b.if_contains("total");
    return t ? t->to_number<std::int64_t>() : -1;
  }

  std::string diagnostics() {
    return "--- cmsd ---\n" + (node ? node->output() : std::string{}) + "\n--- mtasim ---\n" +
           (sim ? sim->output() : std::string{});
  }

  void stop_sim() {
    ctl.reset();
    if (sim && sim->running())
      sim->signal(SIGTERM), sim->wait_exit(10s);
  }

  /// SIGTERM and wait: the node writes what it holds before it exits. Returns the exit code.
  std::optional<int> stop_node() {
    if (!node || !node->running())
      return node ? node->wait_exit(0ms) : std::nullopt;
    node->signal(SIGTERM);
    return node->wait_exit(30s);
  }

  void stop() {
    stop_sim();
    stop_node();
  }
};

} // namespace cms::test::faults
