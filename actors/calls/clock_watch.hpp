#pragma once
// Notices a step of the wall clock (an operator setting the date, NTP stepping instead of
// slewing) by comparing it with the monotonic clock at each look: their difference only moves
// when the wall clock is stepped (a slewing NTP moves it by at most 0.5 ms per second).
// Calls up at a step bill a Time_Change event message with the step (docs/billing.md).
// Pure: the caller supplies both readings, so tests need no clock.

#include <cstdint>
#include <cstdlib>
#include <optional>

namespace cms::actors {

class clock_watch {
public:
  /// Steps smaller than `threshold_ms` are drift, not steps (PacketCable elements report
  /// changes of 200 ms and more).
  explicit clock_watch(std::int64_t threshold_ms = 200) : threshold_ms_(threshold_ms) {}

  /// One look at both clocks (milliseconds). Returns the step since the previous look when the
  /// wall clock moved by at least the threshold against the monotonic clock (negative: set
  /// back). Each look is the next one's reference, so slewing never adds up to a step.
  std::optional<std::int64_t> look(std::int64_t wall_ms, std::int64_t steady_ms) {
    const std::int64_t offset = wall_ms - steady_ms;
    auto previous = offset_;
    offset_ = offset;
    if (!previous)
      return std::nullopt;
    const std::int64_t step = offset - *previous;
    if (std::llabs(step) < threshold_ms_)
      return std::nullopt;
    return step;
  }

private:
  std::int64_t threshold_ms_;
  std::optional<std::int64_t> offset_;
};

} // namespace cms::actors
