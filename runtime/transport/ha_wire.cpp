#include "runtime/transport/ha_wire.hpp"

#include <boost/json.hpp>

#include <limits>
#include <optional>

namespace cms::ha {

namespace json = boost::json;

const char* to_string(witness_op op) noexcept {
  switch (op) {
  case witness_op::claim:
    return "claim";
  case witness_op::renew:
    return "renew";
  case witness_op::release:
    return "release";
  }
  return "unknown";
}

namespace {

/// Epochs are stored as SQLite's signed 64-bit integers: anything above cannot be a real epoch.
constexpr std::uint64_t max_wire_epoch = std::numeric_limits<std::int64_t>::max();

role role_from(std::string_view s) {
  if (s == "active")
    return role::active;
  if (s == "standby")
    return role::standby;
  if (s == "stepping-down")
    return role::stepping_down;
  return role::starting;
}

bool get_uint(const json::object& o, const char* key, std::uint64_t& out) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_number())
    return false;
  boost::system::error_code ec;
  auto n = v->to_number<std::uint64_t>(ec);
  if (ec)
    return false;
  out = n;
  return true;
}

bool get_int(const json::object& o, const char* key, std::int64_t& out) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_number())
    return false;
  boost::system::error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  if (ec)
    return false;
  out = n;
  return true;
}

bool get_string(const json::object& o, const char* key, std::string& out) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string())
    return false;
  out = std::string(v->as_string());
  return true;
}

json::object with_origin(const char* type, const std::string& cluster, const wire_origin& o) {
  return json::object{
    {"t", type}, {"cluster", cluster}, {"from", o.sender}, {"seq", o.seq}, {"ts", o.sent_ms}};
}

std::string sealed(std::string_view key, const json::object& o) {
  return seal(key, json::serialize(o));
}

/// Unseals, parses and checks the type and cluster; fills the origin.
drop_reason open_object(std::string_view key, const std::string& cluster, std::string_view datagram,
                        const char* const* types, json::object& out, std::string& type,
                        wire_origin& origin) {
  std::string_view body;
  if (auto r = unseal(key, datagram, body); r != drop_reason::none)
    return r;
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return drop_reason::malformed;
  auto& o = v.as_object();
  std::string c;
  if (!get_string(o, "t", type) || !get_string(o, "cluster", c) ||
      !get_string(o, "from", origin.sender) || origin.sender.empty() ||
      !get_uint(o, "seq", origin.seq) || !get_int(o, "ts", origin.sent_ms))
    return drop_reason::malformed;
  bool known = false;
  for (auto t = types; *t; ++t)
    known = known || type == *t;
  if (!known)
    return drop_reason::malformed;
  if (c != cluster)
    return drop_reason::wrong_cluster;
  out = std::move(o);
  return drop_reason::none;
}

} // namespace

std::string encode(std::string_view key, const std::string& cluster, const heartbeat_datagram& d) {
  auto o = with_origin("hb", cluster, d.origin);
  o["role"] = to_string(d.info.peer_role);
  o["epoch"] = d.info.epoch;
  o["prio"] = d.info.priority;
  o["applied"] = d.info.applied_seq;
  o["ha_age_ms"] = d.ha_age_ms;
  return sealed(key, o);
}

std::string encode(std::string_view key, const std::string& cluster, const witness_request& r) {
  auto o = with_origin(to_string(r.op), cluster, r.origin);
  o["id"] = r.id;
  o["epoch"] = r.epoch;
  o["lease_ms"] = r.lease_ms;
  return sealed(key, o);
}

std::string encode(std::string_view key, const std::string& cluster, const witness_answer& a) {
  auto o = with_origin("answer", cluster, a.origin);
  o["id"] = a.id;
  o["granted"] = a.granted;
  o["epoch"] = a.epoch;
  o["holder"] = a.holder;
  return sealed(key, o);
}

drop_reason decode(std::string_view key, const std::string& cluster, std::string_view datagram,
                   heartbeat_datagram& out) {
  static const char* const types[] = {"hb", nullptr};
  json::object o;
  std::string type, r;
  heartbeat_datagram d;
  if (auto why = open_object(key, cluster, datagram, types, o, type, d.origin);
      why != drop_reason::none)
    return why;
  std::uint64_t prio = 0;
  if (!get_string(o, "role", r) || !get_uint(o, "epoch", d.info.epoch) ||
      !get_uint(o, "prio", prio) || !get_uint(o, "applied", d.info.applied_seq) ||
      !get_int(o, "ha_age_ms", d.ha_age_ms) || prio > std::numeric_limits<int>::max())
    return drop_reason::malformed;
  if (d.info.epoch > max_wire_epoch)
    return drop_reason::epoch_out_of_range;
  d.info.node_id = d.origin.sender;
  d.info.peer_role = role_from(r);
  d.info.priority = static_cast<int>(prio);
  out = std::move(d);
  return drop_reason::none;
}

drop_reason decode(std::string_view key, const std::string& cluster, std::string_view datagram,
                   witness_request& out) {
  static const char* const types[] = {"claim", "renew", "release", nullptr};
  json::object o;
  std::string type;
  witness_request r;
  if (auto why = open_object(key, cluster, datagram, types, o, type, r.origin);
      why != drop_reason::none)
    return why;
  if (!get_uint(o, "id", r.id) || !get_uint(o, "epoch", r.epoch) ||
      !get_int(o, "lease_ms", r.lease_ms) || r.lease_ms < 0)
    return drop_reason::malformed;
  if (r.epoch > max_wire_epoch)
    return drop_reason::epoch_out_of_range;
  r.op = type == "claim"   ? witness_op::claim
         : type == "renew" ? witness_op::renew
                           : witness_op::release;
  out = std::move(r);
  return drop_reason::none;
}

drop_reason decode(std::string_view key, const std::string& cluster, std::string_view datagram,
                   witness_answer& out) {
  static const char* const types[] = {"answer", nullptr};
  json::object o;
  std::string type;
  witness_answer a;
  if (auto why = open_object(key, cluster, datagram, types, o, type, a.origin);
      why != drop_reason::none)
    return why;
  auto* g = o.if_contains("granted");
  if (!get_uint(o, "id", a.id) || !get_uint(o, "epoch", a.epoch) || !g || !g->is_bool() ||
      !get_string(o, "holder", a.holder))
    return drop_reason::malformed;
  if (a.epoch > max_wire_epoch)
    return drop_reason::epoch_out_of_range;
  a.granted = g->as_bool();
  out = std::move(a);
  return drop_reason::none;
}

} // namespace cms::ha
