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
  /// Bounds on received commands (mgcp::receive_limits): all peers, one peer address:port, and how
  /// long a command nobody answers is kept.
  std::size_t max_transactions = 131072;
  std::size_t max_transactions_per_peer = 4096;
  std::chrono::milliseconds pending_timeout{30000};
  /// Datagrams one source address:port may send (mgcp::flood_limits): beyond, dropped unparsed.
  /// Far above one MTA (a few per call) or one gateway (~5 per call, hundreds of calls/s). 0: off.
  std::int64_t source_datagrams_per_s = 5000;
  std::int64_t source_datagram_burst = 10000;
};

struct http_section {
  std::string bind = "127.0.0.1";         ///< status/admin endpoint stays on loopback by default
  std::uint16_t port = 8080;              ///< 0 lets the kernel choose
  std::optional<std::string> admin_token; ///< required on mutating admin requests when set
  std::size_t max_request_bytes = 64 * 1024;
  /// Connections from one client address (http::server_config); beyond, 429 and closed. 0: off.
  std::size_t max_connections_per_address = 16;
  /// Store jobs of the management service waiting for its worker; beyond, 503 at once.
  std::size_t max_queued_jobs = 64;
  /// audit.log is rotated at this size (audit.log.1 ... audit.log.N, N = audit_files).
  std::uint64_t audit_max_bytes = 16 * 1024 * 1024;
  int audit_files = 4;
  /// Lines per second for refused admin requests without a valid token (burst 4x); the rest are
  /// counted and summed up in the next line written.
  double audit_refused_per_s = 5;
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
  /// The cluster key that authenticates the UDP heartbeats and the witness datagrams (HMAC-SHA256,
  /// docs/security.md). Empty: no key, so the UDP heartbeat path stays off and witnesses are
  /// refused (the node link alone carries the heartbeats).
  std::filesystem::path key_file;
  std::uint32_t key_file_line = 0; ///< where key_file is set (errors about the key point here)
  std::string key;                 ///< the key's bytes, filled by read_node_secrets (never logged)
  /// A datagram whose sender timestamp is further than this from our wall clock is dropped; the
  /// pair's and the witnesses' clocks must agree within it (NTP).
  std::chrono::milliseconds replay_window{5000};
};

/// Faults that only tests inject ([test_faults]; never set in production: the node logs a warning
/// at start when any is set). They show how the node behaves when its HA actor is stuck or dead.
struct test_faults_section {
  /// Once this file exists, the HA actor blocks its thread for good at its next tick.
  std::filesystem::path freeze_ha_actor_file;
  /// The HA actor throws at its first tick, each time it starts (the root supervisor gives up).
  bool crash_ha_actor = false;
  bool any() const noexcept { return !freeze_ha_actor_file.empty() || crash_ha_actor; }
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
  /// The RKS (FreeRADIUS) reached over the primary data link; absent: records stay in the outbox.
  std::optional<host_port> rks_primary;
  /// The RKS reached over the backup VPN link ([billing] rks_secondary, or its old name
  /// rks_backup).
  std::optional<host_port> rks_secondary;
  /// The RADIUS shared secret's file (never the secret inline; docs/billing.md).
  std::filesystem::path secret_file;
  std::uint32_t secret_file_line = 0; ///< where secret_file is set (errors about it point here)
  std::string secret;                 ///< filled by read_node_secrets (never logged)
  std::chrono::milliseconds retry_interval{1000}; ///< RADIUS retransmission interval, 10..10000
  int retry_count = 1;  ///< retransmissions per RKS before the other RKS is tried, 0..9
  int source_ports = 4; ///< UDP source ports of the accounting client (256 requests each)
  /// EM element id (BCID and EM header), at most 8 printable ASCII; empty: derived from
  /// node.cluster_id (the same on both nodes of a pair).
  std::string element_id;
  std::string time_zone = "0+000000"; ///< EM time zone field "D+hhmmss"
  std::string financial_entity_id;    ///< Financial-Entity-ID of Signaling_Start; empty: omitted
  int batch_size = 100;               ///< records per RKS transfer
  int drain_max_records_per_s = 0;    ///< forwarding ceiling while a backlog drains; 0 = none
  /// Records the RKS acknowledged are kept in the local store this long, then pruned (7 days);
  /// 0 keeps them for ever. Undelivered records are never pruned.
  std::chrono::seconds retention{7 * 24 * 3600};
  /// Records held in memory while the store refuses writes; at this many new calls are refused
  /// (actors::call_settings::billing_queue_max).
  std::size_t max_queued_records = 50000;
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
  /// Emergency codes: admitted whatever the load or a drain, under network hold once answered.
  std::vector<std::string> emergency_codes{"911"};
  /// Dial tone for an emergency code only, given to an attempt the overload gate or a drain
  /// refused; 0: such attempts get reorder at once.
  std::chrono::milliseconds emergency_window{10000};
};

/// DQoS gate parameters (PKT-SP-DQOS) every gate of this node carries; the CMTSs themselves are
/// provisioning ([[cmts]]). The token bucket is derived from `codec` and `packet_period_ms`.
struct dqos_section {
  std::string codec = "PCMU";      ///< PCMU | PCMA | G726-32 | G729 | G728
  int packet_period_ms = 20;       ///< 10..60, the p: of the CRCX
  int dscp = 46;                   ///< EF: the DS field the CMTS marks upstream voice with
  int session_class = 1;           ///< 1 normal-priority VoIP
  int emergency_session_class = 2; ///< 2 high-priority VoIP: emergency (911) calls
  int t1_s = 200;                  ///< authorisation timer: authorised but not committed
  int t7_s = 0;                    ///< reservation timer; 0: the CMTS's provisioned default
  int t8_s = 0;                    ///< upstream inactivity timer; 0: the CMTS's provisioned default
  int activity_count = 4;          ///< gates one MTA may hold (Activity Count): its lines' calls
  int keepalive_s = 30;            ///< COPS Keep-Alive timer granted to each CMTS (0: none)
  std::chrono::milliseconds command_timeout{2000}; ///< Gate-Set/Delete/Info without an answer
  std::chrono::milliseconds reconnect_max{30000};  ///< back-off ceiling of the COPS reconnects
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
  dqos_section dqos;
  test_faults_section test_faults;
};

/// Reads and validates a node configuration. Relative paths (data_dir, TLS files, log file) are
/// resolved against the directory of the config file, so a config works from any working directory.
/// Throws config_error on a missing/unreadable file, TOML syntax errors, unknown keys (at any
/// level), wrong types, out-of-range values and missing required keys.
node_config load_node_config(const std::filesystem::path& path);

/// Reads the secrets the configuration names (the cluster key of [peer] key_file) into `cfg`.
/// Separate from load_node_config so that a configuration can be loaded where its secrets are not
/// readable (tests of the repository's sample configs); cmsd calls both, at start and in
/// --check-config. Throws config_error at the key_file line when the file is missing, unreadable
/// or shorter than config::min_key_bytes.
void read_node_secrets(node_config& cfg);

/// The log levels accepted in [log] level, in increasing severity.
bool is_valid_log_level(const std::string& level) noexcept;

} // namespace cms::config
