// cmsd: the Call Management Server node.
//   cmsd --config FILE            run the node
//   cmsd --check-config FILE      validate a node configuration and exit
//   cmsd --provision FILE DB      import a provisioning file into a node database (idempotent)
//   cmsd --help | --version

#include "cms/version.hpp"
#include "persistence/database.hpp"
#include "persistence/provisioning_import.hpp"
#include "runtime/base/config.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/node/node.hpp"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2; ///< bad command line or bad configuration

const char* usage_text = R"(Usage: cmsd [OPTION]...
The Call Management Server (softswitch) node of an active/standby pair.

  -c, --config FILE          run the node with this configuration
      --check-config FILE    validate a configuration file and exit
      --provision FILE DB    import provisioning FILE into the node database DB
                             (transactional and idempotent) and exit
  -h, --help                 show this help and exit
  -V, --version              show the version and exit

Exit status: 0 success, 1 runtime failure (database, ports), 2 usage or configuration error.
)";

int usage_error(const std::string& message) {
  std::cerr << "cmsd: " << message << "\nTry 'cmsd --help' for more information.\n";
  return exit_usage;
}

int check_config(const std::string& file) {
  try {
    auto cfg = cms::config::load_node_config(file);
    cms::config::read_node_secrets(cfg);
    std::cout << file << ": OK (node " << cfg.node.id << ")\n";
    return exit_ok;
  } catch (const cms::config::config_error& e) {
    std::cerr << "cmsd: " << e.what() << "\n";
    return exit_usage;
  }
}

int provision(const std::string& file, const std::string& db_file) {
  try {
    // Validates the file before the database is even created: a bad file leaves nothing behind.
    auto summary = cms::persistence::provision_database(file, db_file);
    std::cout << file << " -> " << db_file << ": " << summary << "\n";
    return exit_ok;
  } catch (const cms::persistence::provisioning_error& e) {
    std::cerr << "cmsd: " << e.what() << "\n";
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "cmsd: " << e.what() << "\n";
    return exit_failure;
  }
}

int run(const std::string& file) {
  cms::config::node_config cfg;
  try {
    cfg = cms::config::load_node_config(file);
    cms::config::read_node_secrets(cfg);
  } catch (const cms::config::config_error& e) {
    std::cerr << "cmsd: " << e.what() << "\n";
    return exit_usage;
  }
  cms::log::init({cfg.node.id, cfg.log.level, cfg.log.file.string()});
  return cms::node{std::move(cfg)}.run();
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty())
    return usage_error("no configuration given (use --config FILE)");
  const auto& a = args[0];
  if (a == "-h" || a == "--help") {
    std::cout << usage_text;
    return exit_ok;
  }
  if (a == "-V" || a == "--version") {
    std::cout << "cmsd " << cms::version << "\n";
    return exit_ok;
  }
  if (a == "--check-config") {
    if (args.size() != 2)
      return usage_error("--check-config takes exactly one FILE");
    return check_config(args[1]);
  }
  if (a == "--provision") {
    if (args.size() != 3)
      return usage_error("--provision takes FILE and DB");
    return provision(args[1], args[2]);
  }
  if (a == "-c" || a == "--config") {
    if (args.size() != 2)
      return usage_error("--config takes exactly one FILE");
    return run(args[1]);
  }
  if (a.rfind("--config=", 0) == 0 && args.size() == 1)
    return run(a.substr(9));
  return usage_error("unrecognized option '" + a + "'");
}
