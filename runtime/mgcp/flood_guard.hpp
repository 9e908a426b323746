#pragma once
// Per-source budgets for MGCP datagrams. A source is an address:port: one MTA, one gateway, or one
// (possibly spoofed) attacker. Keying by address alone let a flood with a victim MTA's address
// and another port silence that MTA; keying by address:port means a spoofer must also guess the
// port, and even then only its malformed datagrams and its excess are shed.
//
// Two token buckets per source:
//   - malformed: every datagram that does not decode costs the io thread a parse and, when it
//     carries a transaction id, an error answer (RFC 3435 2.4), which a flood with a spoofed
//     source turns into a reflector. Over this budget malformed datagrams are still parsed (so a
//     well-formed one from the same source is served) but never answered;
//   - total: every datagram, good or bad. Over it the source's datagrams are dropped before
//     decoding. Off (0) by default in the library; the node sets it well above what one MTA or
//     one gateway sends ([mgcp] source_datagrams_per_s).
//
// Bounded memory: at most `max_sources` sources are tracked. When full, sources whose buckets have
// refilled are forgotten (at most one sweep per 100 ms, so a churn of new sources costs no full
// scan per datagram); a new source that still finds no room is not limited rather than evicting
// a source that is flooding now.

#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstddef>
#include <map>

namespace cms::mgcp {

struct flood_limits {
  double per_second = 20.0;        ///< malformed datagrams per second a source may send for ever
  double burst = 100.0;            ///< ... and at once (0: malformed ones are always answered)
  double datagrams_per_second = 0; ///< any datagram, per source (0: no total budget)
  double datagram_burst = 0;       ///< ... and at once (0: 2 x datagrams_per_second)
  std::size_t max_sources = 16384; ///< sources tracked at most
};

class flood_guard {
public:
  using clock = std::chrono::steady_clock;
  using source = boost::asio::ip::udp::endpoint;
  enum class verdict { admit, limited };

  explicit flood_guard(flood_limits limits);

  /// Before decoding a datagram from `from`: spends one token of its total budget; `limited` means
  /// drop it unparsed.
  verdict check(const source& from, clock::time_point now);
  /// Whether `from` has spent its malformed budget: its malformed datagrams are not answered.
  bool malformed_limited(const source& from, clock::time_point now);
  /// The datagram from `from` was malformed: spend a token. True when this spent the last one
  /// (the source is limited from now on: worth one log line or counter, not one per datagram).
  bool malformed(const source& from, clock::time_point now);

  std::size_t tracked() const noexcept { return buckets_.size(); }
  std::size_t limited_now(clock::time_point now);

private:
  struct bucket {
    double malformed = 0;
    double total = 0;
    clock::time_point updated;
  };
  void refill(bucket& b, clock::time_point now) const;
  bool quiet(const bucket& b) const noexcept;
  bucket* find_or_track(const source& from, clock::time_point now);

  flood_limits limits_;
  std::map<source, bucket> buckets_;
  clock::time_point last_sweep_{};
};

} // namespace cms::mgcp
