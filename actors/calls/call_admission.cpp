#include "actors/calls/call_admission.hpp"

#include "actors/type_ids.hpp"

#include <algorithm>

namespace cms::actors {

call_admission::call_admission(double rate, double burst, metrics::registry& registry)
  : rate_(std::max(0.0, rate)),
    burst_(burst > 0 ? burst : std::max(1.0, rate_ / 5)),
    tokens_(burst_),
    admitted_(registry.get_counter("cms_call_admitted_total",
                                   "Call attempts admitted by overload control")),
    shed_rate_(registry.get_counter("cms_calls_shed_total",
                                    "Call attempts refused with reorder before any call resource",
                                    {{"reason", "overload"}})),
    shed_drain_(registry.get_counter("cms_calls_shed_total",
                                     "Call attempts refused with reorder before any call resource",
                                     {{"reason", "drain"}})),
    shed_not_active_(registry.get_counter(
      "cms_calls_shed_total", "Call attempts refused with reorder before any call resource",
      {{"reason", "not_active"}})),
    shed_billing_(registry.get_counter(
      "cms_calls_shed_total", "Call attempts refused with reorder before any call resource",
      {{"reason", "billing_backlog"}})),
    billing_full_gauge_(registry.get_gauge(
      "cms_billing_queue_full",
      "1 while the billing outbox holds its maximum of unwritten records (new calls refused)")),
    role_open_(registry.get_gauge("cms_call_admission_role_open",
                                  "1 while the HA role lets this node start new calls (active)")) {
  role_open_.set(1);
  registry
    .get_gauge("cms_call_admission_rate", "Configured call attempts per second (0 = no limit)")
    .set(static_cast<std::int64_t>(rate_));
}

void call_admission::follow_ha_role() noexcept {
  auto ignored = gate::ignored;
  if (gate_.compare_exchange_strong(ignored, gate::closed, std::memory_order_acq_rel))
    role_open_.set(0);
}

void call_admission::set_billing_backlog(bool full) noexcept {
  billing_full_.store(full, std::memory_order_release);
  billing_full_gauge_.set(full ? 1 : 0);
}

void call_admission::set_ha_role(ha::role r) noexcept {
  bool open = r == ha::role::active;
  gate_.store(open ? gate::open : gate::closed, std::memory_order_release);
  role_open_.set(open ? 1 : 0);
}

call_admission::verdict call_admission::admit(std::chrono::steady_clock::time_point now) {
  // The role first: a standby or a node that stepped down must not start calls of its own.
  if (!role_admits()) {
    shed_not_active_.inc();
    return verdict::shed_not_active;
  }
  if (auto* d = drain_.load(std::memory_order_acquire); d && !d->accepting_new_calls()) {
    shed_drain_.inc();
    return verdict::shed_drain;
  }
  // Every call writes billing records: with the backlog at its bound, a new call would grow it.
  if (billing_full_.load(std::memory_order_acquire)) {
    shed_billing_.inc();
    return verdict::shed_billing_backlog;
  }
  if (rate_ > 0) {
    std::lock_guard guard{mutex_};
    if (last_ != std::chrono::steady_clock::time_point{}) {
      auto elapsed = std::chrono::duration<double>(now - last_).count();
      if (elapsed > 0)
        tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    }
    if (now > last_)
      last_ = now;
    if (tokens_ < 1.0) {
      shed_rate_.inc();
      return verdict::shed_rate;
    }
    tokens_ -= 1.0;
  }
  admitted_.inc();
  return verdict::admitted;
}

caf::behavior call_admission_role_follower(caf::event_based_actor* self,
                                           call_admission* admission) {
  (void)self;
  return {
    [admission](atom::role_changed, ha::role r, std::uint64_t) { admission->set_ha_role(r); },
  };
}

} // namespace cms::actors
