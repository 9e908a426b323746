#include "runtime/node/audit_log.hpp"

#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <ctime>

namespace cms {

audit_log::audit_log(std::filesystem::path file, std::string node_id)
  : file_(std::move(file)),
    node_id_(std::move(node_id)) {
  std::error_code ec;
  if (file_.has_parent_path())
    std::filesystem::create_directories(file_.parent_path(), ec);
  out_.open(file_, std::ios::app);
  if (!out_)
    log::get("audit")->error("event=audit_log_unwritable file={}", file_.string());
}

std::string audit_log::iso_time(std::int64_t utc_ms) {
  std::time_t secs = static_cast<std::time_t>(utc_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(utc_ms % 1000));
  return buf;
}

bool audit_log::append(const audit_entry& e) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  bool accepted = e.status >= 200 && e.status < 300;
  boost::json::object line{
    {"time", iso_time(now)}, {"time_ms", now},     {"node", node_id_},
    {"action", e.action},    {"target", e.target}, {"remote", e.remote},
    {"token", e.token},      {"status", e.status}, {"outcome", accepted ? "accepted" : "refused"},
    {"detail", e.detail}};
  auto text = boost::json::serialize(line);
  std::lock_guard guard{mutex_};
  if (!out_.is_open())
    out_.open(file_, std::ios::app);
  out_ << text << '\n';
  out_.flush();
  if (!out_) {
    out_.clear();
    out_.close();
    ++failures_;
    log::get("audit")->error("event=audit_write_failed file={} action={}", file_.string(),
                             e.action);
    return false;
  }
  return true;
}

std::uint64_t audit_log::write_failures() const {
  std::lock_guard guard{mutex_};
  return failures_;
}

} // namespace cms
