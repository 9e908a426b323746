#pragma once
// The one way tests wait for something another thread or process does: poll a condition until it
// holds or a bound passes, then look once more (a condition that became true at the deadline
// still counts).

#include <chrono>
#include <thread>

namespace cms::test {

/// Polls `condition` every `poll` until it returns true or `limit` passes.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds{10},
                std::chrono::milliseconds poll = std::chrono::milliseconds{10}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

} // namespace cms::test
