#include "runtime/transport/ha_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace cms::ha {

const char* to_string(drop_reason r) noexcept {
  switch (r) {
  case drop_reason::none:
    return "none";
  case drop_reason::malformed:
    return "malformed";
  case drop_reason::bad_mac:
    return "bad_mac";
  case drop_reason::wrong_source:
    return "wrong_source";
  case drop_reason::wrong_cluster:
    return "wrong_cluster";
  case drop_reason::stale:
    return "stale";
  case drop_reason::replayed:
    return "replayed";
  case drop_reason::epoch_out_of_range:
    return "epoch_out_of_range";
  case drop_reason::unknown_request:
    return "unknown_request";
  case drop_reason::lease_too_long:
    return "lease_too_long";
  }
  return "unknown";
}

namespace {

void mac_of(std::string_view key, std::string_view body, unsigned char out[mac_bytes]) {
  unsigned int len = mac_bytes;
  // The magic is covered too: a future format cannot be confused with this one.
  std::string covered;
  covered.reserve(sealed_magic.size() + body.size());
  covered.append(sealed_magic).append(body);
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(covered.data()), covered.size(), out, &len) ||
      len != mac_bytes)
    throw std::runtime_error("HMAC-SHA256 failed");
}

} // namespace

std::string seal(std::string_view key, std::string_view body) {
  unsigned char mac[mac_bytes];
  mac_of(key, body, mac);
  std::string out;
  out.reserve(sealed_overhead + body.size());
  out.append(sealed_magic);
  out.append(reinterpret_cast<const char*>(mac), mac_bytes);
  out.append(body);
  return out;
}

drop_reason unseal(std::string_view key, std::string_view datagram, std::string_view& body) {
  if (datagram.size() <= sealed_overhead || datagram.substr(0, sealed_magic.size()) != sealed_magic)
    return drop_reason::malformed;
  auto candidate = datagram.substr(sealed_overhead);
  unsigned char mac[mac_bytes];
  mac_of(key, candidate, mac);
  if (CRYPTO_memcmp(mac, datagram.data() + sealed_magic.size(), mac_bytes) != 0)
    return drop_reason::bad_mac;
  body = candidate;
  return drop_reason::none;
}

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return v;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::uint64_t sequence_counter::next() {
  auto now_us = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  last_ = std::max(last_ + 1, now_us);
  return last_;
}

drop_reason replay_guard::check(const std::string& sender, std::uint64_t seq, std::int64_t sent_ms,
                                std::int64_t now_ms) {
  if (sent_ms < now_ms - window_ || sent_ms > now_ms + window_)
    return drop_reason::stale;
  auto it = senders_.find(sender);
  if (it != senders_.end() && seq <= it->second.seq && now_ms - it->second.at_ms <= 2 * window_)
    return drop_reason::replayed;
  senders_[sender] = seen{seq, now_ms};
  return drop_reason::none;
}

void drop_counters::count(drop_reason r) {
  auto i = static_cast<std::size_t>(r);
  if (i >= counters_.size())
    return;
  if (!counters_[i])
    counters_[i] = &metrics_.get_counter(
      "cms_ha_udp_dropped_total",
      "HA control-plane datagrams dropped (heartbeat and witness paths), by reason",
      {{"path", path_}, {"reason", to_string(r)}});
  counters_[i]->inc();
}

} // namespace cms::ha
