#pragma once
// The audit trail of admin actions: data_dir/audit.log, one JSON object per line, appended and
// flushed before the answer is sent, for accepted and refused requests alike. Lines carry:
//   {"time":"2024-05-01T12:00:00.123Z","time_ms":..., "node":"cms-a", "action":"drain",
//    "target":"", "remote":"127.0.0.1:53422", "token":"valid", "status":200,
//    "outcome":"accepted", "detail":"..."}
// token: missing | malformed | invalid | valid | disabled (no token configured). The token itself
// is never written. Thread-safe; a write failure is logged and counted, never thrown at callers.

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

class audit_log {
public:
  audit_log(std::filesystem::path file, std::string node_id);

  /// Appends one line and flushes it. Returns false when the file cannot be written.
  bool append(const audit_entry& e);
  const std::filesystem::path& file() const noexcept { return file_; }
  std::uint64_t write_failures() const;

  /// "2024-05-01T12:00:00.123Z"
  static std::string iso_time(std::int64_t utc_ms);

private:
  std::filesystem::path file_;
  std::string node_id_;
  mutable std::mutex mutex_;
  std::ofstream out_;
  std::uint64_t failures_ = 0;
};

} // namespace cms
