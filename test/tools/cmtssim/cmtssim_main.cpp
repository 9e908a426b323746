// cmtssim: a simulated CMTS for the gate controller's tests. See simulator.hpp, policer.hpp and
// control_server.hpp; `cmtssim --help` lists the options.

#include "runtime/radius/secret.hpp"
#include "test/tools/cmtssim/options.hpp"
#include "test/tools/cmtssim/radius_em_sender.hpp"
#include "test/tools/cmtssim/simulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  using namespace cms::cmtssim;
  options opts;
  try {
    opts = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::invalid_argument& e) {
    std::cerr << e.what();
    return 2;
  }
  try {
    boost::asio::io_context io{1};
    std::unique_ptr<radius_em_sender> ems;
    if (!opts.rks_secret_file.empty())
      ems = std::make_unique<radius_em_sender>(io, cms::radius::load_secret(opts.rks_secret_file),
                                               opts.element_id);
    simulator sim{io, opts, ems.get()};
    boost::asio::signal_set signals{io, SIGINT, SIGTERM};
    signals.async_wait([&](const boost::system::error_code&, int) {
      sim.stop();
      if (ems)
        ems->stop();
      io.stop();
    });
    std::cout << "cmtssim ready cops=" << sim.cops_port() << " control=" << sim.control_port()
              << " police=" << sim.police_port() << std::endl;
    io.run();
    auto report = sim.report();
    if (ems)
      report.as_object()["event_messages"] = ems->counters_json();
    const auto text = boost::json::serialize(report);
    std::cout << text << std::endl;
    if (!opts.report_file.empty()) {
      std::ofstream out{opts.report_file};
      out << text << "\n";
      if (!out)
        std::cerr << "cmtssim: cannot write " << opts.report_file << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "cmtssim: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
