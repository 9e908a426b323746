#pragma once
// The wall clock as the node records it: UTC milliseconds since the Unix epoch. For stamps that
// people and other systems read (billing, events, audit, admin changes); intervals and timers use
// the steady clock or the actor clock instead, so a stepped wall clock never fires or stalls them.

#include <chrono>
#include <cstdint>

namespace cms {

inline std::int64_t utc_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace cms
