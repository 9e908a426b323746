// mtasim: simulated PacketCable MTAs (NCS over UDP) for cmsd's tests, drills and benchmarks.
// Usage and the control protocol: docs/mtasim.md.

#include "test/tools/mtasim/options.hpp"
#include "test/tools/mtasim/report.hpp"
#include "test/tools/mtasim/simulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  using namespace cms::sim;
  sim_options opts;
  try {
    opts = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()) == "help") {
      std::cout << usage();
      return 0;
    }
    std::cerr << "mtasim: " << e.what() << "\n" << usage();
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io(1);
  simulator sim(io, opts, [](const std::string& line) {
    std::cout << "mtasim: " << line << std::endl; // flushed: tests wait for these lines
  });
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer run_timer(io);
  auto shutdown = [&] {
    sim.stop();
    signals.cancel();
    run_timer.cancel();
    // Let in-flight sends go out, then leave.
    io.stop();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec)
      shutdown();
  });
  sim.on_finished([&] { shutdown(); });
  try {
    sim.start();
  } catch (const std::exception& e) {
    std::cerr << "mtasim: cannot start: " << e.what() << "\n";
    return 1;
  }
  if (opts.scenario.empty() && opts.duration.count() > 0) {
    run_timer.expires_after(opts.duration);
    run_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec)
        shutdown();
    });
  }
  io.run();

  auto report = sim.report();
  auto json = boost::json::serialize(to_json(report));
  if (opts.json)
    std::cout << json << std::endl;
  else
    std::cout << to_text(report) << std::flush;
  if (!opts.report_file.empty()) {
    std::ofstream out(opts.report_file);
    out << json << "\n";
    if (!out) {
      std::cerr << "mtasim: cannot write " << opts.report_file << "\n";
      return 1;
    }
  }
  return 0;
}
