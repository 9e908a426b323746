#pragma once
// What every simulated device (MTA, trunking gateway) shares: the io_context thread, the media
// clock, the options, the counters and the callbacks into the simulator. Kept as a plain struct so
// devices do not depend on the simulator class.

#include "runtime/base/metrics.hpp"
#include "test/tools/mtasim/options.hpp"
#include "test/tools/mtasim/report.hpp"
#include "test/tools/mtasim/rtp.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace cms::sim {

class line;
enum class line_event;

struct sim_context {
  boost::asio::io_context& io;
  media_clock& media;
  const sim_options& options;
  signalling_counters& signalling;
  metrics::registry& metrics;
  std::function<void(line&, line_event)> line_changed;
  std::function<void(const rtp_counters&, bool carried_media)> media_released;
  std::function<void(const std::string&)> log;
  /// Runs `fn` after `delay` on the io_context thread.
  std::function<void(std::chrono::milliseconds delay, std::function<void()> fn)> after;
};

} // namespace cms::sim
