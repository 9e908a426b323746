// cmsctl: the operator's command line over a cmsd node's HTTP API (docs/http-api.md).
//   cmsctl [--node URL] [--token T] [--json] COMMAND [ARGS]
// Human tables by default, the API's JSON with --json. Exit status: 0 success, 1 the node
// refused or failed the request, 2 usage error, 3 the node is unreachable.

#include "runtime/programs/cmsctl/client.hpp"
#include "runtime/programs/cmsctl/tables.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace cms::cmsctl;

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;

const char* usage_text = R"(Usage: cmsctl [OPTION]... COMMAND [ARG]
Operate a cmsd node through its HTTP API.

Commands (read-only):
  status                 node id, role, epoch, peer, calls
  cluster                the pair: role, epoch, peer, heartbeat paths, replication lag, failover
  calls                  calls in progress           trunks   facilities and gateways
  links                  data links                  routes   routing table
  billing                billing outbox backlog      events   recent events
Commands (admin, need --token):
  switchover             hand the active role to the standby (on the active node)
  drain | undrain        stop / resume accepting new calls (calls in progress continue)
  out-of-service link|gateway NAME     take a data link or gateway out of service
  return link|gateway NAME             return it to service
  provision FILE         import a provisioning file (TOML) into the node, all or nothing

Options:
  --node URL       node's HTTP address (default $CMS_NODE or http://127.0.0.1:8080)
  --token T        admin bearer token (default $CMS_ADMIN_TOKEN)
  --ca FILE        for https:// nodes: CA certificate (PEM) that signed the node's
                   certificate (default $CMS_CA_FILE, else the system's CAs)
  --json           print the API's JSON instead of tables
  --limit N, --offset N   paging of collections
  --reason TEXT    reason recorded with an admin action (audit log)
  -h, --help       show this help

Exit status: 0 success, 1 refused by the node, 2 usage error, 3 node unreachable.
)";

struct options {
  node_address node;
  std::string node_text;
  std::string token;
  bool json = false;
  std::string limit;
  std::string offset;
  std::string reason;
  std::vector<std::string> args;
};

int usage_error(const std::string& message) {
  std::cerr << "cmsctl: " << message << "\nTry 'cmsctl --help' for more information.\n";
  return exit_usage;
}

/// The message of the API's error body, or the raw body.
std::string error_message(const reply& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (!ec && v.is_object())
    if (auto* e = v.as_object().if_contains("error"); e && e->is_object())
      if (auto* m = e->as_object().if_contains("message"); m && m->is_string())
        return std::string(m->as_string());
  return r.body.empty() ? "no details" : r.body;
}

struct failure {
  int code;
};

boost::json::value call(const options& o, const std::string& method, const std::string& target,
                        const std::string& body = {},
                        const std::string& content_type = "application/json") {
  reply r;
  try {
    r = request(o.node, method, target, o.token, body, content_type);
  } catch (const unreachable& e) {
    std::cerr << "cmsctl: cannot reach node at " << o.node.text() << ": " << e.what() << "\n";
    throw failure{exit_unreachable};
  }
  if (r.status >= 400) {
    std::string hint;
    if (r.status == 401)
      hint = o.token.empty() ? " (pass --token or set CMS_ADMIN_TOKEN)" : "";
    std::cerr << "cmsctl: node refused " << method << " " << target << " (" << r.status
              << "): " << error_message(r) << hint << "\n";
    throw failure{exit_refused};
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec) {
    std::cerr << "cmsctl: the node's answer to " << target << " is not JSON\n";
    throw failure{exit_refused};
  }
  return v;
}

std::string paged(const options& o, std::string target) {
  std::string sep = target.find('?') == std::string::npos ? "?" : "&";
  if (!o.limit.empty()) {
    target += sep + "limit=" + o.limit;
    sep = "&";
  }
  if (!o.offset.empty())
    target += sep + "offset=" + o.offset;
  return target;
}

void print_json(const boost::json::value& v) { std::cout << boost::json::serialize(v) << "\n"; }

const boost::json::array& items_of(const boost::json::value& v) {
  static const boost::json::array empty;
  if (v.is_object())
    if (auto* i = v.as_object().if_contains("items"); i && i->is_array())
      return i->as_array();
  return empty;
}

void print_page_footer(const boost::json::value& v) {
  auto& o = v.as_object();
  auto shown = items_of(v).size();
  auto* total = o.if_contains("total");
  if (total && cell(total) != std::to_string(shown))
    std::cout << "(" << shown << " of " << cell(total) << "; use --offset/--limit)\n";
}

