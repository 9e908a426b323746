#pragma once
// The audit trail of admin actions: data_dir/audit.log, one JSON object per line, appended and
// flushed before the answer is sent, for accepted and refused requests alike. Lines carry:
//   {"time":"2024-05-01T12:00:00.123Z","time_ms":..., "node":"cms-a", "action":"drain",
//    "target":"", "remote":"127.0.0.1:53422", "token":"valid", "status":200,
//    "outcome":"accepted", "detail":"..."}
// token: missing | malformed | invalid | valid | disabled (no token configured). The token itself
// is never written. Thread-safe; a write failure is logged and counted, never thrown at callers.
//
// Bounded: anyone who reaches the HTTP port can make a refused attempt, so an attempt without a
// valid token is written without its payload (target and detail left out, "target_bytes" says
// how long the target was), at most `refused_per_s` lines per second (burst 4x); the attempts
// over that are counted and reported as "suppressed" in the next refused line. An accepted
// request's target is cut at 256 bytes. The file is rotated when it passes `max_bytes`
// (audit.log -> audit.log.1 -> ... -> audit.log.<files>, the oldest dropped).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

namespace cms {

struct audit_entry {
  std::string action;  ///< switchover, drain, undrain, link_out_of_service, ..., provision
  std::string target;  ///< link or gateway name; empty when the action has none
  std::string remote;  ///< "address:port" of the client
  std::string token;   ///< missing | malformed | invalid | valid | disabled
  unsigned status = 0; ///< HTTP status answered
  std::string detail;  ///< the answer's message, for humans
};

struct audit_limits {
  std::uint64_t max_bytes = 16 * 1024 * 1024;
  int files = 4;
  double refused_per_s = 5;
};

class audit_log {
public:
  audit_log(std::filesystem::path file, std::string node_id, audit_limits limits = {});

  /// Appends one line and flushes it. Returns false when the file cannot be written.
  bool append(const audit_entry& e);
  const std::filesystem::path& file() const noexcept { return file_; }
  std::uint64_t write_failures() const;
  /// Refused attempts not written (over refused_per_s).
  std::uint64_t suppressed() const;
  static constexpr std::size_t max_target_bytes = 256;

  /// "2024-05-01T12:00:00.123Z"
  static std::string iso_time(std::int64_t utc_ms);

private:
  std::filesystem::path file_;
  std::string node_id_;
  mutable std::mutex mutex_;
  std::ofstream out_;
  std::uint64_t failures_ = 0;
  audit_limits limits_;
  std::uint64_t size_ = 0;
  double tokens_ = 0;
  std::int64_t refilled_ms_ = 0;
  std::uint64_t suppressed_ = 0;       ///< total
  std::uint64_t suppressed_since_ = 0; ///< since the last refused line written
  void rotate();
};

} // namespace cms
