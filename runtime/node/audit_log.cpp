#include "runtime/node/audit_log.hpp"

#include "runtime/base/wall_clock.hpp"

#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <utility>

namespace cms {

audit_log::audit_log(std::filesystem::path file, std::string node_id, audit_limits limits)
  : file_(std::move(file)),
    node_id_(std::move(node_id)),
    limits_(limits),
    tokens_(limits.refused_per_s * 4) {
  std::error_code ec;
  if (file_.has_parent_path())
    std::filesystem::create_directories(file_.parent_path(), ec);
  auto existing = std::filesystem::file_size(file_, ec);
  size_ = ec ? 0 : existing;
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

void audit_log::rotate() {
  out_.close();
  std::error_code ec;
  auto numbered = [&](int n) {
    return std::filesystem::path(file_.string() + "." + std::to_string(n));
  };
  std::filesystem::remove(numbered(limits_.files), ec);
  for (int n = limits_.files - 1; n >= 1; --n)
    std::filesystem::rename(numbered(n), numbered(n + 1), ec);
  std::filesystem::rename(file_, numbered(1), ec);
  size_ = 0;
  out_.open(file_, std::ios::app);
}

bool audit_log::append(const audit_entry& e) {
  auto now = utc_ms();
  bool accepted = e.status >= 200 && e.status < 300;
  // Only a caller with the token may put its own bytes in the file.
  const bool authenticated = e.token == "valid";
  boost::json::object line{{"time", iso_time(now)}, {"time_ms", now},
                           {"node", node_id_},      {"action", e.action},
                           {"remote", e.remote},    {"token", e.token},
                           {"status", e.status},    {"outcome", accepted ? "accepted" : "refused"}};
  if (authenticated) {
    line["target"] = e.target.substr(0, max_target_bytes);
    line["detail"] = e.detail.substr(0, 1024);
  } else {
    line["target_bytes"] = e.target.size();
  }
  std::lock_guard guard{mutex_};
  if (!authenticated) {
    const double burst = limits_.refused_per_s * 4;
    if (refilled_ms_ != 0 && now > refilled_ms_)
      tokens_ = std::min(burst, tokens_ + static_cast<double>(now - refilled_ms_) / 1000.0 *
                                            limits_.refused_per_s);
    refilled_ms_ = std::max(refilled_ms_, now);
    if (tokens_ < 1.0) {
      ++suppressed_;
      ++suppressed_since_;
      return true;
    }
    tokens_ -= 1.0;
    if (suppressed_since_ > 0)
      line["suppressed"] = std::exchange(suppressed_since_, 0);
  }
  auto text = boost::json::serialize(line);
  if (size_ + text.size() + 1 > limits_.max_bytes && size_ > 0)
    rotate();
  if (!out_.is_open())
    out_.open(file_, std::ios::app);
  out_ << text << '\n';
  out_.flush();
  size_ += text.size() + 1;
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

std::uint64_t audit_log::suppressed() const {
  std::lock_guard guard{mutex_};
  return suppressed_;
}

std::uint64_t audit_log::write_failures() const {
  std::lock_guard guard{mutex_};
  return failures_;
}

} // namespace cms
