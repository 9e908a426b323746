#pragma once
// The MGCP transaction layer of RFC 3435 section 3.5 as a pure state machine: no sockets, no clock,
// no threads. Every call takes the current time; randomness (retransmission jitter, the first
// transaction id) comes from a seed. The caller (agent.cpp) puts whatever it returns on the wire and
// asks next_deadline() when to call on_timer() again. Unit tests drive it with fake time.
//
// What it keeps:
//   - our outstanding commands (by transaction id), retransmitted with exponential backoff until a
//     final response arrives or Max2 retransmissions went unanswered;
//   - recently completed commands (T-hist), so duplicate final responses are recognised (and get a
//     000 again when the peer asked for one) and their ids are not reused;
//   - response acknowledgements owed to each peer, sent as K: on our next command to it;
//   - commands received, keyed by (peer, transaction id): pending (handed to the owner once) or
//     answered (response cached for T-hist, replayed to retransmissions), released early by the
//     peer's K: or 000.

#include "runtime/mgcp/agent.hpp"
#include "runtime/mgcp/message.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace cms::mgcp {

using time_point = std::chrono::steady_clock::time_point;

/// A message the transaction layer wants sent (again).
struct outbound {
  udp_endpoint peer;
  message msg;
};

/// What an incoming command turned out to be.
enum class incoming_command_kind {
  fresh,              ///< never seen: hand it to the owner, who must respond()
  duplicate_answered, ///< retransmission of an answered command: `reply` is the cached response
  duplicate_pending, ///< retransmission of a command still being processed (`reply` = 100 when due)
  duplicate_acknowledged, ///< retransmission of a command whose response the peer acknowledged: drop
  refused_peer_limit,     ///< the peer holds receive_limits::max_per_peer records: `reply` is 409
  refused_global_limit,   ///< all peers hold receive_limits::max_transactions: `reply` is 409
};

struct incoming_command_result {
  incoming_command_kind kind = incoming_command_kind::fresh;
  std::optional<response> reply; ///< to send back to the peer
  std::size_t released = 0;      ///< cached responses released by the command's K: parameter
};

/// What respond() decided about a response to a command we received.
enum class outgoing_response_kind {
  cached,    ///< answers a pending command; cached for T-hist (or until acknowledged)
  uncached,  ///< no such pending command (e.g. an error answer); sent but not cached
  duplicate, ///< that command was already answered: not sent again
};

struct outgoing_response {
  outgoing_response_kind kind = outgoing_response_kind::cached;
  response msg; ///< what to send (an empty K: is added when a provisional response went out)
};

/// What an incoming response turned out to be.
enum class incoming_response_kind {
  final,        ///< completes our command `transaction_id`
  provisional,  ///< 1xx for an outstanding command: retransmission stops, the wait is extended
  duplicate,    ///< a response for a command already completed; ignored (`ack` may hold a 000)
  response_ack, ///< a 000 for one of our cached responses, which is released
  unknown,      ///< no such transaction: drop and count
  wrong_peer,   ///< the id is ours but the command went to another address:port: drop and count
};

struct incoming_response_result {
  incoming_response_kind kind = incoming_response_kind::unknown;
  std::optional<response> ack; ///< a 000 to send back (final response carried an empty K:)
};

/// Everything that fell due at on_timer().
struct timer_result {
  std::vector<outbound> retransmissions; ///< commands and final responses
  std::vector<std::pair<std::uint32_t, udp_endpoint>>
    failed;                          ///< our commands past Max2 (or the long wait)
  std::vector<udp_endpoint> suspect; ///< a command to this peer crossed Max1
  std::size_t expired = 0;           ///< history entries dropped after T-hist
  std::size_t pending_expired = 0;   ///< received commands never answered within pending_timeout
};

class transaction_manager {
public:
  static constexpr std::uint32_t max_transaction_id = 999999999;
  /// K: lists are cut after this many ranges so the parameter line stays well under codec limits;
  /// the rest rides on the next command.
  static constexpr std::size_t max_ack_ranges = 64;

  /// `send_response_acks` false: final responses are never listed in K: (peers that reject it).
  transaction_manager(transaction_timers timers, std::uint64_t seed, bool send_response_acks = true,
                      receive_limits limits = {});

  // ---- our commands -------------------------------------------------------------------------
  /// Registers a command to `to`: allocates its transaction id (written into `cmd`) and adds a K:
  /// listing the final responses from `to` not yet acknowledged (unless `cmd` already has a K:).
  std::uint32_t start_command(const udp_endpoint& to, command& cmd, time_point now);
  /// Next id to try (after a restart, from persisted state, or in tests); live ids are still skipped.
  void restart_ids_at(std::uint32_t tid) noexcept {
    next_tid_ = tid < 1 || tid > max_transaction_id ? 1 : tid;
  }
  /// Forgets an outstanding command (its first send failed). Returns false if it was not outstanding.
  bool abandon(std::uint32_t transaction_id);
  /// Forgets every outstanding command (shutdown); returns their ids.
  std::vector<std::uint32_t> abandon_all();
  /// A response arrived from `from`. It completes a command only when `from` is the address:port
  /// the command went to: a transaction id is easy to guess, and a forged CRCX answer would
  /// otherwise redirect the media of a call.
  incoming_response_result on_response(const udp_endpoint& from, const response& rsp,
                                       time_point now);