/// Columns for items whose shape this tool does not fix (calls are owned by call control):
/// every scalar field of the first item, in its order.
std::vector<column> columns_of(const boost::json::array& items) {
  std::vector<column> cols;
  if (items.empty() || !items.front().is_object())
    return cols;
  for (auto& [k, v] : items.front().as_object())
    if (!v.is_object() && !v.is_array() && cols.size() < 9)
      cols.push_back({std::string(k), std::string(k)});
  return cols;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string reason_body(const options& o) {
  if (o.reason.empty())
    return {};
  return boost::json::serialize(boost::json::object{{"reason", o.reason}});
}

int run(const options& o) {
  const auto& cmd = o.args[0];
  auto want_args = [&](std::size_t n) {
    if (o.args.size() != n + 1)
      throw std::invalid_argument(cmd + " takes " + std::to_string(n) + " argument(s)");
  };
  if (cmd == "status") {
    want_args(0);
    auto s = call(o, "GET", "/status");
    if (o.json)
      return print_json(s), exit_ok;
    auto c = call(o, "GET", "/cluster");
    auto& so = s.as_object();
    auto& co = c.as_object();
    print_fields(std::cout, so,
                 {{"node", "node_id"},
                  {"version", "version"},
                  {"role", "role"},
                  {"epoch", "epoch"},
                  {"uptime (s)", "uptime_s"}});
    print_fields(std::cout, co,
                 {{"draining", "draining"},
                  {"peer", "peer_state"},
                  {"peer node", "peer.node_id"},
                  {"peer role", "peer.role"},
                  {"heartbeat node link", "heartbeat_paths.node_link"},
                  {"heartbeat udp", "heartbeat_paths.udp"}});
    boost::json::object calls;
    if (auto* counters = so.if_contains("counters"); counters && counters->is_object())
      calls = counters->as_object();
    print_fields(std::cout, calls,
                 {{"calls active", "cms_calls_active"},
                  {"call attempts", "cms_call_attempts_total"},
                  {"endpoints registered", "cms_endpoints_registered"}});
    return exit_ok;
  }
  if (cmd == "cluster") {
    want_args(0);
    auto c = call(o, "GET", "/cluster");
    if (o.json)
      return print_json(c), exit_ok;
    print_fields(std::cout, c.as_object(),
                 {{"node", "node_id"},
                  {"role", "role"},
                  {"epoch", "epoch"},
                  {"draining", "draining"},
                  {"peer", "peer_state"},
                  {"peer node", "peer.node_id"},
                  {"peer role", "peer.role"},
                  {"peer epoch", "peer.epoch"},
                  {"heartbeat node link", "heartbeat_paths.node_link"},
                  {"heartbeat udp", "heartbeat_paths.udp"},
                  {"replication lag (records)", "replication_lag_records"},
                  {"replication lag (ms)", "replication_lag_ms"},
                  {"last failover (ms)", "last_failover_ms"},
                  {"last failover reason", "last_failover_reason"}});
    return exit_ok;
  }
  if (cmd == "billing") {
    want_args(0);
    auto b = call(o, "GET", "/billing");
    if (o.json)
      return print_json(b), exit_ok;
    print_fields(std::cout, b.as_object(),
                 {{"backlog (records)", "backlog"},
                  {"alarm", "backlog_alarm"},
                  {"high water", "backlog_high_water"},
                  {"unreplicated", "unreplicated"},
                  {"sent position", "sent_position"},
                  {"last sequence", "last_sequence"},
                  {"oldest pending (ms)", "oldest_pending_ms"}});
    return exit_ok;
  }
  struct listing {
    const char* name;
    const char* target;
    std::vector<column> columns;
  };
  static const std::vector<listing> listings = {
    {"links",
     "/links",
     {{"NAME", "name"},
      {"KIND", "kind"},
      {"STATE", "state"},
      {"ADMIN", "admin_state"},
      {"REMOTE", "remote_address"},
      {"PORT", "remote_port"},
      {"TRANSITIONS", "transitions"}}},
    {"routes",
     "/routes",
     {{"PREFIX", "prefix"},
      {"TRUNK GROUP", "trunk_group"},
      {"PRIORITY", "priority"},
      {"NAME", "trunk_group_name"},
      {"SEGMENT", "segment"}}},
    {"trunks",
     "/trunks",
     {{"FACILITY", "id"},
      {"GATEWAY", "gateway"},
      {"KIND", "kind"},
      {"CARRIER", "carrier"},
      {"SPAN", "span"},
      {"CHANNELS", "channels"},
      {"STATE", "state"},
      {"GATEWAY ADMIN", "gateway_admin_state"}}},
    {"events",
     "/events",
     {{"SEQ", "seq"}, {"KIND", "kind"}, {"SEVERITY", "severity"}, {"MESSAGE", "message"}}},
    {"calls", "/calls", {}},
  };
  for (auto& l : listings) {
    if (cmd != l.name)
      continue;
    want_args(0);
    auto v = call(o, "GET", paged(o, l.target));
    if (o.json)
      return print_json(v), exit_ok;
    auto& items = items_of(v);
    auto cols = l.columns.empty() ? columns_of(items) : l.columns;
    if (items.empty())
      std::cout << "no " << l.name << "\n";
    else
      print_table(std::cout, items, cols);
    if (cmd == "trunks")
      if (auto* g = v.as_object().if_contains("gateways");
          g && g->is_array() && !g->as_array().empty()) {
        std::cout << "\n";
        print_table(std::cout, g->as_array(),
                    {{"GATEWAY", "name"},
                     {"ADDRESS", "address"},
                     {"ROLE", "role"},
                     {"SEGMENT", "segment"},
                     {"STATE", "state"},
                     {"ADMIN", "admin_state"},
                     {"FACILITIES", "facilities"}});
      }
    if (cmd != "events")
      print_page_footer(v);
    return exit_ok;
  }
  auto print_outcome = [&](const boost::json::value& v) {
    if (o.json)
      return print_json(v), exit_ok;
    auto* m = v.is_object() ? v.as_object().if_contains("message") : nullptr;
    std::cout << (m ? cell(m) : boost::json::serialize(v)) << "\n";
    return exit_ok;
  };
  if (cmd == "switchover" || cmd == "drain" || cmd == "undrain") {
    want_args(0);
    return print_outcome(call(o, "POST", "/admin/" + cmd, reason_body(o)));
  }
  if (cmd == "out-of-service" || cmd == "return") {
    want_args(2);
    auto& kind = o.args[1];
    if (kind != "link" && kind != "gateway")
      throw std::invalid_argument(cmd + ": say 'link NAME' or 'gateway NAME'");
    auto& name = o.args[2];
    if (name.empty() || name.find_first_of("/?#% ") != std::string::npos)
      throw std::invalid_argument("bad " + kind + " name \"" + name + "\"");
    return print_outcome(
      call(o, "POST", "/admin/" + kind + "s/" + name + "/" + cmd, reason_body(o)));
  }
  if (cmd == "provision") {
    want_args(1);
    std::string body;
    try {
      body = read_file(o.args[1]);
    } catch (const std::exception& e) {
      std::cerr << "cmsctl: " << e.what() << "\n";
      return exit_usage;
    }
    return print_outcome(call(o, "POST", "/admin/provision", body, "application/toml"));
  }
  throw std::invalid_argument("unknown command \"" + cmd + "\"");
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (auto* env = std::getenv("CMS_NODE"); env && *env)
    o.node_text = env;
  else
    o.node_text = "http://127.0.0.1:8080";
  if (auto* env = std::getenv("CMS_ADMIN_TOKEN"))
    o.token = env;
  std::string ca_file;
  if (auto* env = std::getenv("CMS_CA_FILE"))
    ca_file = env;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(std::string(name) + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "-h" || a == "--help") {
        std::cout << usage_text;
        return exit_ok;
      } else if (a == "--node")
        o.node_text = value("--node");
      else if (a.rfind("--node=", 0) == 0)
        o.node_text = a.substr(7);
      else if (a == "--token")
        o.token = value("--token");
      else if (a.rfind("--token=", 0) == 0)
        o.token = a.substr(8);
      else if (a == "--ca")
        ca_file = value("--ca");
      else if (a.rfind("--ca=", 0) == 0)
        ca_file = a.substr(5);
      else if (a == "--json")
        o.json = true;
      else if (a == "--limit")
        o.limit = value("--limit");
      else if (a == "--offset")
        o.offset = value("--offset");
      else if (a == "--reason")
        o.reason = value("--reason");
      else if (a.size() > 1 && a[0] == '-' && o.args.empty())
        return usage_error("unrecognized option '" + a + "'");
      else
        o.args.push_back(a);
    } catch (const std::invalid_argument& e) {
      return usage_error(e.what());
    }
  }
  if (o.args.empty())
    return usage_error("no command given");
  for (auto* p : {&o.limit, &o.offset})
    if (!p->empty() && p->find_first_not_of("0123456789") != std::string::npos)
      return usage_error("--limit and --offset take a non-negative integer");
  try {
    o.node = parse_node_address(o.node_text);
    o.node.ca_file = ca_file;
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  try {
    return run(o);
  } catch (const failure& f) {
    return f.code;
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {
    std::cerr << "cmsctl: " << e.what() << "\n";
    return exit_refused;
  }
}
