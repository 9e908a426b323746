#include "runtime/base/config.hpp"

#include "runtime/base/toml_reader.hpp"

#include <array>
#include <limits>

namespace cms::config {

namespace {

constexpr std::int64_t max_port = 65535;
constexpr std::int64_t max_dscp = 63;
constexpr std::int64_t max_int = std::numeric_limits<int>::max();

constexpr std::array<const char*, 7> log_levels = {"trace", "debug",    "info", "warn",
                                                   "error", "critical", "off"};

std::string join_log_levels() {
  std::string out;
  for (auto l : log_levels)
    out += (out.empty() ? "" : "|") + std::string(l);
  return out;
}

/// Relative paths in a config are relative to the config file, not to the working directory.
std::filesystem::path resolve(const std::filesystem::path& base_dir, const std::string& p) {
  std::filesystem::path path(p);
  if (path.empty() || path.is_absolute())
    return path.lexically_normal();
  return (base_dir / path).lexically_normal();
}

/// Returns the sub-table `name` of the root, refusing non-table values.
const toml::value* section(table_reader& root, const std::string& name) {
  auto v = root.raw(name);
  if (v && !v->is_table())
    root.fail_at(*v, name, "expected a table [" + name + "], got " + type_name(*v));
  return v;
}

std::uint16_t port(table_reader& t, const std::string& key, std::uint16_t def) {
  return static_cast<std::uint16_t>(t.integer(key, 0, max_port).value_or(def));
}

std::string non_empty(table_reader& t, const std::string& key, std::string def) {
  auto s = t.string(key);
  if (!s)
    return def;
  if (s->empty())
    t.fail(key, "must not be empty");
  return *s;
}

std::optional<host_port> host_and_port(table_reader& t, const std::string& key) {
  auto s = t.string(key);
  if (!s || s->empty())
    return std::nullopt;
  auto colon = s->rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s->size())
    t.fail(key, "expected \"host:port\", got \"" + *s + "\"");
  host_port hp;
  hp.host = s->substr(0, colon);
  auto digits = s->substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
    t.fail(key, "port in \"" + *s + "\" is not a number");
  auto n = std::stol(digits);
  if (n < 1 || n > max_port)
    t.fail(key, "port in \"" + *s + "\" is out of range 1..65535");
  hp.port = static_cast<std::uint16_t>(n);
  return hp;
}

void read_node(table_reader& t, node_section& n, const std::filesystem::path& dir) {
  n.id = t.required_string("id");
  if (n.id.find_first_of(" \t\r\n") != std::string::npos)
    t.fail("id", "must not contain whitespace");
  n.priority = static_cast<int>(t.integer("priority", 0, max_int).value_or(n.priority));
  n.cluster_id = non_empty(t, "cluster_id", n.cluster_id);
  n.data_dir = resolve(dir, t.required_string("data_dir"));
}

void read_mgcp(table_reader& t, mgcp_section& m, const std::string& node_id) {
  m.bind = non_empty(t, "bind", m.bind);
  m.port = port(t, "port", m.port);
  m.dscp = static_cast<int>(t.integer("dscp", 0, max_dscp).value_or(m.dscp));
  m.call_agent_name = non_empty(t, "call_agent_name", "ca@" + node_id);
  m.receive_buffer_bytes =
    static_cast<std::size_t>(t.integer("receive_buffer_bytes", 0, 256 * 1024 * 1024)
                               .value_or(static_cast<std::int64_t>(m.receive_buffer_bytes)));
  // The notified entity is "local@domain"; anything else is rejected by MGCP gateways.
  auto at = m.call_agent_name.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == m.call_agent_name.size())
    t.fail("call_agent_name", "expected \"name@domain\", got \"" + m.call_agent_name + "\"");
}

