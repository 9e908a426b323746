#pragma once
// COPS (RFC 2748) messages: the 8-byte common header, the object list, and typed views of the
// messages a PacketCable DQoS gate controller exchanges with a CMTS (OPN, CAT, CC, REQ, DEC,
// RPT, DRQ, KA, SSQ, SSC). Decoding is strict and bounds-checked: anything that does not fit
// exactly is an error value, never undefined behaviour (the decoder is fed straight from TCP).

#include "runtime/cops/bytes.hpp"
#include "runtime/cops/decode_result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::cops {

inline constexpr std::uint8_t protocol_version = 1;
inline constexpr std::size_t header_size = 8;
inline constexpr std::size_t object_header_size = 4;
/// PacketCable Dynamic QoS (IANA COPS client type).
inline constexpr std::uint16_t client_type_dqos = 0x8008;
/// A DQoS message is a few hundred bytes; 64 KiB leaves room for anything legitimate and keeps
/// a lying length field from making us buffer megabytes.
inline constexpr std::size_t default_max_message = 64 * 1024;

enum class op_code : std::uint8_t {
  req = 1, ///< Request (PEP -> PDP): in DQoS the CMTS announces its Client Handle
  dec = 2, ///< Decision (PDP -> PEP): carries gate commands
  rpt = 3, ///< Report State (PEP -> PDP): gate command answers, Gate-Open / Gate-Close
  drq = 4, ///< Delete Request State
  ssq = 5, ///< Synchronize State Request
  opn = 6, ///< Client-Open
  cat = 7, ///< Client-Accept
  cc = 8,  ///< Client-Close
  ka = 9,  ///< Keep-Alive
  ssc = 10 ///< Synchronize Complete
};
const char* to_string(op_code op);

enum class c_num : std::uint8_t {
  handle = 1,
  context = 2,
  in_interface = 3,
  out_interface = 4,
  reason = 5,
  decision = 6,
  lpdp_decision = 7,
  error = 8,
  client_si = 9,
  keepalive_timer = 10,
  pep_id = 11,
  report_type = 12,
  pdp_redirect_address = 13,
  last_pdp_address = 14,
  accounting_timer = 15,
  integrity = 16,
};

/// Common-header flag: the message was solicited by another COPS message.
inline constexpr std::uint8_t flag_solicited = 0x1;

/// Context R-Type "Configuration request": what the CMTS puts in its REQ and the GC in DEC.
inline constexpr std::uint16_t r_type_configuration = 8;

/// Decision-object C-Types.
inline constexpr std::uint8_t decision_flags = 1;
inline constexpr std::uint8_t decision_client_data = 4;

/// Decision command codes.
enum class command_code : std::uint16_t { null_decision = 0, install = 1, remove = 2 };

/// Report-Type values.
enum class report_type : std::uint16_t { success = 1, failure = 2, accounting = 3 };

/// Error-object codes (RFC 2748 section 2.2.8), the ones the gate controller and the simulator use.
enum class error_code : std::uint16_t {
  bad_handle = 1,
  invalid_handle_reference = 2,
  bad_message_format = 3,
  unable_to_process = 4,
  mandatory_client_si_missing = 5,
  unsupported_client = 6,
  mandatory_object_missing = 7,
  client_failure = 8,
  communication_failure = 9,
  unspecified = 10,
  shutting_down = 11,
};

/// One object: `data` is the body without the 4-byte header and without the alignment padding.
struct object {
  std::uint8_t c_num = 0;
  std::uint8_t c_type = 0;
  bytes data;
};

struct message {
  op_code op = op_code::ka;
  std::uint8_t flags = 0;
  std::uint16_t client_type = 0;
  std::vector<object> objects;

  /// First object with this C-Num and C-Type, or nullptr.
  const object* find(c_num n, std::uint8_t c_type) const;
};

/// Serialises a message: header, then each object padded to 32 bits.
bytes encode(const message& m);

/// Decodes exactly one message occupying all of [data, data+size).
decoded<message> decode(const std::uint8_t* data, std::size_t size,
                        std::size_t max_length = default_max_message);
inline decoded<message> decode(const bytes& b, std::size_t max_length = default_max_message) {
  return decode(b.data(), b.size(), max_length);
}

// ---- typed messages ----------------------------------------------------------------------------

struct context {
  std::uint16_t r_type = r_type_configuration;
  std::uint16_t m_type = 0;
  bool operator==(const context& o) const { return r_type == o.r_type && m_type == o.m_type; }
};

struct client_open {
  std::uint16_t client_type = client_type_dqos;
  std::string pep_id; ///< PEP Identification (carried NUL-terminated)
};

struct client_accept {
  std::uint16_t client_type = client_type_dqos;
  std::uint16_t keepalive_s = 0; ///< 0 means "no keep-alives" (infinity)
  std::optional<std::uint16_t> accounting_s;
};

struct client_close {
  std::uint16_t client_type = client_type_dqos;
  std::uint16_t error = 0;
  std::uint16_t error_subcode = 0;
};

struct request {
  std::uint16_t client_type = client_type_dqos;
  bytes handle;
  context ctx;
  bytes client_si; ///< Signaled ClientSI body; empty when absent
};

struct decision {
  std::uint16_t client_type = client_type_dqos;
  bytes handle;
  context ctx;
  command_code command = command_code::install;
  std::uint16_t flags = 0;
  bytes client_data; ///< Decision C-Type 4 (client-specific data); empty when absent
};

struct report {
  std::uint16_t client_type = client_type_dqos;
  bytes handle;
  report_type type = report_type::success;
  bytes client_si; ///< Signaled ClientSI body; empty when absent
  /// Header S flag: set on answers to a DEC, clear on unsolicited Gate-Open / Gate-Close.
  bool solicited = true;
};

struct delete_request {
  std::uint16_t client_type = client_type_dqos;
  bytes handle;
  std::uint16_t reason = 0;
  std::uint16_t reason_subcode = 0;
};

struct keep_alive {};

struct sync_request {
  std::uint16_t client_type = client_type_dqos;
  bytes handle; ///< empty: synchronise every handle
};

struct sync_complete {
  std::uint16_t client_type = client_type_dqos;
  bytes handle;
};

message to_message(const client_open& m);
message to_message(const client_accept& m);
message to_message(const client_close& m);
message to_message(const request& m);
message to_message(const decision& m);
message to_message(const report& m);
message to_message(const delete_request& m);
message to_message(const keep_alive& m);
message to_message(const sync_request& m);
message to_message(const sync_complete& m);

decoded<client_open> parse_client_open(const message& m);
decoded<client_accept> parse_client_accept(const message& m);
decoded<client_close> parse_client_close(const message& m);
decoded<request> parse_request(const message& m);
decoded<decision> parse_decision(const message& m);
decoded<report> parse_report(const message& m);
decoded<delete_request> parse_delete_request(const message& m);
decoded<keep_alive> parse_keep_alive(const message& m);
decoded<sync_request> parse_sync_request(const message& m);
decoded<sync_complete> parse_sync_complete(const message& m);

} // namespace cms::cops
