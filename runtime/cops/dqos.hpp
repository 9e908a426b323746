#pragma once
// PacketCable DQoS (PKT-SP-DQOS-I12) objects carried inside COPS client type 0x8008: in a DEC's
// client-specific Decision object (C-Num 6, C-Type 4) from the gate controller, in an RPT's
// ClientSI object (C-Num 9, C-Type 1) from the CMTS. Each object is <length 2><S-Num 1><S-Type 1>
// <body>, lengths include the 4-byte header and are multiples of 4.

#include "runtime/cops/bytes.hpp"
#include "runtime/cops/decode_result.hpp"
#include "runtime/cops/message.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::cops {

/// S-Num (high byte) / S-Type (low byte) of the DQoS objects.
namespace snum {
inline constexpr std::uint16_t transaction_id = 0x0101;
inline constexpr std::uint16_t subscriber_ipv4 = 0x0201;
inline constexpr std::uint16_t subscriber_ipv6 = 0x0202;
inline constexpr std::uint16_t gate_id = 0x0301;
inline constexpr std::uint16_t activity_count = 0x0401;
inline constexpr std::uint16_t gate_spec = 0x0501;
inline constexpr std::uint16_t remote_gate_info = 0x0601;
inline constexpr std::uint16_t event_generation_info = 0x0701;
inline constexpr std::uint16_t media_connection_event_info = 0x0801;
inline constexpr std::uint16_t packetcable_error = 0x0901;
inline constexpr std::uint16_t electronic_surveillance = 0x0a01;
inline constexpr std::uint16_t packetcable_reason = 0x0d01;
} // namespace snum

/// Body sizes (without the 4-byte object header) of the fixed-size objects we read and write.
inline constexpr std::size_t gate_spec_body = 56;
inline constexpr std::size_t event_generation_info_body = 40;

enum class gate_command_type : std::uint16_t {
  gate_alloc = 1,
  alloc_ack = 2,
  alloc_err = 3,
  gate_set = 4,
  set_ack = 5,
  set_err = 6,
  gate_info = 7,
  info_ack = 8,
  info_err = 9,
  gate_delete = 10,
  delete_ack = 11,
  delete_err = 12,
  gate_open = 13,
  gate_close = 14,
};
const char* to_string(gate_command_type t);

/// Commands the gate controller sends (in a DEC); the CMTS answers each with <cmd>+1 (ack) or
/// <cmd>+2 (err).
bool is_request(gate_command_type t);
bool is_ack(gate_command_type t);
bool is_err(gate_command_type t);
/// Gate-Open / Gate-Close: sent by the CMTS on its own.
bool is_unsolicited(gate_command_type t);
/// The ack / err answering a request type.
gate_command_type ack_of(gate_command_type request);
gate_command_type err_of(gate_command_type request);
/// The request an ack / err answers (identity for requests).
gate_command_type request_of(gate_command_type answer);

/// PacketCable Error codes (DQoS).
enum class pc_error : std::uint16_t {
  no_gates_available = 1,
  unknown_gate_id = 2,
  illegal_session_class = 3,
  subscriber_gate_limit = 4,
  gate_already_set = 5,
  missing_required_object = 6,
  invalid_object = 7,
  unspecified = 127,
};

enum class gate_direction : std::uint8_t { downstream = 0, upstream = 1 };