void read_http(table_reader& t, http_section& h) {
  h.bind = non_empty(t, "bind", h.bind);
  h.port = port(t, "port", h.port);
  if (auto tok = t.string("admin_token")) {
    if (tok->empty())
      t.fail("admin_token", "must not be empty (leave the key out to disable admin requests)");
    h.admin_token = *tok;
  }
  h.max_request_bytes =
    static_cast<std::size_t>(t.integer("max_request_bytes", 1024, 64 * 1024 * 1024)
                               .value_or(static_cast<std::int64_t>(h.max_request_bytes)));
  h.max_requests_per_s =
    t.integer("max_requests_per_s", 0, 1'000'000).value_or(h.max_requests_per_s);
  h.request_burst = t.integer("request_burst", 0, 1'000'000).value_or(h.request_burst);
  h.max_pace_delay = std::chrono::milliseconds(
    t.integer("max_pace_delay_ms", 0, 60'000).value_or(h.max_pace_delay.count()));
  h.tls = t.boolean("tls").value_or(h.tls);
}

void read_peer(table_reader& t, peer_section& p) {
  p.address = t.required_string("address");
  p.port = static_cast<std::uint16_t>(t.integer("port", 1, max_port).value_or(p.port));
  p.listen_address = non_empty(t, "listen_address", p.listen_address);
  p.listen_port = port(t, "listen_port", p.listen_port);
  p.heartbeat_interval = std::chrono::milliseconds(
    t.integer("heartbeat_interval_ms", 10, 60'000).value_or(p.heartbeat_interval.count()));
  p.heartbeat_misses =
    static_cast<int>(t.integer("heartbeat_misses", 1, 1000).value_or(p.heartbeat_misses));
  p.udp_heartbeat_port = port(t, "udp_heartbeat_port", p.udp_heartbeat_port);
  p.peer_udp_heartbeat_port = static_cast<std::uint16_t>(
    t.integer("peer_udp_heartbeat_port", 1, max_port)
      .value_or(p.udp_heartbeat_port == 0 ? p.peer_udp_heartbeat_port : p.udp_heartbeat_port));
  p.lease = std::chrono::milliseconds(t.integer("lease_ms", 50, 60'000).value_or(p.lease.count()));
  if (auto* w = t.raw("witnesses")) {
    if (!w->is_array())
      t.fail_at(*w, "witnesses", "expected an array of \"host:port\" strings");
    for (auto& item : w->as_array()) {
      if (!item.is_string())
        t.fail_at(item, "witnesses", "expected \"host:port\" strings");
      const auto& text = item.as_string().str;
      auto colon = text.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
          text.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
          std::stol(text.substr(colon + 1)) < 1 || std::stol(text.substr(colon + 1)) > max_port)
        t.fail_at(item, "witnesses", "'" + text + "' is not host:port");
      p.witnesses.push_back(text);
    }
  }
}

void read_tls(table_reader& t, tls_section& s, const std::filesystem::path& dir) {
  auto cert = t.string("certificate");
  auto key = t.string("key");
  auto ca = t.string("ca");
  int given = (cert ? 1 : 0) + (key ? 1 : 0) + (ca ? 1 : 0);
  if (given == 0)
    return;
  // Half a TLS setup would make CAF fall back to anonymous ciphers: refuse it here.
  for (const char* k : {"certificate", "key", "ca"}) {
    auto v = std::string(k) == "certificate" ? cert : std::string(k) == "key" ? key : ca;
    if (!v)
      t.fail(k, "required when any of tls.certificate, tls.key, tls.ca is set");
    if (v->empty())
      t.fail(k, "must not be empty");
  }
  s.certificate = resolve(dir, *cert);
  s.key = resolve(dir, *key);
  s.ca = resolve(dir, *ca);
}

void read_log(table_reader& t, log_section& l, const std::filesystem::path& dir) {
  if (auto level = t.string("level")) {
    if (!is_valid_log_level(*level))
      t.fail("level", "unknown log level \"" + *level + "\" (expected " + join_log_levels() + ")");
    l.level = *level;
  }
  if (auto file = t.string("file"))
    l.file = resolve(dir, *file);
}

void read_billing(table_reader& t, billing_section& b) {
  b.rks_primary = host_and_port(t, "rks_primary");
  b.rks_backup = host_and_port(t, "rks_backup");
  if (b.rks_backup && !b.rks_primary)
    t.fail("rks_backup", "set without billing.rks_primary");
  b.batch_size = static_cast<int>(t.integer("batch_size", 1, 100'000).value_or(b.batch_size));
  b.drain_max_records_per_s = static_cast<int>(
    t.integer("drain_max_records_per_s", 0, 10'000'000).value_or(b.drain_max_records_per_s));
  b.retention = std::chrono::seconds(
    t.integer("retention_s", 0, 10LL * 365 * 24 * 3600).value_or(b.retention.count()));
}

void read_links(table_reader& t, links_section& l) {
  l.probe_interval = std::chrono::milliseconds(
    t.integer("probe_interval_ms", 10, 600'000).value_or(l.probe_interval.count()));
  l.probe_misses = static_cast<int>(t.integer("probe_misses", 1, 1000).value_or(l.probe_misses));
}

void read_snmp(table_reader& t, snmp_section& s) {
  s.enabled = t.boolean("enabled").value_or(s.enabled);
  s.agentx_socket = t.string("agentx_socket").value_or(s.agentx_socket);
}

void read_calls(table_reader& t, calls_section& c) {
  c.max_call_rate =
    static_cast<int>(t.integer("max_call_rate", 0, 1'000'000).value_or(c.max_call_rate));
  c.call_rate_burst =
    static_cast<int>(t.integer("call_rate_burst", 0, 1'000'000).value_or(c.call_rate_burst));
}

node_config read(const toml::value& doc, const std::string& file,
                 const std::filesystem::path& dir) {
  node_config cfg;
  cfg.source_file = file;
  table_reader root(&doc, file, "");
  auto sub = [&](const char* name) { return table_reader(section(root, name), file, name); };

  auto node = sub("node");
  if (!node.present())
    throw toml_field_error(file, 0, "node.id", "required section [node] is missing");
  read_node(node, cfg.node, dir);
  node.finish();

  auto mgcp = sub("mgcp");
  read_mgcp(mgcp, cfg.mgcp, cfg.node.id);
  mgcp.finish();

  auto http = sub("http");
  read_http(http, cfg.http);
  http.finish();

  auto peer = sub("peer");
  if (!peer.present())
    throw toml_field_error(file, 0, "peer.address", "required section [peer] is missing");
  read_peer(peer, cfg.peer);
  peer.finish();

  auto tls = sub("tls");
  read_tls(tls, cfg.tls, dir);
  tls.finish();
  if (cfg.http.tls && !cfg.tls.configured())
    http.fail("tls", "HTTPS needs the node's certificate: set [tls] certificate, key and ca");

  auto log = sub("log");
  read_log(log, cfg.log, dir);
  log.finish();

  auto management = sub("management");
  cfg.management.dscp =
    static_cast<int>(management.integer("dscp", 0, max_dscp).value_or(cfg.management.dscp));
  management.finish();

  auto billing = sub("billing");
  read_billing(billing, cfg.billing);
  billing.finish();

  auto links = sub("links");
  read_links(links, cfg.links);
  links.finish();

  auto snmp = sub("snmp");
  read_snmp(snmp, cfg.snmp);
  snmp.finish();

  auto calls = sub("calls");
  read_calls(calls, cfg.calls);
  calls.finish();

  root.finish();
  return cfg;
}

} // namespace

config_error::config_error(std::string file, std::uint32_t line, std::string key,
                           const std::string& problem)
  : std::runtime_error(toml_field_error::format(file, line, key, problem)),
    file_(std::move(file)),
    line_(line),
    key_(std::move(key)) {}

bool is_valid_log_level(const std::string& level) noexcept {
  for (auto l : log_levels)
    if (level == l)
      return true;
  return false;
}

node_config load_node_config(const std::filesystem::path& path) {
  const std::string file = path.string();
  try {
    auto doc = parse_toml_file(file);
    auto dir = std::filesystem::absolute(path).parent_path();
    return read(doc, file, dir);
  } catch (const toml_field_error& e) {
    throw config_error(e.file(), e.line(), e.key(), e.problem());
  }
}

} // namespace cms::config
