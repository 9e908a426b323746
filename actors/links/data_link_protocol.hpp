#pragma once
// Data links: the primary point-to-point link to the partner and the backup VPN
// tunnel. One data-link actor per provisioned link probes its far end on that path and publishes
// the link's state; routing (off-net segment choice) and the billing forwarder (management path)
// subscribe to it. See docs/data-links.md.
//
// Protocol of a data-link actor (actors/links/data_link.hpp):
//   (atom::subscribe, caf::actor s)  -> void          s gets the current status at once, then
//                                                     (atom::link_changed, link_status) on every
//                                                     transition; survives restarts of the link actor
//   (atom::status)                   -> std::string   JSON of the link (state, counters, settings)
//   (atom::probe_ack, uint64_t seq)                   from the probe transport: probe seq answered
//   (atom::tick)                                      internal: the probe interval elapsed
//
// These types are plain data with inspect overloads: link_status crosses actor boundaries (and may
// be replicated), link_snapshot is what a restarted actor resumes from.

#include <caf/meta/type_name.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace cms::links {

/// up: every probe in the recent window answered. degraded: some probes lost (traffic still
/// passes; consumers may keep using the link). down: `misses` consecutive probes lost, or the
/// link has not answered yet since start.
enum class link_state : std::uint8_t { down, degraded, up };

const char* to_string(link_state s) noexcept;

/// True when the link carries traffic (up or degraded).
inline bool usable(link_state s) noexcept { return s != link_state::down; }

/// What subscribers are told.
struct link_status {
  std::string link; ///< provisioned name
  std::string kind; ///< "primary" | "backup"
  link_state state = link_state::down;
  std::uint64_t transitions = 0; ///< since the node started (kept across actor restarts)
  std::int64_t since_ms = 0;     ///< UTC ms of the last transition (0: never changed)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_status& x) {
  return f(caf::meta::type_name("link_status"), x.link, x.kind, x.state, x.transitions, x.since_ms);
}

/// Probing thresholds. Detection time of a dead link is at most (misses + 1) * interval:
/// 200 ms x 3 detects within 800 ms.
struct probe_settings {
  std::chrono::milliseconds interval{
    200};          ///< one probe per interval; unanswered by the next is lost
  int misses = 3;  ///< consecutive losses that make the link down
  int window = 10; ///< any loss among the last `window` probes: degraded
};

/// The whole state of a link's monitor: published status plus probe history. Saved on every
/// probe outcome, so a restarted actor continues where the crashed one stopped.
struct link_snapshot {
  link_status status;
  std::uint64_t next_seq = 1;   ///< sequence number of the next probe
  std::uint64_t history = 0;    ///< bit i set: the i-th most recent probe was lost
  std::int32_t history_len = 0; ///< outcomes recorded in `history` (<= 64)
  std::int32_t consecutive_misses = 0;
  std::uint64_t probes_sent = 0;
  std::uint64_t probes_answered = 0;
  std::uint64_t probes_lost = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_snapshot& x) {
  return f(caf::meta::type_name("link_snapshot"), x.status, x.next_seq, x.history, x.history_len,
           x.consecutive_misses, x.probes_sent, x.probes_answered, x.probes_lost);
}

} // namespace cms::links
