#pragma once
// Typed views of MGCP parameter values (RFC 3435 3.2.2, PacketCable NCS): the codec keeps values as
// text; actors use these to read and build them. Parsers return nullopt on bad text, never throw.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cms::mgcp {

// ---- M: connection mode ------------------------------------------------------------------------
enum class connection_mode : std::uint8_t {
  sendonly,
  recvonly,
  sendrecv,
  inactive,
  confrnce,
  loopback,
  conttest,
  netwloop,
  netwtest,
  replcate,
  data
};
/// Case-insensitive; nullopt for an unknown mode (answered 517 by the endpoint, 539 by the codec).
std::optional<connection_mode> parse_connection_mode(std::string_view s) noexcept;
std::string_view to_string(connection_mode m) noexcept;
/// Extension modes ("X-foo" or "pkg/mode") are syntactically valid but not one of the enum values.
bool is_extension_value(std::string_view s) noexcept;

// ---- RM: restart method, RD: restart delay -----------------------------------------------------
enum class restart_method : std::uint8_t {
  restart,
  forced,
  graceful,
  disconnected,
  cancel_graceful
};
std::optional<restart_method> parse_restart_method(std::string_view s) noexcept;
std::string_view to_string(restart_method m) noexcept;
/// RD: seconds, decimal; nullopt when not a number (codec answers 539).
std::optional<std::uint32_t> parse_restart_delay(std::string_view s) noexcept;

// ---- K: response acknowledgement ---------------------------------------------------------------
struct tid_range {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  friend bool operator==(const tid_range& a, const tid_range& b) {
    return a.first == b.first && a.last == b.last;
  }
};
/// "6234-6255, 6257" -> {6234..6255}, {6257}. An empty value is valid (an empty list).
std::optional<std::vector<tid_range>> parse_response_ack(std::string_view s);
std::string build_response_ack(const std::vector<tid_range>& ranges);
bool acknowledges(const std::vector<tid_range>& ranges, std::uint32_t tid) noexcept;

// ---- C:, I:, X: identifiers --------------------------------------------------------------------
/// Call id, connection id, request identifier: 1..32 hex digits (RFC 3435 3.2.2.2/.5/.7).
bool valid_hex_id(std::string_view s) noexcept;

// ---- P: connection parameters ------------------------------------------------------------------
/// RFC 3435 3.2.2.17 / NCS: "PS=1245, OS=62345, PR=780, OR=45123, PL=10, JI=27, LA=48".
struct connection_parameters {
  std::optional<std::uint64_t> packets_sent;     ///< PS
  std::optional<std::uint64_t> octets_sent;      ///< OS
  std::optional<std::uint64_t> packets_received; ///< PR
  std::optional<std::uint64_t> octets_received;  ///< OR
  std::optional<std::uint64_t> packets_lost;     ///< PL
  std::optional<std::uint64_t> jitter_ms;        ///< JI
  std::optional<std::uint64_t> latency_ms;       ///< LA
  /// Extension keys (e.g. "X-xx=...") in arrival order.
  std::vector<std::pair<std::string, std::string>> extensions;
};
std::optional<connection_parameters> parse_connection_parameters(std::string_view s);
std::string build_connection_parameters(const connection_parameters& p);

// ---- L: local connection options ---------------------------------------------------------------
/// "p:20, a:PCMU;G729, e:on, s:off" in arrival order; keys lower-case.
struct local_connection_options {
  std::vector<std::pair<std::string, std::string>> options;

  const std::string* get(std::string_view key) const noexcept;
  void set(std::string key, std::string value);
  /// p: packetization period in ms (first value of a "10-20" range).
  std::optional<std::uint32_t> packetization_ms() const noexcept;
  /// a: compression algorithms ("PCMU", "G729"...), ';'-separated on the wire.
  std::vector<std::string> codecs() const;
};
std::optional<local_connection_options> parse_local_connection_options(std::string_view s);
std::string build_local_connection_options(const local_connection_options& l);

// ---- N: notified entity ------------------------------------------------------------------------
/// "[LocalName@]DomainName[:port]", e.g. "ca@[127.0.0.1]:2727" or "ca@ca1.example.net".
struct notified_entity {
  std::string local;                 ///< may be empty
  std::string domain;                ///< "[127.0.0.1]" or "ca1.example.net", verbatim
  std::optional<std::uint16_t> port; ///< absent: default port of the peer kind (2727 for a CA)

  /// The domain without IP-literal brackets, ready for a resolver.
  std::string host() const;
  std::string to_string() const;
  friend bool operator==(const notified_entity& a, const notified_entity& b) {
    return a.local == b.local && a.domain == b.domain && a.port == b.port;
  }
};
std::optional<notified_entity> parse_notified_entity(std::string_view s);

} // namespace cms::mgcp
