#pragma once
// One log line per event, greppable key=value: "ts=... node=cms-a level=info component=mgcp msg".
// Every component takes its own named logger so the component appears on each line.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace cms::log {

struct settings {
  std::string node_id = "cms";
  std::string level = "info"; ///< trace|debug|info|warn|error|critical|off
  std::string file;           ///< empty: stderr
};

/// Installs the sinks and pattern for the process; later calls replace them.
void init(const settings& s);

/// The logger of one component ("mgcp", "http", "supervisor"...), created on first use with the
/// process-wide sinks and level.
std::shared_ptr<spdlog::logger> get(const std::string& component);

/// Parses a level name; returns false for an unknown name.
bool parse_level(const std::string& name, spdlog::level::level_enum& out);

} // namespace cms::log
