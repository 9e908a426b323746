#pragma once
// CableLabs (vendor 4491) attributes of an Event Message: their numbers and the octets of the
// structured ones. Numbers checked against BOTH /usr/share/freeradius/dictionary.cablelabs
// (FreeRADIUS 3.2.1) and /usr/share/wireshark/radius/dictionary.cablelabs (Wireshark 4.0.17);
// they agree on every number used here (Wireshark only adds 74-75 and 82-98). Structured layouts
// follow Wireshark's packet-radius_packetcable.c, since FreeRADIUS types them plain `octets`.
// See runtime/radius/README.md for the differences and the choices made.

#include "runtime/radius/bcid.hpp"
#include "runtime/radius/bytes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::radius {

inline constexpr std::uint32_t cablelabs_vendor_id = 4491;

/// Vendor-type numbers (both dictionaries). Note: Routing-Number is 25 and
/// Carrier-Identification-Code 23 (7 is Query-Type, 25 is not CIC).
enum class cl_attr : std::uint8_t {
  event_message = 1,           ///< the 76-octet EM header
  mta_endpoint_name = 3,       ///< string
  calling_party_number = 4,    ///< string
  called_party_number = 5,     ///< string
  database_id = 6,             ///< string
  query_type = 7,              ///< integer
  returned_number = 9,         ///< string
  call_termination_cause = 11, ///< octets: source document 2 + cause code 4
  related_call_bcid = 13,      ///< octets: a BCID (24), "Related-Call-Billing-Crl-ID"
  first_call_calling_party_number = 14,
  second_call_calling_party_number = 15,
  charge_number = 16,               ///< string
  forwarded_number = 17,            ///< string
  service_name = 18,                ///< string
  intl_code = 20,                   ///< string
  dial_around_code = 21,            ///< string
  location_routing_number = 22,     ///< string
  carrier_identification_code = 23, ///< string
  trunk_group_id = 24,              ///< octets: trunk type 2 + trunk number 4
  routing_number = 25,              ///< string
  mta_udp_portnum = 26,             ///< integer
  channel_state = 29,               ///< integer
  sf_id = 30,                       ///< integer
  error_description = 31,           ///< string
  qos_descriptor = 32,              ///< octets: status bitmask 4, class name 16, 4 per flag
  direction_indicator = 37,         ///< integer: 1 originating, 2 terminating
  time_adjustment = 38,             ///< octets: 8, signed milliseconds (Wireshark: uint64)
  sdp_upstream = 39,
  sdp_downstream = 40,
  user_input = 41,
  translation_input = 42,
  redirected_from_info = 43, ///< octets: last redirecting 20, original called 20, count 2
  redirected_from_party_number = 45,
  redirected_to_party_number = 46,
  financial_entity_id = 49, ///< string
  flow_direction = 50,      ///< integer
  dialed_digits = 56,       ///< string
  misc_signaling_information = 57,
  account_code = 80,
  authorization_code = 81,
};

/// One CableLabs attribute: its vendor type and value octets (at most 247, the VSA limit).
struct cl_attribute {
  std::uint8_t type = 0;
  bytes value;
  friend bool operator==(const cl_attribute& a, const cl_attribute& b) {
    return a.type == b.type && a.value == b.value;
  }
};

/// CableLabs-Direction-indicator values.
enum class direction : std::uint32_t { undefined = 0, originating = 1, terminating = 2 };

struct call_termination_cause {
  /// 1 = BAF (Bellcore AMA Format), the one source document the dissector names.
  std::uint16_t source_document = 1;
  std::uint32_t cause_code = 0;
};

struct trunk_group_id {
  /// 9 = signaling type not specified; 3 = SS7 direct trunk group member (see the dissector).
  std::uint16_t trunk_type = 9;
  std::uint32_t trunk_number = 0;
};

struct redirected_from_info {
  std::string last_redirecting_party; ///< up to 20 ASCII, space-padded on the right
  std::string original_called_party;  ///< up to 20 ASCII, space-padded on the right
  std::uint16_t number_of_redirections = 0;
};

struct qos_descriptor {
  /// bits 0-1: state indication; bits 2..17: which parameters follow (Wireshark mask order).
  std::uint32_t status_bitmask = 0;
  std::string service_class_name;        ///< up to 16 ASCII, NUL-padded
  std::vector<std::uint32_t> parameters; ///< one per set flag bit 2..17, in bit order
};

namespace attr {
/// String attributes: throw std::invalid_argument above 247 octets.
cl_attribute string(cl_attr type, std::string_view value);
cl_attribute integer(cl_attr type, std::uint32_t value);
cl_attribute mta_endpoint_name(std::string_view v);
cl_attribute calling_party_number(std::string_view v);
cl_attribute called_party_number(std::string_view v);
cl_attribute routing_number(std::string_view v);
cl_attribute charge_number(std::string_view v);
cl_attribute service_name(std::string_view v);
cl_attribute carrier_identification_code(std::string_view v);
cl_attribute financial_entity_id(std::string_view v);
cl_attribute dialed_digits(std::string_view v);
cl_attribute redirected_from_party_number(std::string_view v);
cl_attribute redirected_to_party_number(std::string_view v);
cl_attribute direction_indicator(direction d);
cl_attribute termination_cause(const call_termination_cause& c);
cl_attribute trunk_group(const trunk_group_id& t);
cl_attribute related_call_bcid(const bcid& id);
/// Time_Change: the clock step in milliseconds (signed, 8 octets two's complement).
cl_attribute time_adjustment(std::int64_t milliseconds);
cl_attribute redirected_from(const redirected_from_info& r);
cl_attribute qos(const qos_descriptor& q);
} // namespace attr

/// Typed readers for the structured values; nullopt when the octets do not fit the layout.
std::optional<call_termination_cause> decode_termination_cause(byte_view v);
std::optional<trunk_group_id> decode_trunk_group(byte_view v);
std::optional<std::int64_t> decode_time_adjustment(byte_view v);
std::optional<redirected_from_info> decode_redirected_from(byte_view v);
std::optional<qos_descriptor> decode_qos(byte_view v);

} // namespace cms::radius
