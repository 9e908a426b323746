#include "runtime/base/logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>
#include <vector>

namespace cms::log {

namespace {

struct state {
  std::mutex mutex;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum level = spdlog::level::info;
  std::string pattern = "ts=%Y-%m-%dT%H:%M:%S.%eZ node=cms level=%l component=%n %v";
};

state& global() {
  static state s;
  return s;
}

} // namespace

bool parse_level(const std::string& name, spdlog::level::level_enum& out) {
  static const std::pair<const char*, spdlog::level::level_enum> table[] = {
    {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
    {"off", spdlog::level::off}};
  for (auto& [n, l] : table)
    if (name == n) {
      out = l;
      return true;
    }
  return false;
}

void init(const settings& s) {
  auto& g = global();
  std::lock_guard guard{g.mutex};
  g.sinks.clear();
  if (s.file.empty())
    g.sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  else // rotation keeps a node that logs every call from filling the disk: 5 x 50 MiB
    g.sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(s.file, 50u << 20, 5));
  parse_level(s.level, g.level);
  g.pattern = "ts=%Y-%m-%dT%H:%M:%S.%eZ node=" + s.node_id + " level=%l component=%n %v";
  spdlog::drop_all();
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  auto& g = global();
  std::lock_guard guard{g.mutex};
  if (auto existing = spdlog::get(component))
    return existing;
  if (g.sinks.empty())
    g.sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>(component, g.sinks.begin(), g.sinks.end());
  logger->set_level(g.level);
  logger->set_pattern(g.pattern, spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

} // namespace cms::log
