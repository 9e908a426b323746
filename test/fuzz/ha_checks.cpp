#include "ha_checks.hpp"

#include "runtime/transport/ha_wire.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

namespace cms::fuzz {

namespace {

const std::string key(32, 'k');
const std::string cluster = "fuzz";

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "ha datagram invariant violated: %s\n", what);
  std::abort();
}

bool same(const ha::wire_origin& a, const ha::wire_origin& b) {
  return a.sender == b.sender && a.seq == b.seq && a.sent_ms == b.sent_ms;
}

void check_epoch(std::uint64_t e) {
  if (e > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    fail("decoded epoch above INT64_MAX");
}

void try_all(std::string_view datagram) {
  {
    ha::heartbeat_datagram d;
    if (ha::decode(key, cluster, datagram, d) == ha::drop_reason::none) {
      check_epoch(d.info.epoch);
      ha::heartbeat_datagram again;
      if (ha::decode(key, cluster, ha::encode(key, cluster, d), again) != ha::drop_reason::none ||
          !same(d.origin, again.origin) || d.info.epoch != again.info.epoch ||
          d.info.node_id != again.info.node_id || d.info.peer_role != again.info.peer_role ||
          d.info.priority != again.info.priority || d.ha_age_ms != again.ha_age_ms)
        fail("heartbeat does not re-encode to itself");
      ha::replay_guard guard{std::chrono::milliseconds{5000}};
      guard.check(d.origin.sender, d.origin.seq, d.origin.sent_ms, ha::wall_ms());
    }
  }
  {
    ha::witness_request r;
    if (ha::decode(key, cluster, datagram, r) == ha::drop_reason::none) {
      check_epoch(r.epoch);
      if (r.lease_ms < 0)
        fail("negative lease decoded");
      ha::witness_request again;
      if (ha::decode(key, cluster, ha::encode(key, cluster, r), again) != ha::drop_reason::none ||
          !same(r.origin, again.origin) || r.op != again.op || r.id != again.id ||
          r.epoch != again.epoch || r.lease_ms != again.lease_ms)
        fail("witness request does not re-encode to itself");
    }
  }
  {
    ha::witness_answer a;
    if (ha::decode(key, cluster, datagram, a) == ha::drop_reason::none) {
      check_epoch(a.epoch);
      ha::witness_answer again;
      if (ha::decode(key, cluster, ha::encode(key, cluster, a), again) != ha::drop_reason::none ||
          !same(a.origin, again.origin) || a.id != again.id || a.granted != again.granted ||
          a.epoch != again.epoch || a.holder != again.holder)
        fail("witness answer does not re-encode to itself");
    }
  }
}

} // namespace

void check_ha_datagram(std::string_view input) {
  // As sent by a stranger: the MAC cannot verify (unless the input was sealed with the test key).
  try_all(input);
  // As sent by someone holding the key: the parser behind the MAC.
  try_all(ha::seal(key, input));
}

} // namespace cms::fuzz
