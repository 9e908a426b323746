#pragma once
// Per-source budget for malformed MGCP. Every datagram that does not decode costs the io thread a
// parse and, when it carries a transaction id, an error answer (RFC 3435 2.4) — which a flood with
// a spoofed source turns into a reflector. Each source address (IP, any port: one MTA or one
// attacker) gets a token bucket of malformed datagrams: `burst` at once, refilled at `per_second`.
// While an address's bucket is empty, its datagrams are dropped before decoding (counted, never
// answered); every other address is untouched. Good traffic from a source costs no tokens.
//
// Bounded memory: at most `max_sources` addresses are tracked; when full, addresses whose bucket
// has refilled are forgotten first, and a new address that still finds no room is not limited
// (counted by the caller as untracked) rather than evicting an address that is flooding now.

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <map>

namespace cms::mgcp {

struct flood_limits {
  double per_second = 20.0;       ///< malformed datagrams per second a source may send for ever
  double burst = 100.0;           ///< ... and at once (0: the guard is off)
  std::size_t max_sources = 4096; ///< addresses tracked at most
};

class flood_guard {
public:
  using clock = std::chrono::steady_clock;
  enum class verdict { admit, limited };

  explicit flood_guard(flood_limits limits) : limits_(limits) {}

  /// Before decoding a datagram from `source`.
  verdict check(const boost::asio::ip::address& source, clock::time_point now);
  /// The datagram from `source` was malformed: spend a token. True when this spent the last one
  /// (the source is limited from now on: worth one log line or counter, not one per datagram).
  bool malformed(const boost::asio::ip::address& source, clock::time_point now);

  std::size_t tracked() const noexcept { return buckets_.size(); }
  std::size_t limited_now(clock::time_point now);

private:
  struct bucket {
    double tokens = 0;
    clock::time_point updated;
  };
  void refill(bucket& b, clock::time_point now) const;
  bucket* find_or_track(const boost::asio::ip::address& source, clock::time_point now);

  flood_limits limits_;
  std::map<boost::asio::ip::address, bucket> buckets_;
};

} // namespace cms::mgcp
