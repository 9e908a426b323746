// rks: the Record Keeping Server collector used by tests and drills as the partner's RKS.
//   rks serve  --listen HOST:PORT --db FILE --cert F --key F --ca F [--port-file F]
//              [--max-frame-size BYTES] [--idle-timeout-ms MS] [--frame-timeout-ms MS]
//              [--probe HOST:PORT] [--probe-port-file F] [--dscp N]
//              [--log-level L] [--log-file F]
//   rks probe  --listen HOST:PORT [--port-file F] [--dscp N] [--log-level L] [--log-file F]
//   rks count  --db FILE
//   rks list   --db FILE [--json]
//   rks export --db FILE --format csv|json

#include "runtime/base/logging.hpp"
#include "runtime/base/metrics.hpp"
#include "test/tools/rks/record_export.hpp"
#include "test/tools/rks/probe_responder.hpp"
#include "test/tools/rks/record_store.hpp"
#include "test/tools/rks/rks_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

namespace {

using namespace cms::billing;

constexpr const char* usage =
  "usage: rks serve --listen HOST:PORT --db FILE --cert FILE --key FILE --ca FILE\n"
  "                 [--port-file FILE] [--max-frame-size BYTES] [--idle-timeout-ms MS]\n"
  "                 [--frame-timeout-ms MS] [--probe HOST:PORT] [--probe-port-file FILE]\n"
  "                 [--dscp N] [--log-level LEVEL] [--log-file FILE]\n"
  "       rks probe --listen HOST:PORT [--port-file FILE] [--dscp N]\n"
  "                 [--log-level LEVEL] [--log-file FILE]\n"
  "       rks count --db FILE\n"
  "       rks list --db FILE [--json]\n"
  "       rks export --db FILE --format csv|json\n";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// "--name value" options and "--flag" switches, checked against what the command accepts.
struct options {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;

  options(int argc, char** argv, const std::set<std::string>& valued,
          const std::set<std::string>& switches) {
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      if (switches.count(a)) {
        flags.insert(a);
      } else if (valued.count(a)) {
        if (i + 1 >= argc)
          throw usage_error(a + " needs a value");
        values[a] = argv[++i];
      } else {
        throw usage_error("unknown option '" + a + "'");
      }
    }
  }
  const std::string& required(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end() || it->second.empty())
      throw usage_error(name + " is required");
    return it->second;
  }
  std::string get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
};

std::uint64_t to_number(const std::string& name, const std::string& text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw usage_error(name + ": '" + text + "' is not a number");
  return v;
}

/// HOST:PORT with a literal address; port 0 picks a free port (see --port-file).
void parse_listen(const std::string& text, rks_server_settings& s) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw usage_error("--listen wants HOST:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto port = to_number("--listen port", text.substr(colon + 1));
  if (port > 65535)
    throw usage_error("--listen port out of range");
  s.host = host;
  s.port = static_cast<std::uint16_t>(port);
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

/// --dscp: traffic class of the probe answers (default CS1, the management class).
int dscp_option(const options& o) {
  const auto v = to_number("--dscp", o.get("--dscp", "8"));
  if (v > 63)
    throw usage_error("--dscp must be 0..63");
  return static_cast<int>(v);
}

int serve(int argc, char** argv) {
  const options o{argc,
                  argv,
                  {"--listen", "--db", "--cert", "--key", "--ca", "--port-file", "--max-frame-size",
                   "--idle-timeout-ms", "--frame-timeout-ms", "--log-level", "--log-file",
                   "--probe", "--probe-port-file", "--dscp"},
                  {}};
  rks_server_settings settings;
  parse_listen(o.required("--listen"), settings);
  settings.tls = tls_settings{o.required("--cert"), o.required("--key"), o.required("--ca")};
  if (o.values.count("--max-frame-size"))
    settings.max_frame_size = to_number("--max-frame-size", o.required("--max-frame-size"));
  if (o.values.count("--idle-timeout-ms"))
    settings.idle_timeout =
      std::chrono::milliseconds{to_number("--idle-timeout-ms", o.required("--idle-timeout-ms"))};
  if (o.values.count("--frame-timeout-ms"))
    settings.frame_timeout =
      std::chrono::milliseconds{to_number("--frame-timeout-ms", o.required("--frame-timeout-ms"))};

  spdlog::level::level_enum level;
  const auto level_name = o.get("--log-level", "info");
  if (!cms::log::parse_level(level_name, level))
    throw usage_error("unknown log level '" + level_name + "'");
  cms::log::init(cms::log::settings{"rks", level_name, o.get("--log-file", "")});
  auto log = cms::log::get("rks");

  record_store store{o.required("--db"), true};
  cms::metrics::registry metrics;
  boost::asio::io_context io;
  rks_server server{io, settings, store, metrics};
  if (auto pf = o.get("--port-file", ""); !pf.empty())
    write_port_file(pf, server.port());
  log->info("listening on {}:{} db={} records={}", settings.host, server.port(), o.required("--db"),
            store.count());

  // The data-link probe responder of the partner's management network (docs/data-links.md).
  std::unique_ptr<probe_responder> responder;
  if (o.values.count("--probe")) {
    rks_server_settings probe_at;
    parse_listen(o.required("--probe"), probe_at);
    responder =
      std::make_unique<probe_responder>(io, probe_at.host, probe_at.port, dscp_option(o), metrics);
    if (auto pf = o.get("--probe-port-file", ""); !pf.empty())
      write_port_file(pf, responder->port());
    log->info("answering link probes on {}:{}", probe_at.host, responder->port());
  }

  boost::asio::signal_set signals{io, SIGTERM, SIGINT};
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec)
      return;
    log->info("signal {}: stopping", sig);
    server.stop();
    if (responder)
      responder->stop();
  });
  io.run();
  for (const auto& s : metrics.snapshot()) {
    std::string labels;
    for (const auto& [k, v] : s.labels)
      labels += " " + k + "=" + v;
    log->info("counter {}{} = {}", s.name, labels, s.value);
  }
  log->info("stopped, {} records stored", store.count());
  return 0;
}

