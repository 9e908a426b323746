#pragma once
// The current handle of a supervised actor for code outside the actor system (Asio callbacks):
// the supervisor's child spec stores the handle on every (re)start, I/O threads read it.

#include <caf/actor.hpp>

#include <mutex>

namespace cms {

class actor_slot {
public:
  void set(caf::actor a) {
    std::lock_guard g{mutex_};
    actor_ = std::move(a);
  }
  caf::actor get() const {
    std::lock_guard g{mutex_};
    return actor_;
  }

private:
  mutable std::mutex mutex_;
  caf::actor actor_;
};

} // namespace cms
