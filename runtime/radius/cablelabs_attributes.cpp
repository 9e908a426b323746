#include "runtime/radius/cablelabs_attributes.hpp"

#include <stdexcept>

namespace cms::radius {

namespace {

/// 255 (attribute length) - 2 (type, length) - 4 (vendor id) - 2 (vendor type, length).
constexpr std::size_t max_vsa_value = 247;

cl_attribute make(cl_attr type, bytes value) {
  if (value.size() > max_vsa_value)
    throw std::invalid_argument("CableLabs attribute value longer than 247 octets");
  return cl_attribute{static_cast<std::uint8_t>(type), std::move(value)};
}

/// Fixed-width ASCII, padded on the right (the dissector prints these fields as fixed strings).
void put_padded(bytes& out, std::string_view s, std::size_t width, char pad) {
  if (s.size() > width)
    throw std::invalid_argument("field longer than " + std::to_string(width) + " octets");
  put_ascii(out, s);
  out.insert(out.end(), width - s.size(), static_cast<std::uint8_t>(pad));
}

std::string trim_right(std::string s, char pad) {
  while (!s.empty() && s.back() == pad)
    s.pop_back();
  return s;
}

} // namespace

namespace attr {

cl_attribute string(cl_attr type, std::string_view value) {
  return make(type, bytes(value.begin(), value.end()));
}
cl_attribute integer(cl_attr type, std::uint32_t value) {
  bytes v;
  put_u32(v, value);
  return make(type, std::move(v));
}
cl_attribute mta_endpoint_name(std::string_view v) { return string(cl_attr::mta_endpoint_name, v); }
cl_attribute calling_party_number(std::string_view v) {
  return string(cl_attr::calling_party_number, v);
}
cl_attribute called_party_number(std::string_view v) {
  return string(cl_attr::called_party_number, v);
}
cl_attribute routing_number(std::string_view v) { return string(cl_attr::routing_number, v); }
cl_attribute charge_number(std::string_view v) { return string(cl_attr::charge_number, v); }
cl_attribute service_name(std::string_view v) { return string(cl_attr::service_name, v); }
cl_attribute carrier_identification_code(std::string_view v) {
  return string(cl_attr::carrier_identification_code, v);
}
cl_attribute financial_entity_id(std::string_view v) {
  return string(cl_attr::financial_entity_id, v);
}
cl_attribute dialed_digits(std::string_view v) { return string(cl_attr::dialed_digits, v); }
cl_attribute redirected_from_party_number(std::string_view v) {
  return string(cl_attr::redirected_from_party_number, v);
}
cl_attribute redirected_to_party_number(std::string_view v) {
  return string(cl_attr::redirected_to_party_number, v);
}
cl_attribute direction_indicator(direction d) {
  return integer(cl_attr::direction_indicator, static_cast<std::uint32_t>(d));
}
cl_attribute termination_cause(const call_termination_cause& c) {
  bytes v;
  put_u16(v, c.source_document);
  put_u32(v, c.cause_code);
  return make(cl_attr::call_termination_cause, std::move(v));
}
cl_attribute trunk_group(const trunk_group_id& t) {
  bytes v;
  put_u16(v, t.trunk_type);
  put_u32(v, t.trunk_number);
  return make(cl_attr::trunk_group_id, std::move(v));
}
cl_attribute related_call_bcid(const bcid& id) {
  bytes v;
  id.encode_to(v);
  return make(cl_attr::related_call_bcid, std::move(v));
}
cl_attribute time_adjustment(std::int64_t milliseconds) {
  bytes v;
  put_u64(v, static_cast<std::uint64_t>(milliseconds));
  return make(cl_attr::time_adjustment, std::move(v));
}
cl_attribute redirected_from(const redirected_from_info& r) {
  bytes v;
  put_padded(v, r.last_redirecting_party, 20, ' ');
  put_padded(v, r.original_called_party, 20, ' ');
  put_u16(v, r.number_of_redirections);
  return make(cl_attr::redirected_from_info, std::move(v));
}
cl_attribute qos(const qos_descriptor& q) {
  std::size_t flags = 0;
  for (int bit = 2; bit <= 17; ++bit)
    if (q.status_bitmask & (1u << bit))
      ++flags;
  if (flags != q.parameters.size())
    throw std::invalid_argument("QoS-Descriptor: one parameter per set flag bit required");
  bytes v;
  put_u32(v, q.status_bitmask);
  put_padded(v, q.service_class_name, 16, '\0');
  for (auto p : q.parameters)
    put_u32(v, p);
  return make(cl_attr::qos_descriptor, std::move(v));
}

} // namespace attr

std::optional<call_termination_cause> decode_termination_cause(byte_view v) {
  if (v.size() != 6)
    return std::nullopt;
  return call_termination_cause{get_u16(v.data()), get_u32(v.data() + 2)};
}

std::optional<trunk_group_id> decode_trunk_group(byte_view v) {
  if (v.size() != 6)
    return std::nullopt;
  return trunk_group_id{get_u16(v.data()), get_u32(v.data() + 2)};
}

std::optional<std::int64_t> decode_time_adjustment(byte_view v) {
  if (v.size() != 8)
    return std::nullopt;
  return static_cast<std::int64_t>(get_u64(v.data()));
}

std::optional<redirected_from_info> decode_redirected_from(byte_view v) {
  if (v.size() != 42)
    return std::nullopt;
  redirected_from_info r;
  r.last_redirecting_party = trim_right(get_ascii(v.data(), 20), ' ');
  r.original_called_party = trim_right(get_ascii(v.data() + 20, 20), ' ');
  r.number_of_redirections = get_u16(v.data() + 40);
  return r;
}

std::optional<qos_descriptor> decode_qos(byte_view v) {
  if (v.size() < 20)
    return std::nullopt;
  qos_descriptor q;
  q.status_bitmask = get_u32(v.data());
  q.service_class_name = trim_right(get_ascii(v.data() + 4, 16), '\0');
  std::size_t off = 20;
  for (int bit = 2; bit <= 17; ++bit) {
    if (!(q.status_bitmask & (1u << bit)))
      continue;
    if (off + 4 > v.size())
      return std::nullopt;
    q.parameters.push_back(get_u32(v.data() + off));
    off += 4;
  }
  if (off != v.size())
    return std::nullopt;
  return q;
}

} // namespace cms::radius
