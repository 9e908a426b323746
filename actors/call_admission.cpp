#include "actors/call_admission.hpp"

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
                                     {{"reason", "drain"}})) {
  registry.get_gauge("cms_call_admission_rate", "Configured call attempts per second (0 = no limit)")
    .set(static_cast<std::int64_t>(rate_));
}

call_admission::verdict call_admission::admit(std::chrono::steady_clock::time_point now) {
  if (auto* d = drain_.load(std::memory_order_acquire); d && !d->accepting_new_calls()) {
    shed_drain_.inc();
    return verdict::shed_drain;
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

} // namespace cms::actors
