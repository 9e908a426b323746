#include "runtime/base/config.hpp"

#include "runtime/base/key_file.hpp"
#include "runtime/base/toml_reader.hpp"
#include "runtime/radius/secret.hpp"

#include <algorithm>
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
  m.max_transactions =
    static_cast<std::size_t>(t.integer("max_transactions", 64, 16 * 1024 * 1024)
                               .value_or(static_cast<std::int64_t>(m.max_transactions)));
  m.max_transactions_per_peer =
    static_cast<std::size_t>(t.integer("max_transactions_per_peer", 8, 16 * 1024 * 1024)
                               .value_or(static_cast<std::int64_t>(m.max_transactions_per_peer)));
  m.pending_timeout = std::chrono::milliseconds(
    t.integer("pending_timeout_ms", 100, 600'000).value_or(m.pending_timeout.count()));
  m.source_datagrams_per_s =
    t.integer("source_datagrams_per_s", 0, 10'000'000).value_or(m.source_datagrams_per_s);
  m.source_datagram_burst =
    t.integer("source_datagram_burst", 0, 10'000'000).value_or(m.source_datagram_burst);
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
  h.max_connections_per_address =
    static_cast<std::size_t>(t.integer("max_connections_per_address", 0, 1'000'000)
                               .value_or(static_cast<std::int64_t>(h.max_connections_per_address)));
  h.max_queued_jobs =
    static_cast<std::size_t>(t.integer("max_queued_jobs", 1, 1'000'000)
                               .value_or(static_cast<std::int64_t>(h.max_queued_jobs)));
  h.audit_max_bytes =
    static_cast<std::uint64_t>(t.integer("audit_max_bytes", 64 * 1024, 64LL * 1024 * 1024 * 1024)
                                 .value_or(static_cast<std::int64_t>(h.audit_max_bytes)));
  h.audit_files = static_cast<int>(t.integer("audit_files", 1, 100).value_or(h.audit_files));
  h.audit_refused_per_s =
    static_cast<double>(t.integer("audit_refused_per_s", 1, 100'000)
                          .value_or(static_cast<std::int64_t>(h.audit_refused_per_s)));
  h.max_requests_per_s =
    t.integer("max_requests_per_s", 0, 1'000'000).value_or(h.max_requests_per_s);
  h.request_burst = t.integer("request_burst", 0, 1'000'000).value_or(h.request_burst);
  h.max_pace_delay = std::chrono::milliseconds(
    t.integer("max_pace_delay_ms", 0, 60'000).value_or(h.max_pace_delay.count()));
  h.tls = t.boolean("tls").value_or(h.tls);
}

void read_peer(table_reader& t, peer_section& p, const std::filesystem::path& dir) {
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
  p.replay_window = std::chrono::milliseconds(
    t.integer("replay_window_ms", 500, 600'000).value_or(p.replay_window.count()));
  if (auto file = t.string("key_file")) {
    if (file->empty())
      t.fail("key_file", "must not be empty");
    p.key_file = resolve(dir, *file);
    // Where read_node_secrets reports a key it cannot use.
    try {
      t.fail("key_file", "");
    } catch (const toml_field_error& e) {
      p.key_file_line = e.line();
    }
  } else if (!p.witnesses.empty()) {
    // Witness requests travel over UDP: unauthenticated, anyone could stop every promotion.
    t.fail("witnesses", "witnesses need peer.key_file (the cluster key, docs/security.md)");
  }
}

void read_test_faults(table_reader& t, test_faults_section& f, const std::filesystem::path& dir) {
  if (auto file = t.string("freeze_ha_actor_file")) {
    if (file->empty())
      t.fail("freeze_ha_actor_file", "must not be empty");
    f.freeze_ha_actor_file = resolve(dir, *file);
  }
  f.crash_ha_actor = t.boolean("crash_ha_actor").value_or(f.crash_ha_actor);
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

void read_billing(table_reader& t, billing_section& b, const std::filesystem::path& dir) {
  b.rks_primary = host_and_port(t, "rks_primary");
  b.rks_secondary = host_and_port(t, "rks_secondary");
  // rks_backup: the key's name before EMs over RADIUS, still accepted.
  if (auto backup = host_and_port(t, "rks_backup")) {
    if (b.rks_secondary)
      t.fail("rks_backup", "set together with billing.rks_secondary (rks_backup is its old name)");
    b.rks_secondary = backup;
    if (!b.rks_primary)
      t.fail("rks_backup", "set without billing.rks_primary");
  }
  if (b.rks_secondary && !b.rks_primary)
    t.fail("rks_secondary", "set without billing.rks_primary");
  if (auto file = t.string("secret_file")) {
    if (file->empty())
      t.fail("secret_file", "must not be empty");
    b.secret_file = resolve(dir, *file);
    try {
      t.fail("secret_file", "");
    } catch (const toml_field_error& e) {
      b.secret_file_line = e.line();
    }
  } else if (b.rks_primary) {
    t.fail("rks_primary", "needs billing.secret_file (the RADIUS shared secret's file)");
  }
  b.retry_interval = std::chrono::milliseconds(
    t.integer("retry_interval_ms", 10, 10'000).value_or(b.retry_interval.count()));
  b.retry_count = static_cast<int>(t.integer("retry_count", 0, 9).value_or(b.retry_count));
  b.source_ports = static_cast<int>(t.integer("source_ports", 1, 64).value_or(b.source_ports));
  if (auto id = t.string("element_id")) {
    if (id->empty() || id->size() > 8 ||
        std::any_of(id->begin(), id->end(), [](char c) { return c < 0x21 || c > 0x7e; }))
      t.fail("element_id", "expected 1 to 8 printable ASCII characters, got \"" + *id + "\"");
    b.element_id = *id;
  }
  if (auto tz = t.string("time_zone")) {
    const bool shape = tz->size() == 8 && ((*tz)[0] == '0' || (*tz)[0] == '1') &&
                       ((*tz)[1] == '+' || (*tz)[1] == '-') &&
                       tz->find_first_not_of("0123456789", 2) == std::string::npos;
    if (!shape || std::stoi(tz->substr(2, 2)) > 23 || std::stoi(tz->substr(4, 2)) > 59 ||
        std::stoi(tz->substr(6, 2)) > 59)
      t.fail("time_zone",
             "expected \"D+hhmmss\" (DST flag 0/1, sign, offset), got \"" + *tz + "\"");
    b.time_zone = *tz;
  }
  if (auto fe = t.string("financial_entity_id")) {
    if (fe->size() > 247)
      t.fail("financial_entity_id", "longer than 247 characters");
    b.financial_entity_id = *fe;
  }
  b.batch_size = static_cast<int>(t.integer("batch_size", 1, 100'000).value_or(b.batch_size));
  b.drain_max_records_per_s = static_cast<int>(
    t.integer("drain_max_records_per_s", 0, 10'000'000).value_or(b.drain_max_records_per_s));
  b.retention = std::chrono::seconds(
    t.integer("retention_s", 0, 10LL * 365 * 24 * 3600).value_or(b.retention.count()));
  b.max_queued_records =
    static_cast<std::size_t>(t.integer("max_queued_records", 100, 100'000'000)
                               .value_or(static_cast<std::int64_t>(b.max_queued_records)));
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
  c.emergency_window = std::chrono::milliseconds(
    t.integer("emergency_window_ms", 0, 120'000).value_or(c.emergency_window.count()));
  if (auto* codes = t.raw("emergency_codes")) {
    if (!codes->is_array())
      t.fail_at(*codes, "emergency_codes", "expected an array of dialled codes, e.g. [\"911\"]");
    c.emergency_codes.clear();
    for (auto& item : codes->as_array()) {
      if (!item.is_string())
        t.fail_at(item, "emergency_codes", "expected strings of digits, e.g. \"911\"");
      const auto& code = item.as_string().str;
      // Digits, '*' and '#', 1..15 characters (services/emergency.hpp valid_emergency_code).
      bool ok = !code.empty() && code.size() <= 15 &&
                code.find_first_not_of("0123456789*#") == std::string::npos;
      if (!ok)
        t.fail_at(item, "emergency_codes", "'" + code + "' is not a dialled code (digits, * or #)");
      c.emergency_codes.push_back(code);
    }
  }
}

void read_dqos(table_reader& t, dqos_section& d) {
  if (auto codec = t.string("codec")) {
    static const std::array<const char*, 5> known = {"PCMU", "PCMA", "G726-32", "G729", "G728"};
    if (std::find(known.begin(), known.end(), *codec) == known.end())
      t.fail("codec", "\"" + *codec + "\" is not one of PCMU, PCMA, G726-32, G729, G728");
    d.codec = *codec;
  }
  d.packet_period_ms =
    static_cast<int>(t.integer("packet_period_ms", 10, 60).value_or(d.packet_period_ms));
  if (d.packet_period_ms % 5 != 0)
    t.fail("packet_period_ms", "must be a multiple of 5 ms");
  d.dscp = static_cast<int>(t.integer("dscp", 0, max_dscp).value_or(d.dscp));
  d.session_class = static_cast<int>(t.integer("session_class", 0, 7).value_or(d.session_class));
  d.emergency_session_class = static_cast<int>(
    t.integer("emergency_session_class", 0, 7).value_or(d.emergency_session_class));
  d.t1_s = static_cast<int>(t.integer("t1_s", 0, 65535).value_or(d.t1_s));
  d.t7_s = static_cast<int>(t.integer("t7_s", 0, 65535).value_or(d.t7_s));
  d.t8_s = static_cast<int>(t.integer("t8_s", 0, 65535).value_or(d.t8_s));
  d.activity_count =
    static_cast<int>(t.integer("activity_count", 1, 255).value_or(d.activity_count));
  d.keepalive_s = static_cast<int>(t.integer("keepalive_s", 0, 65535).value_or(d.keepalive_s));
  d.command_timeout = std::chrono::milliseconds(
    t.integer("command_timeout_ms", 100, 60'000).value_or(d.command_timeout.count()));
  d.reconnect_max = std::chrono::milliseconds(
    t.integer("reconnect_max_ms", 1000, 600'000).value_or(d.reconnect_max.count()));
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
  read_peer(peer, cfg.peer, dir);
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
  read_billing(billing, cfg.billing, dir);
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

  auto dqos = sub("dqos");
  read_dqos(dqos, cfg.dqos);
  dqos.finish();

  auto test_faults = sub("test_faults");
  read_test_faults(test_faults, cfg.test_faults, dir);
  test_faults.finish();

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

void read_node_secrets(node_config& cfg) {
  if (!cfg.billing.secret_file.empty()) {
    try {
      cfg.billing.secret = radius::load_secret(cfg.billing.secret_file);
    } catch (const std::exception& e) {
      throw config_error(cfg.source_file.string(), cfg.billing.secret_file_line,
                         "billing.secret_file", e.what());
    }
  }
  if (cfg.peer.key_file.empty())
    return;
  try {
    cfg.peer.key = read_key_file(cfg.peer.key_file);
  } catch (const key_file_error& e) {
    throw config_error(cfg.source_file.string(), cfg.peer.key_file_line, "peer.key_file", e.what());
  }
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
