#pragma once
// PacketCable Event Message (PKT-SP-EM, ITU-T J.164): the 76-octet EM header carried in
// CableLabs-Event-Message (vendor 4491, type 1), the typed message, and its mapping onto the
// attributes of one RADIUS Accounting-Request.
//
// EM header layout (offsets as Wireshark dissect_packetcable_em_hdr reads them):
//    0  version 2            2  BCID 24             26  EM type 2        28  element type 2
//   30  element id 8 ASCII  38  time zone 8 ASCII   46  sequence 4       50  event time 18 ASCII
//   68  status 4            72  priority 1          73  attribute count 2  75  event object 1

#include "runtime/radius/bcid.hpp"
#include "runtime/radius/cablelabs_attributes.hpp"
#include "runtime/radius/packet.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::radius {

inline constexpr std::size_t em_header_size = 76;

/// EM types (both dictionaries and the dissector agree).
enum class em_type : std::uint16_t {
  signaling_start = 1,
  signaling_stop = 2,
  database_query = 3,
  intelligent_peripheral_usage_start = 4,
  intelligent_peripheral_usage_stop = 5,
  service_instance = 6,
  qos_reserve = 7,
  qos_release = 8,
  service_activation = 9,
  service_deactivation = 10,
  media_report = 11,
  signal_instance = 12,
  interconnect_signaling_start = 13,
  interconnect_signaling_stop = 14,
  call_answer = 15,
  call_disconnect = 16,
  time_change = 17,
  qos_commit = 19,
  media_alive = 20,
};

/// EM header element types (dissector value table).
enum class element_type : std::uint16_t { cms = 1, cmts = 2, mgc = 3, policy_server = 4 };

/// EM header status word: bits 0-1 error indicator, bit 2 event origin, bit 3 proxied.
namespace em_status {
inline constexpr std::uint32_t no_error = 0;
inline constexpr std::uint32_t possible_error = 1;
inline constexpr std::uint32_t known_error = 2;
inline constexpr std::uint32_t untrusted_origin = 1u << 2;
inline constexpr std::uint32_t proxied = 1u << 3;
} // namespace em_status

struct em_header {
  /// Not cross-checked against the spec text (the dissector accepts any value): 1 by default,
  /// settable for an RKS that expects another (see README).
  std::uint16_t version = 1;
  bcid billing_correlation_id;
  em_type type = em_type::signaling_start;
  std::uint16_t element_type = static_cast<std::uint16_t>(element_type::cms);
  std::string element_id;             ///< encoded right-justified, space-padded
  std::string time_zone = "0+000000"; ///< "D+hhmmss"
  std::uint32_t sequence = 0;         ///< per element, one per EM sent
  std::string event_time;             ///< 18 ASCII yyyymmddhhmmss.mmm (UTC)
  std::uint32_t status = em_status::no_error;
  std::uint8_t priority = 128; ///< mid-range default; 255 is the most urgent
  /// Number of CableLabs attributes after the header; encode_event_message() fills it in.
  std::uint16_t attribute_count = 0;
  std::uint8_t event_object = 0;
};

/// "yyyymmddhhmmss.mmm" of `t` in UTC.
std::string format_event_time(std::chrono::system_clock::time_point t);

/// Throws std::invalid_argument on a field that does not fit (element id > 8, bad time zone,
/// event time not 18 characters).
std::array<std::uint8_t, em_header_size> encode_em_header(const em_header& h);
/// Exactly 76 octets with printable ASCII fields; nullopt and *error otherwise.
std::optional<em_header> decode_em_header(byte_view data, std::string* error = nullptr);

struct event_message {
  em_header header;
  std::vector<cl_attribute> attributes; ///< in the order they go on the wire
};

/// Acct-Status-Type for an EM type. RFC 2866 makes the attribute mandatory and FreeRADIUS will
/// not account a request without it. Mapping chosen here (README): the events that open a call
/// leg (Signaling_Start, Interconnect_Signaling_Start) are Start, the ones that close it
/// (Signaling_Stop, Interconnect_Signaling_Stop) are Stop, every other EM is Interim-Update.
acct_status acct_status_for(em_type t);

/// What the sending element adds around the EM.
struct em_envelope {
  /// NAS-IP-Address (RFC 2866 requires NAS-IP-Address or NAS-Identifier); 0 = omit.
  std::uint32_t nas_ip_v4 = 0;
};

/// The RADIUS attributes of one EM: Acct-Status-Type, NAS-IP-Address, Acct-Session-Id (the BCID
/// in hex, so all EMs of a call share a session), then CableLabs-Event-Message and each typed
/// CableLabs attribute as its own Vendor-Specific attribute. Sets header.attribute_count.
std::vector<attribute> encode_event_message(const event_message& em, const em_envelope& env = {});

/// The reverse, for tests and tools: reads the EM header and CableLabs VSAs of a decoded packet.
std::optional<event_message> decode_event_message(const packet& p, std::string* error = nullptr);

} // namespace cms::radius
