#include "runtime/cops/message.hpp"

#include <string>

namespace cms::cops {

const char* to_string(decode_error e) {
  switch (e) {
  case decode_error::none:
    return "none";
  case decode_error::truncated_header:
    return "truncated header";
  case decode_error::bad_version:
    return "bad version";
  case decode_error::bad_op_code:
    return "bad op code";
  case decode_error::bad_length:
    return "bad message length";
  case decode_error::too_long:
    return "message too long";
  case decode_error::bad_object_length:
    return "bad object length";
  case decode_error::missing_object:
    return "missing object";
  case decode_error::bad_object:
    return "bad object";
  case decode_error::wrong_message:
    return "wrong message";
  }
  return "?";
}

const char* to_string(op_code op) {
  switch (op) {
  case op_code::req:
    return "REQ";
  case op_code::dec:
    return "DEC";
  case op_code::rpt:
    return "RPT";
  case op_code::drq:
    return "DRQ";
  case op_code::ssq:
    return "SSQ";
  case op_code::opn:
    return "OPN";
  case op_code::cat:
    return "CAT";
  case op_code::cc:
    return "CC";
  case op_code::ka:
    return "KA";
  case op_code::ssc:
    return "SSC";
  }
  return "?";
}

const object* message::find(c_num n, std::uint8_t c_type) const {
  for (const auto& o : objects)
    if (o.c_num == static_cast<std::uint8_t>(n) && o.c_type == c_type)
      return &o;
  return nullptr;
}

bytes encode(const message& m) {
  bytes out;
  byte_writer w{out};
  w.u8(static_cast<std::uint8_t>((protocol_version << 4) | (m.flags & 0x0f)));
  w.u8(static_cast<std::uint8_t>(m.op));
  w.u16(m.client_type);
  w.u32(0); // patched below
  for (const auto& o : m.objects) {
    w.u16(static_cast<std::uint16_t>(object_header_size + o.data.size()));
    w.u8(o.c_num);
    w.u8(o.c_type);
    w.raw(o.data.data(), o.data.size());
    w.pad4();
  }
  w.patch_u32(4, static_cast<std::uint32_t>(out.size()));
  return out;
}

decoded<message> decode(const std::uint8_t* data, std::size_t size, std::size_t max_length) {
  if (data == nullptr || size < header_size)
    return {decode_error::truncated_header, "need 8 bytes, have " + std::to_string(size)};
  byte_reader r{data, size};
  const std::uint8_t ver_flags = r.u8();
  const std::uint8_t op = r.u8();
  message m;
  m.client_type = r.u16();
  const std::uint32_t length = r.u32();
  if ((ver_flags >> 4) != protocol_version)
    return {decode_error::bad_version, "version " + std::to_string(ver_flags >> 4)};
  if (op < 1 || op > 10)
    return {decode_error::bad_op_code, "op code " + std::to_string(op)};
  if (length > max_length)
    return {decode_error::too_long, "length " + std::to_string(length)};
  if (length < header_size || length % 4 != 0 || length != size)
    return {decode_error::bad_length,
            "length field " + std::to_string(length) + ", " + std::to_string(size) + " bytes"};
  m.op = static_cast<op_code>(op);
  m.flags = ver_flags & 0x0f;
  while (r.remaining() > 0) {
    if (r.remaining() < object_header_size)
      return {decode_error::bad_object_length, "trailing bytes shorter than an object header"};
    const std::uint16_t len = r.u16();
    object o;
    o.c_num = r.u8();
    o.c_type = r.u8();
    if (len < object_header_size)
      return {decode_error::bad_object_length, "object length " + std::to_string(len)};
    const std::size_t body = len - object_header_size;
    const std::size_t padded = (body + 3) / 4 * 4;
    if (padded > r.remaining())
      return {decode_error::bad_object_length,
              "object length " + std::to_string(len) + " runs past the message"};
    o.data = r.take(body);
    r.skip(padded - body);
    m.objects.push_back(std::move(o));
  }
  if (!r.ok())
    return {decode_error::bad_object_length, "object runs past the message"};
  return m;
}

namespace {

object make_object(c_num n, std::uint8_t c_type, bytes data) {
  return object{static_cast<std::uint8_t>(n), c_type, std::move(data)};
}

bytes two_u16(std::uint16_t a, std::uint16_t b) {
  bytes out;
  byte_writer w{out};
  w.u16(a);
  w.u16(b);
  return out;
}

object handle_object(const bytes& handle) { return make_object(c_num::handle, 1, handle); }
object context_object(const context& c) {
  return make_object(c_num::context, 1, two_u16(c.r_type, c.m_type));
}

/// The checks every typed parser repeats: the op code, and the client type where it matters.
template <class T>
std::optional<decoded<T>> expect_op(const message& m, op_code op) {
  if (m.op != op)
    return decoded<T>{decode_error::wrong_message,
                      std::string("expected ") + to_string(op) + ", got " + to_string(m.op)};
  return std::nullopt;
}

/// A fixed 4-byte body split into two 16-bit fields.
bool read_pair(const object* o, std::uint16_t& a, std::uint16_t& b) {
  if (o == nullptr || o->data.size() != 4)
    return false;
  byte_reader r{o->data.data(), o->data.size()};
  a = r.u16();
  b = r.u16();
  return r.ok();
}

/// Client handles are opaque (RFC 2748: variable length); an empty one identifies nothing.
decoded<bytes> mandatory_handle(const message& m) {
  const object* h = m.find(c_num::handle, 1);
  if (h == nullptr)
    return {decode_error::missing_object, "no Client Handle"};
  if (h->data.empty())
    return {decode_error::bad_object, "empty Client Handle"};
  return h->data;
}

} // namespace

message to_message(const client_open& m) {
  message out{op_code::opn, 0, m.client_type, {}};
  bytes id(m.pep_id.begin(), m.pep_id.end());
  id.push_back(0);
  out.objects.push_back(make_object(c_num::pep_id, 1, std::move(id)));
  return out;
}

message to_message(const client_accept& m) {
  message out{op_code::cat, 0, m.client_type, {}};
  out.objects.push_back(make_object(c_num::keepalive_timer, 1, two_u16(0, m.keepalive_s)));
  if (m.accounting_s)
    out.objects.push_back(make_object(c_num::accounting_timer, 1, two_u16(0, *m.accounting_s)));
  return out;
}

message to_message(const client_close& m) {
  message out{op_code::cc, 0, m.client_type, {}};
  out.objects.push_back(make_object(c_num::error, 1, two_u16(m.error, m.error_subcode)));
  return out;
}

message to_message(const request& m) {
  message out{op_code::req, 0, m.client_type, {}};
  out.objects.push_back(handle_object(m.handle));
  out.objects.push_back(context_object(m.ctx));
  if (!m.client_si.empty())
    out.objects.push_back(make_object(c_num::client_si, 1, m.client_si));
  return out;
}

message to_message(const decision& m) {
  message out{op_code::dec, 0, m.client_type, {}};
  out.objects.push_back(handle_object(m.handle));
  out.objects.push_back(context_object(m.ctx));
  out.objects.push_back(make_object(c_num::decision, decision_flags,
                                    two_u16(static_cast<std::uint16_t>(m.command), m.flags)));
  if (!m.client_data.empty())
    out.objects.push_back(make_object(c_num::decision, decision_client_data, m.client_data));
  return out;
}

message to_message(const report& m) {
  message out{op_code::rpt, m.solicited ? flag_solicited : std::uint8_t{0}, m.client_type, {}};
  out.objects.push_back(handle_object(m.handle));
  out.objects.push_back(
    make_object(c_num::report_type, 1, two_u16(static_cast<std::uint16_t>(m.type), 0)));
  if (!m.client_si.empty())
    out.objects.push_back(make_object(c_num::client_si, 1, m.client_si));
  return out;
}

message to_message(const delete_request& m) {
  message out{op_code::drq, 0, m.client_type, {}};
  out.objects.push_back(handle_object(m.handle));
  out.objects.push_back(make_object(c_num::reason, 1, two_u16(m.reason, m.reason_subcode)));
  return out;
}

message to_message(const keep_alive&) {
  // RFC 2748 2.3.8: a KA carries client type 0 (it is not client-specific).
  return message{op_code::ka, 0, 0, {}};
}

message to_message(const sync_request& m) {
  message out{op_code::ssq, 0, m.client_type, {}};
  if (!m.handle.empty())
    out.objects.push_back(handle_object(m.handle));
  return out;
}

message to_message(const sync_complete& m) {
  message out{op_code::ssc, 0, m.client_type, {}};
  if (!m.handle.empty())
    out.objects.push_back(handle_object(m.handle));
  return out;
}

decoded<client_open> parse_client_open(const message& m) {
  if (auto e = expect_op<client_open>(m, op_code::opn))
    return *e;
  const object* id = m.find(c_num::pep_id, 1);
  if (id == nullptr)
    return {decode_error::missing_object, "OPN without PEPID"};
  // NUL-terminated ASCII: the terminator must be inside the object.
  std::size_t end = 0;
  while (end < id->data.size() && id->data[end] != 0)
    ++end;
  if (end == id->data.size())
    return {decode_error::bad_object, "PEPID is not NUL-terminated"};
  client_open out;
  out.client_type = m.client_type;
  out.pep_id.assign(id->data.begin(), id->data.begin() + static_cast<std::ptrdiff_t>(end));
  return out;
}

decoded<client_accept> parse_client_accept(const message& m) {
  if (auto e = expect_op<client_accept>(m, op_code::cat))
    return *e;
  client_accept out;
  out.client_type = m.client_type;
  std::uint16_t reserved = 0;
  const object* ka = m.find(c_num::keepalive_timer, 1);
  if (ka == nullptr)
    return {decode_error::missing_object, "CAT without Keep-Alive timer"};
  if (!read_pair(ka, reserved, out.keepalive_s))
    return {decode_error::bad_object, "Keep-Alive timer must be 4 bytes"};
  if (const object* acct = m.find(c_num::accounting_timer, 1)) {
    std::uint16_t v = 0;
    if (!read_pair(acct, reserved, v))
      return {decode_error::bad_object, "Accounting timer must be 4 bytes"};
    out.accounting_s = v;
  }
  return out;
}

decoded<client_close> parse_client_close(const message& m) {
  if (auto e = expect_op<client_close>(m, op_code::cc))
    return *e;
  client_close out;
  out.client_type = m.client_type;
  const object* err = m.find(c_num::error, 1);
  if (err == nullptr)
    return {decode_error::missing_object, "CC without Error"};
  if (!read_pair(err, out.error, out.error_subcode))
    return {decode_error::bad_object, "Error must be 4 bytes"};
  return out;
}

decoded<request> parse_request(const message& m) {
  if (auto e = expect_op<request>(m, op_code::req))
    return *e;
  auto handle = mandatory_handle(m);
  if (!handle)
    return {handle.error(), handle.detail()};
  request out;
  out.client_type = m.client_type;
  out.handle = std::move(handle).value();
  const object* ctx = m.find(c_num::context, 1);
  if (ctx == nullptr)
    return {decode_error::missing_object, "REQ without Context"};
  if (!read_pair(ctx, out.ctx.r_type, out.ctx.m_type))
    return {decode_error::bad_object, "Context must be 4 bytes"};
  if (const object* si = m.find(c_num::client_si, 1))
    out.client_si = si->data;
  return out;
}

decoded<decision> parse_decision(const message& m) {
  if (auto e = expect_op<decision>(m, op_code::dec))
    return *e;
  auto handle = mandatory_handle(m);
  if (!handle)
    return {handle.error(), handle.detail()};
  decision out;
  out.client_type = m.client_type;
  out.handle = std::move(handle).value();
  const object* ctx = m.find(c_num::context, 1);
  if (ctx == nullptr)
    return {decode_error::missing_object, "DEC without Context"};
  if (!read_pair(ctx, out.ctx.r_type, out.ctx.m_type))
    return {decode_error::bad_object, "Context must be 4 bytes"};
  std::uint16_t code = 0;
  if (!read_pair(m.find(c_num::decision, decision_flags), code, out.flags))
    return {decode_error::missing_object, "DEC without a 4-byte Decision Flags object"};
  if (code > 2)
    return {decode_error::bad_object, "command code " + std::to_string(code)};
  out.command = static_cast<command_code>(code);
  if (const object* data = m.find(c_num::decision, decision_client_data))
    out.client_data = data->data;
  return out;
}

decoded<report> parse_report(const message& m) {
  if (auto e = expect_op<report>(m, op_code::rpt))
    return *e;
  auto handle = mandatory_handle(m);
  if (!handle)
    return {handle.error(), handle.detail()};
  report out;
  out.client_type = m.client_type;
  out.handle = std::move(handle).value();
  std::uint16_t type = 0, reserved = 0;
  if (!read_pair(m.find(c_num::report_type, 1), type, reserved))
    return {decode_error::missing_object, "RPT without a 4-byte Report-Type"};
  if (type < 1 || type > 3)
    return {decode_error::bad_object, "report type " + std::to_string(type)};
  out.type = static_cast<report_type>(type);
  out.solicited = (m.flags & flag_solicited) != 0;
  if (const object* si = m.find(c_num::client_si, 1))
    out.client_si = si->data;
  return out;
}

decoded<delete_request> parse_delete_request(const message& m) {
  if (auto e = expect_op<delete_request>(m, op_code::drq))
    return *e;
  auto handle = mandatory_handle(m);
  if (!handle)
    return {handle.error(), handle.detail()};
  delete_request out;
  out.client_type = m.client_type;
  out.handle = std::move(handle).value();
  if (!read_pair(m.find(c_num::reason, 1), out.reason, out.reason_subcode))
    return {decode_error::missing_object, "DRQ without a 4-byte Reason"};
  return out;
}

decoded<keep_alive> parse_keep_alive(const message& m) {
  if (auto e = expect_op<keep_alive>(m, op_code::ka))
    return *e;
  return keep_alive{};
}

decoded<sync_request> parse_sync_request(const message& m) {
  if (auto e = expect_op<sync_request>(m, op_code::ssq))
    return *e;
  sync_request out;
  out.client_type = m.client_type;
  if (const object* h = m.find(c_num::handle, 1))
    out.handle = h->data;
  return out;
}

decoded<sync_complete> parse_sync_complete(const message& m) {
  if (auto e = expect_op<sync_complete>(m, op_code::ssc))
    return *e;
  sync_complete out;
  out.client_type = m.client_type;
  if (const object* h = m.find(c_num::handle, 1))
    out.handle = h->data;
  return out;
}

} // namespace cms::cops
