#pragma once
// Admission of new calls: the operator's "drain" switch (POST /admin/drain, /admin/undrain).
// Draining refuses new call attempts while calls in progress continue, so a node can be emptied
// before maintenance or a switchover. Call control consults accepting_new_calls() on every new
// attempt (from any thread: the flag is a single atomic, no lock on the call path).

#include "runtime/base/wall_clock.hpp"
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace cms {

class admission {
public:
  /// True unless the node is draining. Lock-free; safe on the call path.
  bool accepting_new_calls() const noexcept { return !draining_.load(std::memory_order_acquire); }
  bool draining() const noexcept { return draining_.load(std::memory_order_acquire); }

  /// Starts draining. Returns false when the node was already draining (nothing changed).
  bool drain(std::string reason) { return set(true, std::move(reason)); }
  /// Accepts new calls again. Returns false when the node was not draining.
  bool undrain(std::string reason) { return set(false, std::move(reason)); }

  struct state {
    bool draining = false;
    std::int64_t since_ms = 0; ///< UTC ms of the last change; 0: never changed since start
    std::string reason;        ///< operator's reason of the last change
  };
  state get() const {
    std::lock_guard guard{mutex_};
    return {draining(), since_ms_, reason_};
  }

  /// Puts back a state saved before a restart (runtime/node/admin_state_store.hpp), keeping its
  /// since and reason.
  void restore(const state& saved) {
    std::lock_guard guard{mutex_};
    draining_.store(saved.draining, std::memory_order_release);
    since_ms_ = saved.since_ms;
    reason_ = saved.reason;
  }

private:
  bool set(bool value, std::string reason) {
    std::lock_guard guard{mutex_};
    if (draining_.load(std::memory_order_relaxed) == value)
      return false;
    draining_.store(value, std::memory_order_release);
    since_ms_ = utc_ms();
    reason_ = std::move(reason);
    return true;
  }

  std::atomic<bool> draining_{false};
  mutable std::mutex mutex_; ///< serialises changes and guards since/reason
  std::int64_t since_ms_ = 0;
  std::string reason_;
};

} // namespace cms
