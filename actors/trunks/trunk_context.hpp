#pragma once
// What the trunk actors of one node share (like call_context for lines): settings, provisioning,
// the call context (endpoint directory, edge, manager), the current handles of the router, the
// trunk actors and the gateway actors, and the last state of every facility and gateway. The
// saved states are what a restarted actor resumes from and what GET /trunks reads (thread-safe,
// no actor round trip).

#include "actors/calls/call_context.hpp"
#include "actors/trunks/trunk_protocol.hpp"
#include "persistence/provisioning.hpp"
#include "runtime/base/metrics.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cms::trunks {

/// When a facility carried by a promoted spare goes back to its healthy home gateway.
enum class revert_policy : std::uint8_t {
  when_idle, ///< at the next moment none of its channels is seized or in a call
  manual     ///< never by itself (an operator restarts the facility's trunk actor elsewhere)
};

struct trunk_settings {
  /// AUEP keepalive of every gateway; `keepalive_misses` unanswered in a row = failed.
  std::chrono::milliseconds keepalive_interval{500};
  int keepalive_misses = 2;
  /// CRCX/MDCX/DLCX/RQNT to a gateway: a seizure not confirmed within this is retried elsewhere.
  std::chrono::milliseconds mgcp_request_timeout{3000};
  /// Channels tried for one call before it gets cause 34 (a failing gateway costs one try).
  int max_setup_attempts = 4;
  revert_policy revert = revert_policy::when_idle;
  /// Name of the primary data link whose state picks the segment; empty: partner always preferred.
  std::string primary_link = "";
};

/// A gateway as the router and GET /trunks see it.
struct gateway_view {
  persistence::gateway config;
  bool healthy = true;
  bool forced = false;               ///< RSIP forced seen; healthy again only after RSIP restart
  int misses = 0;                    ///< consecutive unanswered keepalives
  std::vector<std::string> carrying; ///< facilities it carries now
  std::uint64_t transitions = 0;
  std::int64_t since_ms = 0;
  std::int64_t promoted_ms = 0; ///< cold spare: when it took over (0: cold)
};

class trunk_context {
public:
  trunk_context(trunk_settings settings, std::shared_ptr<actors::call_context> calls,
                persistence::provisioning prov, metrics::registry& registry);

  const trunk_settings settings;
  const std::shared_ptr<actors::call_context> calls;
  const persistence::provisioning prov;
  metrics::registry& registry;

  const persistence::gateway* gateway(const std::string& name) const;
  const persistence::facility* facility(const std::string& id) const;

  caf::actor router() const;
  void set_router(caf::actor h);
  caf::actor trunk(const std::string& facility) const;
  void set_trunk(const std::string& facility, caf::actor h);
  caf::actor gateway_actor(const std::string& name) const;
  void set_gateway_actor(const std::string& name, caf::actor h);

  /// Facility states (restart + HTTP). Legs are the leg actors by channel number.
  void save(const trunk_state& st, const std::map<int, caf::actor>& legs);
  std::optional<trunk_state> snapshot(const std::string& facility) const;
  std::map<int, caf::actor> legs(const std::string& facility) const;
  std::vector<trunk_state> snapshots() const;

  /// Read-modify-write of one gateway's view under the lock (gateway actor: health; router:
  /// what it carries), so neither overwrites the other's fields.
  void update_gateway(const std::string& name, const std::function<void(gateway_view&)>& f);
  std::optional<gateway_view> gateway_snapshot(const std::string& name) const;
  std::vector<gateway_view> gateway_snapshots() const;

  /// The primary data link carries traffic (partner segment preferred).
  bool primary_up() const;
  void set_primary_up(bool up);

  /// Drops every handle (shutdown).
  void clear();

private:
  mutable std::mutex mutex_;
  caf::actor router_;
  std::map<std::string, caf::actor> trunks_;
  std::map<std::string, caf::actor> gateways_;
  std::map<std::string, trunk_state> states_;
  std::map<std::string, std::map<int, caf::actor>> legs_;
  std::map<std::string, gateway_view> gateway_views_;
  bool primary_up_ = true;
};

/// Wall clock ms (logging, HTTP).
std::int64_t now_ms();

} // namespace cms::trunks
