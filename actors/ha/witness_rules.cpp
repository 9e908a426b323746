#include "actors/ha/witness_rules.hpp"

namespace cms::ha {

witness_verdict witness_rules::claim(const std::string& node, std::uint64_t epoch,
                                     std::chrono::milliseconds lease, time_point now) {
  bool same_claim = epoch == state_.epoch && node == state_.holder;
  bool lease_free = now >= state_.lease_until || node == state_.holder;
  if (same_claim || (epoch > state_.epoch && lease_free)) {
    state_.epoch = epoch;
    state_.holder = node;
    state_.lease_until = now + lease;
    return {true, epoch, node};
  }
  return {false, state_.epoch, state_.holder};
}

witness_verdict witness_rules::renew(const std::string& node, std::uint64_t epoch,
                                     std::chrono::milliseconds lease, time_point now) {
  if (epoch == state_.epoch && node == state_.holder) {
    state_.lease_until = now + lease;
    return {true, epoch, node};
  }
  return {false, state_.epoch, state_.holder};
}

witness_verdict witness_rules::release(const std::string& node, std::uint64_t epoch,
                                       time_point now) {
  if (epoch == state_.epoch && node == state_.holder) {
    state_.lease_until = now;
    return {true, epoch, node};
  }
  return {false, state_.epoch, state_.holder};
}

} // namespace cms::ha
