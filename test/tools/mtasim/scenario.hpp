#pragma once
// Scenario "calls": places calls between the simulated lines at a fixed rate for a duration, each
// held for a hold time, and classifies every attempt. The caller side is driven here; the called
// side is the ordinary answering behaviour of the simulator (ringing -> off-hook after a delay,
// release -> on-hook).
//
// Classification, from what the caller's line is told by the call agent:
//   ringback (S: L/rt) or a sendrecv connection     -> setup latency sample
//   a sendrecv connection with a remote, no ringback -> answered; held; on-hook; completed when the
//                                                       call agent deletes the caller's connections
//   busy tone (L/bz) before any ringback             -> busy
//   reorder (L/ro) before any ringback               -> reorder
//   ringback then a tone / ringback too long         -> no_answer
//   no dial tone / no progress in --setup-timeout    -> timeout
//   connections deleted while talking                -> dropped

#include "test/tools/mtasim/line.hpp"
#include "test/tools/mtasim/options.hpp"
#include "test/tools/mtasim/report.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

namespace cms::sim {

class call_scenario {
public:
  call_scenario(boost::asio::io_context& io, const sim_options& opts, std::vector<line*> lines,
                call_counters& counters, std::function<void()> finished);
  ~call_scenario();

  /// Starts placing calls now.
  void start();
  /// Stops placing calls and abandons the ones in progress (counted as timeout).
  void abort();
  void line_changed(line& l, line_event e);
  /// Is the line the caller of a call in progress (the answering behaviour leaves it alone)?
  bool is_caller(const line& l) const;
  std::chrono::milliseconds hold_time();
  std::size_t active_calls() const noexcept { return calls_.size(); }
  bool done() const noexcept { return done_; }

  /// A line that can take part in a new call: registered, on-hook, no connection, armed for
  /// off-hook, not reserved by a call in progress.
  bool idle(const line& l) const;

private:
  struct call;
  void place_next();
  void start_call();
  void advance(call& c);
  void dial(call& c);
  void fail(call& c, const char* cause);
  void hang_up(call& c);
  void finish(call& c);
  void check_done();

  boost::asio::io_context& io_;
  const sim_options& opts_;
  std::vector<line*> lines_;
  call_counters& counters_;
  std::function<void()> finished_;
  boost::asio::steady_timer pacing_;
  boost::asio::steady_timer drain_;
  std::chrono::steady_clock::time_point start_, end_;
  std::uint64_t placed_ = 0;
  std::size_t caller_cursor_ = 0;
  std::size_t callee_cursor_;
  std::size_t called_cursor_ = 0; ///< --scenario offnet: next --called number
  std::list<std::unique_ptr<call>> calls_;
  std::set<const line*> reserved_;
  /// Caller line -> its call in progress: line events and is_caller() are O(1), not a walk
  /// over every call (100k established calls in the memory benchmark).
  std::unordered_map<const line*, call*> by_caller_;
  bool placing_ = false;
  bool done_ = false;
};

} // namespace cms::sim
