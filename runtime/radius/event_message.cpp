#include "runtime/radius/event_message.hpp"

#include <ctime>
#include <stdexcept>

namespace cms::radius {

namespace {

bool printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e)
      return false;
  return true;
}

} // namespace

std::string format_event_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto secs = time_point_cast<seconds>(t);
  if (secs > t)
    secs -= seconds{1};
  auto ms = duration_cast<milliseconds>(t - secs).count();
  std::time_t tt = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::array<std::uint8_t, em_header_size> encode_em_header(const em_header& h) {
  if (h.event_time.size() != 18 || !printable(h.event_time))
    throw std::invalid_argument("EM event time must be 18 ASCII characters yyyymmddhhmmss.mmm");
  if (!valid_time_zone(h.time_zone))
    throw std::invalid_argument("EM time zone must look like 0+000000");
  bytes out;
  out.reserve(em_header_size);
  put_u16(out, h.version);
  h.billing_correlation_id.encode_to(out);
  put_u16(out, static_cast<std::uint16_t>(h.type));
  put_u16(out, h.element_type);
  put_ascii(out, format_element_id(h.element_id));
  put_ascii(out, h.time_zone);
  put_u32(out, h.sequence);
  put_ascii(out, h.event_time);
  put_u32(out, h.status);
  put_u8(out, h.priority);
  put_u16(out, h.attribute_count);
  put_u8(out, h.event_object);
  std::array<std::uint8_t, em_header_size> arr{};
  std::copy(out.begin(), out.end(), arr.begin());
  return arr;
}

std::optional<em_header> decode_em_header(byte_view d, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<em_header> {
    if (error)
      *error = why;
    return std::nullopt;
  };
  if (d.size() != em_header_size)
    return fail("EM header is not 76 octets");
  em_header h;
  h.version = get_u16(d.data());
  std::string bcid_error;
  auto id = bcid::decode(d.subspan(2, bcid_size), &bcid_error);
  if (!id)
    return fail(bcid_error);
  h.billing_correlation_id = *id;
  h.type = static_cast<em_type>(get_u16(d.data() + 26));
  h.element_type = get_u16(d.data() + 28);
  h.element_id = get_ascii(d.data() + 30, 8);
  h.time_zone = get_ascii(d.data() + 38, 8);
  h.sequence = get_u32(d.data() + 46);
  h.event_time = get_ascii(d.data() + 50, 18);
  h.status = get_u32(d.data() + 68);
  h.priority = d[72];
  h.attribute_count = get_u16(d.data() + 73);
  h.event_object = d[75];
  if (!printable(h.element_id) || !printable(h.time_zone) || !printable(h.event_time))
    return fail("EM header ASCII field holds a non-printable octet");
  return h;
}

acct_status acct_status_for(em_type t) {
  switch (t) {
  case em_type::signaling_start:
  case em_type::interconnect_signaling_start:
    return acct_status::start;
  case em_type::signaling_stop:
  case em_type::interconnect_signaling_stop:
    return acct_status::stop;
  default:
    return acct_status::interim_update;
  }
}

std::vector<attribute> encode_event_message(const event_message& em, const em_envelope& env) {
  if (em.attributes.size() > 0xffff)
    throw std::invalid_argument("too many EM attributes");
  em_header h = em.header;
  h.attribute_count = static_cast<std::uint16_t>(em.attributes.size());
  auto header = encode_em_header(h);
  std::vector<attribute> out;
  out.reserve(em.attributes.size() + 4);
  out.push_back(
    make_u32(attr_type::acct_status_type, static_cast<std::uint32_t>(acct_status_for(h.type))));
  if (env.nas_ip_v4 != 0)
    out.push_back(make_u32(attr_type::nas_ip_address, env.nas_ip_v4));
  out.push_back(make_string(attr_type::acct_session_id, h.billing_correlation_id.hex()));
  out.push_back(make_vsa(cablelabs_vendor_id, static_cast<std::uint8_t>(cl_attr::event_message),
                         byte_view{header.data(), header.size()}));
  for (const auto& a : em.attributes)
    out.push_back(make_vsa(cablelabs_vendor_id, a.type, byte_view{a.value.data(), a.value.size()}));
  return out;
}

std::optional<event_message> decode_event_message(const packet& p, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<event_message> {
    if (error)
      *error = why;
    return std::nullopt;
  };
  event_message em;
  bool have_header = false;
  for (const auto& a : p.attributes) {
    if (a.type != attr_type::vendor_specific)
      continue;
    if (a.value.size() < 6)
      return fail("Vendor-Specific shorter than 6 octets");
    if (get_u32(a.value.data()) != cablelabs_vendor_id)
      continue;
    std::uint8_t vtype = a.value[4];
    std::size_t vlen = a.value[5];
    if (vlen < 2 || vlen != a.value.size() - 4)
      return fail("CableLabs sub-attribute length does not match the VSA");
    byte_view value{a.value.data() + 6, vlen - 2};
    if (vtype == static_cast<std::uint8_t>(cl_attr::event_message)) {
      std::string why;
      auto h = decode_em_header(value, &why);
      if (!h)
        return fail(why);
      em.header = *h;
      have_header = true;
    } else {
      em.attributes.push_back(cl_attribute{vtype, bytes(value.begin(), value.end())});
    }
  }
  if (!have_header)
    return fail("no CableLabs-Event-Message attribute");
  return em;
}

} // namespace cms::radius
