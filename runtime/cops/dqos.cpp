#include "runtime/cops/dqos.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <cstring>

namespace cms::cops {

const char* to_string(gate_command_type t) {
  switch (t) {
  case gate_command_type::gate_alloc:
    return "Gate-Alloc";
  case gate_command_type::alloc_ack:
    return "Gate-Alloc-Ack";
  case gate_command_type::alloc_err:
    return "Gate-Alloc-Err";
  case gate_command_type::gate_set:
    return "Gate-Set";
  case gate_command_type::set_ack:
    return "Gate-Set-Ack";
  case gate_command_type::set_err:
    return "Gate-Set-Err";
  case gate_command_type::gate_info:
    return "Gate-Info";
  case gate_command_type::info_ack:
    return "Gate-Info-Ack";
  case gate_command_type::info_err:
    return "Gate-Info-Err";
  case gate_command_type::gate_delete:
    return "Gate-Delete";
  case gate_command_type::delete_ack:
    return "Gate-Delete-Ack";
  case gate_command_type::delete_err:
    return "Gate-Delete-Err";
  case gate_command_type::gate_open:
    return "Gate-Open";
  case gate_command_type::gate_close:
    return "Gate-Close";
  }
  return "?";
}

namespace {
std::uint16_t raw(gate_command_type t) { return static_cast<std::uint16_t>(t); }
} // namespace

// Requests are 1, 4, 7, 10; their ack follows at +1 and their err at +2.
bool is_request(gate_command_type t) { return raw(t) <= 12 && raw(t) % 3 == 1; }
bool is_ack(gate_command_type t) { return raw(t) <= 12 && raw(t) % 3 == 2; }
bool is_err(gate_command_type t) { return raw(t) <= 12 && raw(t) % 3 == 0; }
bool is_unsolicited(gate_command_type t) {
  return t == gate_command_type::gate_open || t == gate_command_type::gate_close;
}
gate_command_type ack_of(gate_command_type r) { return static_cast<gate_command_type>(raw(r) + 1); }
gate_command_type err_of(gate_command_type r) { return static_cast<gate_command_type>(raw(r) + 2); }
gate_command_type request_of(gate_command_type a) {
  if (is_ack(a))
    return static_cast<gate_command_type>(raw(a) - 1);
  if (is_err(a))
    return static_cast<gate_command_type>(raw(a) - 2);
  return a;
}

namespace {
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }
} // namespace

bool gate_spec::operator==(const gate_spec& o) const {
  return direction == o.direction && protocol == o.protocol && flags == o.flags &&
         session_class == o.session_class && src_ip == o.src_ip && dst_ip == o.dst_ip &&
         src_port == o.src_port && dst_port == o.dst_port && dscp_tos == o.dscp_tos &&
         t1_s == o.t1_s && t7_s == o.t7_s && t8_s == o.t8_s && same_bits(r, o.r) &&
         same_bits(b, o.b) && same_bits(p, o.p) && m == o.m && M == o.M && same_bits(R, o.R) &&
         S == o.S;
}

bool event_generation_info::operator==(const event_generation_info& o) const {
  return primary_rks_ip == o.primary_rks_ip && primary_rks_port == o.primary_rks_port &&
         flags == o.flags && secondary_rks_ip == o.secondary_rks_ip &&
         secondary_rks_port == o.secondary_rks_port && bcid == o.bcid;
}

