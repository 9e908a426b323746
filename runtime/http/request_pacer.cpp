#include "runtime/http/request_pacer.hpp"

#include <algorithm>

namespace cms::http {

request_pacer::request_pacer(pacing_config cfg) : cfg_(cfg) {
  if (enabled()) {
    interval_ = std::chrono::duration_cast<clock::duration>(
      std::chrono::duration<double>(1.0 / cfg_.requests_per_s));
    interval_ = std::max(interval_, clock::duration{1});
    tolerance_ = interval_ * static_cast<long>(cfg_.burst);
  }
}

request_pacer::decision request_pacer::admit(clock::time_point now) {
  if (!enabled())
    return {};
  std::lock_guard lock{mutex_};
  auto tat = std::max(tat_, now);
  auto earliest = tat - tolerance_;
  auto delay = earliest > now ? earliest - now : clock::duration::zero();
  if (delay > cfg_.max_delay)
    return {false, delay};
  tat_ = tat + interval_;
  return {true, delay};
}

} // namespace cms::http
