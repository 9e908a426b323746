// link-peer: answers data-link probes (docs/data-links.md) on one address, so a test, drill or the
// lab can stand for the partner's end of the primary link or of the backup VPN, and stop one
// path's answers while the RKS behind both stays up.
//   link-peer --listen HOST:PORT [--port-file FILE] [--dscp N] [--log-level L] [--log-file F]

#include "runtime/base/logging.hpp"
#include "runtime/base/metrics.hpp"
#include "test/tools/linkpeer/probe_responder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>

namespace {

constexpr const char* usage = "usage: link-peer --listen HOST:PORT [--port-file FILE] [--dscp N]\n"
                              "                 [--log-level LEVEL] [--log-file FILE]\n";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::uint64_t to_number(const std::string& name, const std::string& text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw usage_error(name + ": '" + text + "' is not a number");
  return v;
}

/// Written via rename so a reader never sees a half-written port number.
void write_port_file(const std::string& path, std::uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out{tmp};
    out << port << "\n";
    if (!out)
      throw std::runtime_error("cannot write port file '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename port file to '" + path + "'");
}

int run(int argc, char** argv) {
  std::map<std::string, std::string> o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help")
      throw usage_error("");
    if (a != "--listen" && a != "--port-file" && a != "--dscp" && a != "--log-level" &&
        a != "--log-file")
      throw usage_error("unknown option '" + a + "'");
    if (i + 1 >= argc)
      throw usage_error(a + " needs a value");
    o[a] = argv[++i];
  }
  if (!o.count("--listen"))
    throw usage_error("--listen is required");
  // HOST:PORT with a literal address; port 0 picks a free port (see --port-file).
  const auto& listen = o["--listen"];
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw usage_error("--listen wants HOST:PORT, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto port = to_number("--listen port", listen.substr(colon + 1));
  if (port > 65535)
    throw usage_error("--listen port out of range");
  // Answers carry the management class (CS1) unless told otherwise.
  const auto dscp = o.count("--dscp") ? to_number("--dscp", o["--dscp"]) : 8;
  if (dscp > 63)
    throw usage_error("--dscp must be 0..63");

  const std::string level_name = o.count("--log-level") ? o["--log-level"] : "info";
  spdlog::level::level_enum level;
  if (!cms::log::parse_level(level_name, level))
    throw usage_error("unknown log level '" + level_name + "'");
  cms::log::init(cms::log::settings{"link-peer", level_name, o["--log-file"]});
  auto log = cms::log::get("link-peer");

  cms::metrics::registry metrics;
  boost::asio::io_context io;
  cms::links::probe_responder responder{io, host, static_cast<std::uint16_t>(port),
                                        static_cast<int>(dscp), metrics};
  if (o.count("--port-file"))
    write_port_file(o["--port-file"], responder.port());
  log->info("answering link probes on {}:{}", host, responder.port());
  boost::asio::signal_set signals{io, SIGTERM, SIGINT};
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec)
      return;
    log->info("signal {}: stopping", sig);
    responder.stop();
  });
  io.run();
  log->info("stopped, {} probes answered",
            metrics.value("cms_link_peer_probes_total", {{"result", "answered"}}));
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const usage_error& e) {
    if (*e.what())
      std::cerr << "link-peer: " << e.what() << "\n";
    std::cerr << usage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "link-peer: " << e.what() << "\n";
    return 1;
  }
}