namespace {

/// Writes one S-Num object: the length is patched in once the body is written.
template <class Body>
void put_object(byte_writer& w, std::uint16_t snum_stype, Body body) {
  const std::size_t at = w.size();
  w.u16(0);
  w.u16(snum_stype);
  body();
  w.patch_u16(at, static_cast<std::uint16_t>(w.size() - at));
}

void put_gate_spec(byte_writer& w, const gate_spec& g) {
  w.u8(static_cast<std::uint8_t>(g.direction));
  w.u8(g.protocol);
  w.u8(g.flags);
  w.u8(g.session_class);
  w.u32(g.src_ip);
  w.u32(g.dst_ip);
  w.u16(g.src_port);
  w.u16(g.dst_port);
  w.u8(g.dscp_tos);
  w.zeros(3);
  w.u16(g.t1_s);
  w.u16(0); // reserved
  w.u16(g.t7_s);
  w.u16(g.t8_s);
  w.f32(g.r);
  w.f32(g.b);
  w.f32(g.p);
  w.u32(g.m);
  w.u32(g.M);
  w.f32(g.R);
  w.u32(g.S);
}

gate_spec get_gate_spec(byte_reader& r) {
  gate_spec g;
  g.direction = static_cast<gate_direction>(r.u8());
  g.protocol = r.u8();
  g.flags = r.u8();
  g.session_class = r.u8();
  g.src_ip = r.u32();
  g.dst_ip = r.u32();
  g.src_port = r.u16();
  g.dst_port = r.u16();
  g.dscp_tos = r.u8();
  r.skip(3);
  g.t1_s = r.u16();
  r.skip(2);
  g.t7_s = r.u16();
  g.t8_s = r.u16();
  g.r = r.f32();
  g.b = r.f32();
  g.p = r.f32();
  g.m = r.u32();
  g.M = r.u32();
  g.R = r.f32();
  g.S = r.u32();
  return g;
}

void put_egi(byte_writer& w, const event_generation_info& e) {
  w.u32(e.primary_rks_ip);
  w.u16(e.primary_rks_port);
  w.u8(e.flags);
  w.u8(0);
  w.u32(e.secondary_rks_ip);
  w.u16(e.secondary_rks_port);
  w.u16(0);
  w.raw(e.bcid.data(), e.bcid.size());
}

event_generation_info get_egi(byte_reader& r) {
  event_generation_info e;
  e.primary_rks_ip = r.u32();
  e.primary_rks_port = r.u16();
  e.flags = r.u8();
  r.skip(1);
  e.secondary_rks_ip = r.u32();
  e.secondary_rks_port = r.u16();
  r.skip(2);
  e.bcid = r.array<24>();
  return e;
}

std::string hex16(std::uint16_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x0000";
  for (int i = 0; i < 4; ++i)
    s[5 - i] = digits[(v >> (4 * i)) & 0xf];
  return s;
}

} // namespace

bytes encode_objects(const gate_command& c) {
  bytes out;
  byte_writer w{out};
  put_object(w, snum::transaction_id, [&] {
    w.u16(c.transaction_id);
    w.u16(static_cast<std::uint16_t>(c.command));
  });
  if (c.subscriber)
    put_object(w, snum::subscriber_ipv4, [&] { w.u32(*c.subscriber); });
  if (c.gate_id)
    put_object(w, snum::gate_id, [&] { w.u32(*c.gate_id); });
  if (c.activity_count)
    put_object(w, snum::activity_count, [&] { w.u32(*c.activity_count); });
  for (const auto& g : c.gate_specs)
    put_object(w, snum::gate_spec, [&] { put_gate_spec(w, g); });
  if (c.event_generation)
    put_object(w, snum::event_generation_info, [&] { put_egi(w, *c.event_generation); });
  if (c.error)
    put_object(w, snum::packetcable_error, [&] {
      w.u16(c.error->code);
      w.u16(c.error->subcode);
    });
  if (c.reason)
    put_object(w, snum::packetcable_reason, [&] {
      w.u16(c.reason->code);
      w.u16(c.reason->subcode);
    });
  return out;
}