/// One direction's authorisation: the classifier (addresses, ports, protocol), DSCP marking,
/// gate timers and the RSVP-style flowspec (token bucket r, b, p, m, M and RSpec R, S).
struct gate_spec {
  gate_direction direction = gate_direction::downstream;
  std::uint8_t protocol = 17; ///< IP protocol of the classifier (17 = UDP)
  std::uint8_t flags = 0;
  std::uint8_t session_class = 1; ///< 1 normal-priority VoIP, 2 high-priority VoIP
  std::uint32_t src_ip = 0;       ///< host order; 0 = wildcard
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = 0; ///< 0 = wildcard
  std::uint16_t dst_port = 0;
  std::uint8_t dscp_tos = 0; ///< DS field to mark
  std::uint16_t t1_s = 0;    ///< authorisation timer: reserved-not-committed limit
  std::uint16_t t7_s = 0;    ///< reservation timer
  std::uint16_t t8_s = 0;    ///< upstream inactivity timer
  float r = 0;               ///< token bucket rate, bytes/s
  float b = 0;               ///< token bucket size, bytes
  float p = 0;               ///< peak rate, bytes/s
  std::uint32_t m = 0;       ///< minimum policed unit, bytes
  std::uint32_t M = 0;       ///< maximum packet size, bytes
  float R = 0;               ///< RSpec rate
  std::uint32_t S = 0;       ///< RSpec slack term, microseconds

  bool operator==(const gate_spec& o) const;
};

/// Billing Correlation ID: carried opaque here (timestamp 4, element id 8, time zone 8,
/// event counter 4); the RADIUS side gives it meaning.
using bcid = std::array<std::uint8_t, 24>;

/// Where the CMTS sends its QoS event messages and under which BCID.
struct event_generation_info {
  std::uint32_t primary_rks_ip = 0; ///< host order
  std::uint16_t primary_rks_port = 0;
  std::uint8_t flags = 0;
  std::uint32_t secondary_rks_ip = 0;
  std::uint16_t secondary_rks_port = 0;
  cms::cops::bcid bcid{};

  bool operator==(const event_generation_info& o) const;
};

struct packetcable_error {
  std::uint16_t code = 0;
  std::uint16_t subcode = 0;
  bool operator==(const packetcable_error& o) const {
    return code == o.code && subcode == o.subcode;
  }
};

/// Why a gate was closed or deleted (S-Num 13): code 0 Gate-Delete, 1 Gate-Close; the subcode
/// says which timer or event (e.g. close subcode 5 = T1 expired, 7 = T8 inactivity).
struct packetcable_reason {
  std::uint16_t code = 0;
  std::uint16_t subcode = 0;
  bool operator==(const packetcable_reason& o) const {
    return code == o.code && subcode == o.subcode;
  }
};

/// One DQoS gate command or answer, as the gate controller and the simulator handle it.
struct gate_command {
  gate_command_type command = gate_command_type::gate_set;
  std::uint16_t transaction_id = 0;
  std::optional<std::uint32_t> subscriber; ///< MTA IPv4 address, host order
  std::optional<std::uint32_t> gate_id;
  std::optional<std::uint32_t> activity_count; ///< gates the subscriber may hold / holds
  std::vector<gate_spec> gate_specs;           ///< up to two: one per direction
  std::optional<event_generation_info> event_generation;
  std::optional<packetcable_error> error;
  std::optional<packetcable_reason> reason;
};

/// The PacketCable object sequence (what goes inside the Decision / ClientSI object).
bytes encode_objects(const gate_command& c);
/// Strict: every object must be well-formed and the known ones exactly sized; unknown S-Nums
/// (Remote Gate Info, Electronic Surveillance...) are skipped; a Transaction ID is mandatory.
decoded<gate_command> decode_objects(const std::uint8_t* data, std::size_t size);

/// Names the objects this command type must carry and does not; empty when complete.
std::string missing_objects(const gate_command& c);

/// A gate command as a DEC toward the CMTS holding `handle` (Context R-Type 8, Install).
message to_decision(const gate_command& c, const bytes& handle);
/// An answer / event as an RPT: acks Success, errs Failure, Gate-Open / Gate-Close Accounting
/// (unsolicited, so without the S flag).
message to_report(const gate_command& c, const bytes& handle);
/// The gate command inside a DQoS DEC or RPT (client type 0x8008 required).
decoded<gate_command> gate_command_from(const message& m);

/// IPv4 dotted quad <-> host-order integer, for configuration and JSON.
std::string ipv4_to_string(std::uint32_t ip);
std::optional<std::uint32_t> ipv4_from_string(const std::string& text);

} // namespace cms::cops
