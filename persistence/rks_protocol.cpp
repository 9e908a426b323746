#include "persistence/rks_protocol.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <set>

namespace cms::billing::rks {

namespace json = boost::json;

std::array<unsigned char, digest_size> sha256(std::string_view bytes) {
  std::array<unsigned char, digest_size> out{};
  unsigned int len = 0;
  // EVP_Digest is the one-shot API; it cannot fail for SHA-256 short of memory exhaustion.
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

std::string encode_frame(const json::object& message) {
  const std::string text = json::serialize(message);
  const auto digest = sha256(text);
  const auto body_size = static_cast<std::uint32_t>(text.size() + digest_size);
  std::string frame;
  frame.reserve(length_prefix_size + body_size);
  for (int shift = 24; shift >= 0; shift -= 8)
    frame.push_back(static_cast<char>((body_size >> shift) & 0xff));
  frame += text;
  frame.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return frame;
}

std::uint32_t decode_length(const unsigned char* prefix) {
  return (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
         (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
}

decoded_frame decode_body(std::string_view body) {
  decoded_frame out;
  if (body.size() <= digest_size) {
    out.error = "frame too short";
    return out;
  }
  const auto text = body.substr(0, body.size() - digest_size);
  const auto digest = sha256(text);
  if (std::memcmp(digest.data(), body.data() + text.size(), digest_size) != 0) {
    out.error = "digest mismatch";
    return out;
  }
  json::error_code ec;
  auto value = json::parse(text, ec);
  if (ec) {
    out.error = "bad json: " + ec.message();
    return out;
  }
  if (!value.is_object()) {
    out.error = "bad json: not an object";
    return out;
  }
  out.message = std::move(value.as_object());
  return out;
}

json::object record_to_json(const billing_record& r) {
  return json::object{{"record_id", r.record_id},
                      {"sequence", r.sequence},
                      {"event", r.event},
                      {"call_id", r.call_id},
                      {"calling_number", r.calling_number},
                      {"called_number", r.called_number},
                      {"originating", r.originating},
                      {"terminating", r.terminating},
                      {"route", r.route},
                      {"carrier", r.carrier},
                      {"timestamp_ms", r.timestamp_ms},
                      {"release_cause", r.release_cause},
                      {"connection_stats", r.connection_stats}};
}

namespace {

bool get_string(const json::object& o, const char* key, std::string& out, std::string& error) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) {
    error = std::string{"record field '"} + key + "' missing or not a string";
    return false;
  }
  out = std::string{v->as_string()};
  return true;
}

bool get_u64(const json::object& o, const char* key, std::uint64_t& out, std::string& error) {
  auto* v = o.if_contains(key);
  if (v && v->is_uint64()) {
    out = v->as_uint64();
    return true;
  }
  if (v && v->is_int64() && v->as_int64() >= 0) {
    out = static_cast<std::uint64_t>(v->as_int64());
    return true;
  }
  error = std::string{"field '"} + key + "' missing or not an unsigned integer";
  return false;
}

bool get_i64(const json::object& o, const char* key, std::int64_t& out, std::string& error) {
  auto* v = o.if_contains(key);
  if (v && v->is_int64()) {
    out = v->as_int64();
    return true;
  }
  if (v && v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(v->as_uint64());
    return true;
  }
  error = std::string{"field '"} + key + "' missing or not an integer";
  return false;
}

} // namespace

bool record_from_json(const json::value& v, billing_record& out, std::string& error) {
  if (!v.is_object()) {
    error = "record is not an object";
    return false;
  }
  const auto& o = v.as_object();
  std::int64_t cause = 0;
  const bool ok =
    get_string(o, "record_id", out.record_id, error) &&
    get_u64(o, "sequence", out.sequence, error) && get_string(o, "event", out.event, error) &&
    get_string(o, "call_id", out.call_id, error) &&
    get_string(o, "calling_number", out.calling_number, error) &&
    get_string(o, "called_number", out.called_number, error) &&
    get_string(o, "originating", out.originating, error) &&
    get_string(o, "terminating", out.terminating, error) &&
    get_string(o, "route", out.route, error) && get_string(o, "carrier", out.carrier, error) &&
    get_i64(o, "timestamp_ms", out.timestamp_ms, error) &&
    get_i64(o, "release_cause", cause, error) &&
    get_string(o, "connection_stats", out.connection_stats, error);
  if (!ok)
    return false;
  if (cause < 0 || cause > 127) { // Q.850 cause values are 7 bits
    error = "field 'release_cause' out of range";
    return false;
  }
  out.release_cause = static_cast<int>(cause);
  if (out.record_id.empty()) {
    error = "field 'record_id' is empty";
    return false;
  }
  return true;
}

json::object make_batch(const batch& b) {
  json::array records;
  records.reserve(b.records.size());
  for (const auto& r : b.records)
    records.push_back(record_to_json(r));
  const std::uint64_t first = b.records.empty() ? 0 : b.records.front().sequence;
  return json::object{
    {"type", "batch"}, {"node", b.node}, {"first_seq", first}, {"records", std::move(records)}};
}

std::string parse_batch(const json::object& message, batch& out) {
  auto* type = message.if_contains("type");
  if (!type || !type->is_string() || type->as_string() != "batch")
    return "not a batch";
  std::string error;
  if (!get_string(message, "node", out.node, error))
    return error;
  std::uint64_t first_seq = 0;
  if (!get_u64(message, "first_seq", first_seq, error))
    return error;
  auto* records = message.if_contains("records");
  if (!records || !records->is_array())
    return "field 'records' missing or not an array";
  if (records->as_array().empty())
    return "empty batch";
  out.records.clear();
  std::set<std::string> ids;
  for (const auto& v : records->as_array()) {
    billing_record r;
    if (!record_from_json(v, r, error))
      return error;
    if (out.records.empty() ? r.sequence != first_seq : r.sequence <= out.records.back().sequence)
      return "sequence " + std::to_string(r.sequence) + " out of order";
    if (!ids.insert(r.record_id).second)
      return "record_id '" + r.record_id + "' twice in one batch";
    out.records.push_back(std::move(r));
  }
  return {};
}

json::object make_ack(std::uint64_t up_to_sequence, std::uint64_t accepted,
                      std::uint64_t duplicates) {
  return json::object{{"type", "ack"},
                      {"up_to_sequence", up_to_sequence},
                      {"accepted", accepted},
                      {"duplicates", duplicates}};
}

json::object make_nack(std::string_view reason) {
  return json::object{{"type", "nack"}, {"reason", reason}};
}

std::string parse_reply(const json::object& message, reply& out) {
  auto* type = message.if_contains("type");
  if (!type || !type->is_string())
    return "reply without type";
  std::string error;
  if (type->as_string() == "nack") {
    out.ack = false;
    if (!get_string(message, "reason", out.reason, error))
      return error;
    return {};
  }
  if (type->as_string() != "ack")
    return "unknown reply type '" + std::string{type->as_string()} + "'";
  out.ack = true;
  if (!get_u64(message, "up_to_sequence", out.up_to_sequence, error) ||
      !get_u64(message, "accepted", out.accepted, error) ||
      !get_u64(message, "duplicates", out.duplicates, error))
    return error;
  return {};
}

} // namespace cms::billing::rks
