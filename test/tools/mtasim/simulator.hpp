#pragma once
// The whole simulation on one io_context thread: the MTAs and their lines, the answering
// behaviour of the simulated subscribers, the optional call scenario, the optional trunking
// gateways and the control interface. Owns the counters the report is built from.

#include "runtime/base/metrics.hpp"
#include "test/tools/mtasim/control.hpp"
#include "test/tools/mtasim/gateway.hpp"
#include "test/tools/mtasim/line.hpp"
#include "test/tools/mtasim/mta.hpp"
#include "test/tools/mtasim/options.hpp"
#include "test/tools/mtasim/report.hpp"
#include "test/tools/mtasim/rtp.hpp"
#include "test/tools/mtasim/scenario.hpp"
#include "test/tools/mtasim/sim_context.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace cms::sim {

class simulator {
public:
  /// `announce` receives the startup lines (control port, MTA addresses) for stdout.
  simulator(boost::asio::io_context& io, sim_options opts,
            std::function<void(const std::string&)> announce);
  ~simulator();

  /// Binds every socket and starts registration (and the scenario once registered).
  void start();
  /// Stops every device; io.run() returns once their pending work drained.
  void stop();
  /// Called when the scenario (if any) has finished.
  void on_finished(std::function<void()> f) { finished_ = std::move(f); }

  report_data report() const;
  /// One control request -> one response line.
  std::string execute(const std::string& request);

  /// By 1-based index, endpoint name or directory number; nullptr when unknown.
  line* find_line(const std::string& token) const;
  const std::vector<line*>& lines() const noexcept { return lines_; }
  /// By name or 1-based index; nullptr when unknown.
  trunk_gateway* find_gateway(const std::string& token) const;

private:
  struct subscriber {
    answer_policy policy = answer_policy::automatic;
    bool answering = false; ///< auto-answer scheduled
    bool answered = false;  ///< went off-hook to answer: hangs up when the call is released
    bool hanging_up = false;
    bool had_connection = false;
  };

  void line_changed(line& l, line_event e);
  void subscriber_reacts(line& l, subscriber& s, line_event e);
  void after(std::chrono::milliseconds delay, std::function<void()> fn);
  void maybe_start_scenario();
  /// After the scenario: wait until every subscriber is back on hook and its last NTFY answered
  /// (callees hang up `hangup_delay` after their caller), then report finished.
  void settle_then_finish(std::chrono::steady_clock::time_point deadline);
  void log(const std::string& text);
  std::string execute_gateway(const std::string& verb, std::istringstream& in);

  boost::asio::io_context& io_;
  sim_options opts_;
  std::function<void(const std::string&)> announce_;
  std::function<void()> finished_;
  metrics::registry metrics_;
  media_clock media_;
  signalling_counters signalling_;
  call_counters calls_;
  rtp_counters rtp_released_;
  std::uint64_t rtp_streams_ = 0;
  sim_context ctx_;
  std::vector<std::unique_ptr<mta>> mtas_;
  trunk_counters trunk_counters_;
  std::vector<std::unique_ptr<trunk_gateway>> gateways_;
  std::vector<line*> lines_;
  std::vector<subscriber> subscribers_; ///< by line index - 1
  std::unique_ptr<call_scenario> scenario_;
  std::unique_ptr<control_server> control_;
  std::unique_ptr<boost::asio::steady_timer> register_timer_;
  bool scenario_started_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point started_at_;
};

} // namespace cms::sim