  // ---- commands we receive ------------------------------------------------------------------
  /// A command arrived from `from`; also applies its K: (response acknowledgements). A fresh
  /// command over receive_limits is refused (409, not recorded).
  incoming_command_result on_command(const udp_endpoint& from, const command& cmd, time_point now);
  /// The owner answers a command received from `to`.
  outgoing_response respond(const udp_endpoint& to, response rsp, time_point now);

  // ---- time ---------------------------------------------------------------------------------
  /// Retransmits, fails and expires whatever is due at `now`.
  timer_result on_timer(time_point now);
  /// When on_timer() has something to do next; nullopt when nothing is scheduled.
  std::optional<time_point> next_deadline() const;

  // ---- introspection (metrics, tests) -------------------------------------------------------
  std::size_t outstanding() const noexcept { return outstanding_.size(); }
  bool is_outstanding(std::uint32_t tid) const { return outstanding_.count(tid) != 0; }
  /// Commands received that are still known (pending, answered or acknowledged).
  std::size_t known_commands() const noexcept { return incoming_count_; }
  /// Responses held for replay.
  std::size_t cached_responses() const noexcept;
  /// Transaction ids of final responses from `peer` we still owe an acknowledgement for.
  std::vector<std::uint32_t> unacknowledged(const udp_endpoint& peer) const;
  /// Timeout before retransmission number `attempt` + 1 (attempt 0 = after the first send),
  /// jittered and capped; consumes randomness.
  std::chrono::milliseconds next_timeout(int attempt);
  const transaction_timers& timers() const noexcept { return timers_; }

  /// "1-3, 7" for {1,2,3,7}; stops after `max_ranges` ranges and returns how many ids it used.
  static std::pair<std::string, std::size_t> format_ack_ranges(const std::set<std::uint32_t>& ids,
                                                               std::size_t max_ranges);
  /// Parses a K: value into inclusive ranges; malformed items are skipped.
  static std::vector<std::pair<std::uint32_t, std::uint32_t>>
  parse_ack_ranges(std::string_view value);

private:
  enum class timer_kind : std::uint8_t { command, completed, incoming };
  using timer_key = std::tuple<time_point, timer_kind, std::uint32_t, udp_endpoint>;

  struct outgoing_record {
    udp_endpoint peer;
    command cmd;
    int retransmissions = 0;
    bool provisional = false; ///< a 1xx arrived: no more retransmissions, waiting for the final
    time_point deadline;
  };
  struct completed_record {
    udp_endpoint peer;
    bool ack_required = false; ///< the final response asked for a 000 (empty K:)
    time_point deadline;       ///< end of T-hist
  };
  enum class incoming_state : std::uint8_t { pending, answered, acknowledged };
  struct incoming_record {
    // A pending record's timer is its expiry (first_seen + pending_timeout).
    incoming_state state = incoming_state::pending;
    time_point first_seen;
    bool provisional_sent = false;
    std::optional<response> cached;
    bool awaiting_ack = false; ///< final response after a 100: retransmitted until a 000 arrives
    int retransmissions = 0;
    time_point expires;  ///< end of T-hist (answered/acknowledged)
    time_point deadline; ///< next timer: retransmission or expiry
  };

  std::uint32_t allocate_tid();
  /// Moves an armed timer to `when`.
  void schedule(timer_kind kind, std::uint32_t tid, const udp_endpoint& peer, time_point& slot,
                time_point when);
  /// Arms a timer for a record that has none.
  void arm(timer_kind kind, std::uint32_t tid, const udp_endpoint& peer, time_point& slot,
           time_point when);
  void unschedule(timer_kind kind, std::uint32_t tid, const udp_endpoint& peer, time_point when);
  std::size_t release_acknowledged(const udp_endpoint& peer, std::string_view ranges);
  void release(const udp_endpoint& peer, std::uint32_t tid, incoming_record& rec);

  transaction_timers timers_;
  std::mt19937_64 rng_;
  bool send_response_acks_;
  std::uint32_t next_tid_;
  std::map<std::uint32_t, outgoing_record> outstanding_;
  std::map<std::uint32_t, completed_record> completed_;
  std::map<udp_endpoint, std::set<std::uint32_t>> unacked_;
  std::map<udp_endpoint, std::map<std::uint32_t, incoming_record>> incoming_;
  std::size_t cached_count_ = 0;   ///< incoming records holding a cached response
  std::size_t incoming_count_ = 0; ///< records in incoming_ (all peers)
  receive_limits limits_;
  std::set<timer_key> timers_due_;
};

} // namespace cms::mgcp
