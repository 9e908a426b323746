#pragma once
// Shared pieces of the billing transport tests: a temp dir with dev certificates made by
// scripts/gen-certs.sh, the real `rks` program as a child process, and billing record fixtures.

#include "persistence/billing_record.hpp"
#include "runtime/transport/rks_client.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace cms::test {

/// A fresh directory under /tmp, removed on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

/// Runs scripts/gen-certs.sh into `dir`; returns false when the script fails.
bool generate_certs(const std::string& dir);

/// TLS files of one certificate named NAME in the cert dir, trusting CA file `ca`.
billing::tls_settings tls_for(const std::string& cert_dir, const std::string& name,
                              const std::string& ca = "ca");

/// Exit status and standard output of a finished command.
struct command_result {
  int status = -1;
  std::string out;
};

/// Runs CMS_BINARY_DIR/rks with these arguments and waits for it.
command_result run_rks(const std::vector<std::string>& args);

/// `rks count --db FILE`, or -1 when the command fails.
long long rks_count(const std::string& db);

/// The `rks serve` program as a child process listening on 127.0.0.1 (a free port).
class rks_process {
public:
  rks_process(std::string cert_dir, std::string db, std::string log_file,
              std::vector<std::string> extra_args = {});
  ~rks_process();
  rks_process(const rks_process&) = delete;
  rks_process& operator=(const rks_process&) = delete;

  /// Starts and waits until the port file appears; port 0 picks a free port.
  bool start(std::uint16_t port = 0);
  /// SIGTERM, then waits; returns the exit status (-1 if it had to be killed).
  int stop();
  std::uint16_t port() const { return port_; }
  billing::rks_endpoint endpoint() const { return {"127.0.0.1", port_}; }
  std::string log() const;
  /// Waits up to 5 s for `text` to appear in the log.
  bool log_contains(const std::string& text) const;

private:
  std::string cert_dir_;
  std::string db_;
  std::string log_file_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

/// `n` records of distinct calls with sequences first_seq.. (fields include CSV-hostile text).
std::vector<billing::billing_record> make_records(std::uint64_t first_seq, std::size_t n);

/// Sends one batch with `client` and runs `io` until its callback ran (at most 30 s).
billing::send_result send_and_wait(boost::asio::io_context& io, billing::rks_client& client,
                                   const billing::rks_endpoint& to,
                                   std::vector<billing::billing_record> records);

} // namespace cms::test
