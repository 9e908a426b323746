#pragma once
// A witness arbitrates promotions of one pair: it grants each epoch at most once and holds the
// active's lease, so that of two nodes that cannot see each other at most one can gather a
// majority. Pure logic; runtime/programs/witness_main.cpp puts it on a UDP socket, persisting the state
// after every change (a witness that forgot a grant would break the "once" above).

#include <chrono>
#include <cstdint>
#include <string>

namespace cms::ha {

struct witness_state {
  std::uint64_t epoch = 0; ///< highest epoch granted
  std::string holder;      ///< node the epoch was granted to
  std::chrono::steady_clock::time_point lease_until{};
};

struct witness_verdict {
  bool granted = false;
  std::uint64_t epoch = 0; ///< the witness's current epoch (tells a refused node what it missed)
  std::string holder;
};

class witness_rules {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit witness_rules(witness_state s = {}) : state_(std::move(s)) {}

  /// Grant `epoch` to `node` if it is newer than anything granted and the current holder's lease
  /// has run out (or the holder is asking again). A retransmitted claim is granted again.
  witness_verdict claim(const std::string& node, std::uint64_t epoch,
                        std::chrono::milliseconds lease, time_point now);
  /// Extend the lease of the current holder at its epoch; refused for anyone else.
  witness_verdict renew(const std::string& node, std::uint64_t epoch,
                        std::chrono::milliseconds lease, time_point now);
  /// The holder gives its lease up now (graceful switchover).
  witness_verdict release(const std::string& node, std::uint64_t epoch, time_point now);

  const witness_state& state() const noexcept { return state_; }

private:
  witness_state state_;
};

} // namespace cms::ha