decoded<gate_command> decode_objects(const std::uint8_t* data, std::size_t size) {
  gate_command c;
  bool have_tid = false;
  byte_reader r{data, data == nullptr ? 0 : size};
  while (r.remaining() > 0) {
    if (r.remaining() < object_header_size)
      return {decode_error::bad_object_length, "trailing bytes shorter than an object header"};
    const std::uint16_t len = r.u16();
    const std::uint16_t kind = r.u16();
    if (len < object_header_size || len % 4 != 0 || len - object_header_size > r.remaining())
      return {decode_error::bad_object_length,
              "PacketCable object " + hex16(kind) + " length " + std::to_string(len)};
    const std::size_t body = len - object_header_size;
    byte_reader b{r.current(), body};
    r.skip(body);
    auto exact = [&](std::size_t n) { return body == n; };
    auto wrong_size = [&] {
      return decoded<gate_command>{decode_error::bad_object, "PacketCable object " + hex16(kind) +
                                                               " has a " + std::to_string(body) +
                                                               "-byte body"};
    };
    switch (kind) {
    case snum::transaction_id: {
      if (!exact(4))
        return wrong_size();
      c.transaction_id = b.u16();
      const std::uint16_t cmd = b.u16();
      if (cmd < 1 || cmd > 14)
        return {decode_error::bad_object, "gate command type " + std::to_string(cmd)};
      c.command = static_cast<gate_command_type>(cmd);
      have_tid = true;
      break;
    }
    case snum::subscriber_ipv4:
      if (!exact(4))
        return wrong_size();
      c.subscriber = b.u32();
      break;
    case snum::subscriber_ipv6:
      return {decode_error::bad_object, "IPv6 Subscriber ID is not supported"};
    case snum::gate_id:
      if (!exact(4))
        return wrong_size();
      c.gate_id = b.u32();
      break;
    case snum::activity_count:
      if (!exact(4))
        return wrong_size();
      c.activity_count = b.u32();
      break;
    case snum::gate_spec: {
      if (!exact(gate_spec_body))
        return wrong_size();
      if (c.gate_specs.size() == 2)
        return {decode_error::bad_object, "more than two Gate Specs"};
      auto g = get_gate_spec(b);
      if (static_cast<std::uint8_t>(g.direction) > 1)
        return {decode_error::bad_object,
                "gate direction " + std::to_string(static_cast<int>(g.direction))};
      c.gate_specs.push_back(g);
      break;
    }
    case snum::event_generation_info:
      if (!exact(event_generation_info_body))
        return wrong_size();
      c.event_generation = get_egi(b);
      break;
    case snum::packetcable_error:
      if (!exact(4))
        return wrong_size();
      c.error = packetcable_error{b.u16(), b.u16()};
      break;
    case snum::packetcable_reason:
      if (!exact(4))
        return wrong_size();
      c.reason = packetcable_reason{b.u16(), b.u16()};
      break;
    default:
      break; // well-formed but not used by this gate controller: skipped
    }
    if (!b.ok())
      return wrong_size();
  }
  if (!have_tid)
    return {decode_error::missing_object, "no Transaction ID"};
  return c;
}

std::string missing_objects(const gate_command& c) {
  std::string out;
  auto need = [&](bool present, const char* name) {
    if (!present)
      out += out.empty() ? name : std::string(", ") + name;
  };
  using t = gate_command_type;
  switch (c.command) {
  case t::gate_alloc:
    need(c.subscriber.has_value(), "Subscriber ID");
    need(c.activity_count.has_value(), "Activity Count");
    break;
  case t::gate_set:
    need(c.subscriber.has_value(), "Subscriber ID");
    need(!c.gate_specs.empty(), "Gate Spec");
    break;
  case t::gate_info:
  case t::gate_delete:
  case t::alloc_ack:
  case t::set_ack:
  case t::info_ack:
  case t::delete_ack:
  case t::gate_open:
  case t::gate_close:
    need(c.gate_id.has_value(), "Gate ID");
    break;
  case t::alloc_err:
  case t::set_err:
  case t::info_err:
  case t::delete_err:
    need(c.error.has_value(), "PacketCable Error");
    break;
  }
  return out;
}

message to_decision(const gate_command& c, const bytes& handle) {
  decision d;
  d.handle = handle;
  d.ctx = context{r_type_configuration, 0};
  d.command = command_code::install;
  d.client_data = encode_objects(c);
  return to_message(d);
}

message to_report(const gate_command& c, const bytes& handle) {
  report rp;
  rp.handle = handle;
  if (is_unsolicited(c.command)) {
    rp.type = report_type::accounting;
    rp.solicited = false;
  } else {
    rp.type = is_err(c.command) ? report_type::failure : report_type::success;
  }
  rp.client_si = encode_objects(c);
  return to_message(rp);
}

decoded<gate_command> gate_command_from(const message& m) {
  if (m.client_type != client_type_dqos)
    return {decode_error::wrong_message, "client type " + hex16(m.client_type)};
  const object* carrier = nullptr;
  if (m.op == op_code::dec) {
    auto d = parse_decision(m);
    if (!d)
      return {d.error(), d.detail()};
    carrier = m.find(c_num::decision, decision_client_data);
  } else if (m.op == op_code::rpt) {
    auto rp = parse_report(m);
    if (!rp)
      return {rp.error(), rp.detail()};
    carrier = m.find(c_num::client_si, 1);
  } else {
    return {decode_error::wrong_message,
            std::string("gate commands ride DEC or RPT, not ") + to_string(m.op)};
  }
  if (carrier == nullptr || carrier->data.empty())
    return {decode_error::missing_object, "no PacketCable objects"};
  return decode_objects(carrier->data.data(), carrier->data.size());
}

std::string ipv4_to_string(std::uint32_t ip) { return boost::asio::ip::address_v4{ip}.to_string(); }

std::optional<std::uint32_t> ipv4_from_string(const std::string& text) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address_v4(text, ec);
  if (ec)
    return std::nullopt;
  return a.to_uint();
}

} // namespace cms::cops