/// `rks probe`: only the link-probe echo, so a test or drill can stop one path's responder while
/// the RKS itself stays up.
int probe(int argc, char** argv) {
  const options o{
    argc, argv, {"--listen", "--port-file", "--dscp", "--log-level", "--log-file"}, {}};
  rks_server_settings at;
  parse_listen(o.required("--listen"), at);
  const auto level_name = o.get("--log-level", "info");
  spdlog::level::level_enum level;
  if (!cms::log::parse_level(level_name, level))
    throw usage_error("unknown log level '" + level_name + "'");
  cms::log::init(cms::log::settings{"rks-probe", level_name, o.get("--log-file", "")});
  auto log = cms::log::get("rks");
  cms::metrics::registry metrics;
  boost::asio::io_context io;
  probe_responder responder{io, at.host, at.port, dscp_option(o), metrics};
  if (auto pf = o.get("--port-file", ""); !pf.empty())
    write_port_file(pf, responder.port());
  log->info("answering link probes on {}:{}", at.host, responder.port());
  boost::asio::signal_set signals{io, SIGTERM, SIGINT};
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec)
      return;
    log->info("signal {}: stopping", sig);
    responder.stop();
  });
  io.run();
  log->info("stopped, {} probes answered",
            metrics.value("cms_rks_probes_total", {{"result", "answered"}}));
  return 0;
}

int count(int argc, char** argv) {
  const options o{argc, argv, {"--db"}, {}};
  record_store store{o.required("--db"), false};
  std::cout << store.count() << "\n";
  return 0;
}

int list(int argc, char** argv) {
  const options o{argc, argv, {"--db"}, {"--json"}};
  record_store store{o.required("--db"), false};
  const auto records = store.list();
  std::cout << (o.flags.count("--json") ? list_json_lines(records) : list_text(records));
  return 0;
}

int export_records(int argc, char** argv) {
  const options o{argc, argv, {"--db", "--format"}, {}};
  const auto& format = o.required("--format");
  if (format != "csv" && format != "json")
    throw usage_error("--format must be csv or json");
  record_store store{o.required("--db"), false};
  const auto records = store.list();
  std::cout << (format == "csv" ? export_csv(records) : export_json(records));
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string command = argv[1];
  try {
    if (command == "serve")
      return serve(argc, argv);
    if (command == "probe")
      return probe(argc, argv);
    if (command == "count")
      return count(argc, argv);
    if (command == "list")
      return list(argc, argv);
    if (command == "export")
      return export_records(argc, argv);
    if (command == "--help" || command == "help") {
      std::cout << usage;
      return 0;
    }
    throw usage_error("unknown command '" + command + "'");
  } catch (const usage_error& e) {
    std::cerr << "rks: " << e.what() << "\n" << usage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "rks: " << e.what() << "\n";
    return 1;
  }
}
