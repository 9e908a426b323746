#pragma once
// The trunk actor: one per facility (a PRI span or an SS7 circuit group of a trunking gateway).
// It owns the facility's DS0 channels "ds/ds1-<span>/<channel>@<gateway>" and their states
// (idle, seized, in call, blocked, out of service), registers their names in the endpoint
// directory so the gateway's NTFYs and RSIPs reach it, grants channels to trunk legs (hunting,
// lowest free channel first: the gateway hunts PSTN seizures from the top, which keeps glare
// rare), starts a trunk leg for every PSTN seizure (incoming call), and follows the health of the
// gateway that carries it (router: carrier_health, carry_facility).
//
// Protocol:
//   hunt_channel -> hunt_result         reserve an idle channel for a leg (monitored)
//   channel_update                      from the owning leg: in_call, or idle (done)
//   actors::inbound_command             NTFY / RSIP of the gateway for one of its channels
//   carrier_health                      the carrying gateway failed / recovered
//   carry_facility                      move to another gateway (spare promotion, revert)
//   (atom::status) -> std::string       JSON of the facility
//
// Restart: every change is saved in the trunk context (trunk_state + leg handles); a restarted
// actor resumes from it, monitors the legs again and keeps the calls that are up.

#include "actors/trunks/trunk_context.hpp"

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace cms::trunks {

struct trunk_actor_state {
  std::shared_ptr<trunk_context> ctx;
  trunk_state data;
  std::map<int, caf::actor> legs;      ///< channel -> its leg
  std::vector<std::string> registered; ///< channel names currently in the endpoint directory
  std::string last_rsip;               ///< "peer/tid" of the last RSIP (wildcard copies)
  std::mt19937_64 rng;
  static inline const char* name = "trunk";
};

caf::behavior trunk_actor(caf::stateful_actor<trunk_actor_state>* self,
                          std::shared_ptr<trunk_context> ctx, std::string facility);

/// Channel counts by state (GET /trunks, gauges).
std::map<std::string, int> channel_counts(const trunk_state& st);

} // namespace cms::trunks
