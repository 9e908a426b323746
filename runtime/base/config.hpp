#pragma once
// The node configuration: one TOML file per node (config/node-a.toml, config/node-b.toml).
// Parsing is strict on purpose: an operator's typo ("prot = 2727") must stop the node at start with
// the file, line and key, not silently fall back to a default in production.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cms::config {

/// Refusal of a configuration file. what() reads "FILE:LINE: KEY: problem" (":LINE" is left out
/// when the problem has no line, e.g. a missing file or an absent section).
class config_error : public std::runtime_error {
public:
  config_error(std::string file, std::uint32_t line, std::string key, const std::string& problem);

  const std::string& file() const noexcept { return file_; }
  /// 1-based line of the offending value or section header; 0 when there is none.
  std::uint32_t line() const noexcept { return line_; }
  /// Dotted key, e.g. "mgcp.port"; empty for file-level problems.
  const std::string& key() const noexcept { return key_; }

private:
  std::string file_;
  std::uint32_t line_;
  std::string key_;
};

/// "host:port", e.g. the Record Keeping Server address.
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};

struct node_section {
  std::string id;                 ///< required; appears in every log line and in /status
  int priority = 100;             ///< election: the higher priority becomes active on a tie
  std::string cluster_id = "cms"; ///< both nodes of a pair must agree (node-link handshake)
  std::filesystem::path data_dir; ///< required; holds the SQLite store
};

struct mgcp_section {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 2727;   ///< call agent port (RFC 3435); 0 lets the kernel choose
  int dscp = 26;               ///< AF31 for call signalling
  std::string call_agent_name; ///< the "N:" notified entity; default "ca@<node.id>"
  /// Kernel receive buffer of the MGCP socket (mgcp::agent_config); 0: the kernel's default.
  std::size_t receive_buffer_bytes = 4 * 1024 * 1024;
};

struct http_section {
  std::string bind = "127.0.0.1";         ///< status/admin endpoint stays on loopback by default
  std::uint16_t port = 8080;              ///< 0 lets the kernel choose
  std::optional<std::string> admin_token; ///< required on mutating admin requests when set
  std::size_t max_request_bytes = 64 * 1024;
  /// The management request budget (runtime/http/request_pacer.hpp): requests beyond this rate
  /// wait for their slot, and are refused 429 when it is more than max_pace_delay away. 0: unpaced.
  std::int64_t max_requests_per_s = 1000;
  std::int64_t request_burst = 100;
  std::chrono::milliseconds max_pace_delay{1000};
  /// Serve HTTPS (only) with the node's certificate and key from [tls]; needs [tls] configured.
  bool tls = false;
};

struct peer_section {
  std::string address;                      ///< required: the other node of the pair
  std::uint16_t port = 4433;                ///< the peer's node-link (TLS) port
  std::string listen_address = "127.0.0.1"; ///< where this node accepts the peer's node link
  std::uint16_t listen_port = 4433; ///< this node's node-link port; 0 lets the kernel choose
  std::chrono::milliseconds heartbeat_interval{
    100};                                  ///< x heartbeat_misses: a dead peer is seen in <= 300 ms
  int heartbeat_misses = 3;                ///< peer declared lost after this many silent intervals
  std::uint16_t udp_heartbeat_port = 4533; ///< second, independent heartbeat path (local)
  std::uint16_t peer_udp_heartbeat_port = 4533; ///< the peer's; defaults to udp_heartbeat_port
  /// Witnesses (cms-witness, "host:port") arbitrating promotions; a majority must grant a new
  /// epoch. Empty: no split-brain guard (lab pairs only).
  std::vector<std::string> witnesses;
  std::chrono::milliseconds lease{
    500}; ///< active's witness lease (renewed every heartbeat interval)
};

/// Node-link TLS material. Either all three paths or none are given: CAF silently falls back to
/// anonymous TLS when none is set, so the runtime refuses to open the node link without them.
struct tls_section {
  std::filesystem::path certificate;
  std::filesystem::path key;
  std::filesystem::path ca;
  bool configured() const noexcept { return !certificate.empty(); }
};

struct log_section {
  std::string level = "info"; ///< trace|debug|info|warn|error|critical|off
  std::filesystem::path file; ///< empty: stderr
};

struct management_section {
  int dscp = 8; ///< CS1 for management/billing traffic
};

struct billing_section {
  std::optional<host_port> rks_primary; ///< Record Keeping Server; absent: records stay in outbox
  std::optional<host_port> rks_backup;
  int batch_size = 100;            ///< records per RKS transfer
  int drain_max_records_per_s = 0; ///< forwarding ceiling while a backlog drains; 0 = none
  /// Records the RKS acknowledged are kept in the local store this long, then pruned (7 days);
  /// 0 keeps them for ever. Undelivered records are never pruned.
  std::chrono::seconds retention{7 * 24 * 3600};
};

struct links_section {
  std::chrono::milliseconds probe_interval{1000};
  int probe_misses = 3;
};

struct snmp_section {
  bool enabled = false;
  std::string agentx_socket; ///< empty: net-snmp's default master socket
};

/// Call processing limits (overload control, actors/calls/call_admission.hpp).
struct calls_section {
  /// New call attempts admitted per second; above it attempts get reorder at once. 0: no limit.
  /// Set it to the capacity measured by scripts/bench-calls.sh (docs/performance.md).
  int max_call_rate = 0;
  int call_rate_burst = 0; ///< token bucket depth in attempts; 0: max_call_rate / 5
};

struct node_config {
  std::filesystem::path source_file; ///< the file this was read from (for logs and errors)
  node_section node;
  mgcp_section mgcp;
  http_section http;
  peer_section peer;
  tls_section tls;
  log_section log;
  management_section management;
  billing_section billing;
  links_section links;
  snmp_section snmp;
  calls_section calls;
};

/// Reads and validates a node configuration. Relative paths (data_dir, TLS files, log file) are
/// resolved against the directory of the config file, so a config works from any working directory.
/// Throws config_error on a missing/unreadable file, TOML syntax errors, unknown keys (at any
/// level), wrong types, out-of-range values and missing required keys.
node_config load_node_config(const std::filesystem::path& path);

/// The log levels accepted in [log] level, in increasing severity.
bool is_valid_log_level(const std::string& level) noexcept;

} // namespace cms::config
