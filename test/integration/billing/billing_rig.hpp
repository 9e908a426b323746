#pragma once
// The real billing path on one machine: the `rks` program (TLS, certificates from
// scripts/gen-certs.sh, its own SQLite), `rks probe` responders standing for the far ends of the
// primary link and the backup VPN tunnel, a real SQLite outbox, data-link actors probing over UDP,
// and the forwarder sending through rks_client, all on a threaded actor system with a management
// io_context thread, as in the node.

#include "actors/billing/billing_forwarder.hpp"
#include "actors/links/data_link.hpp"
#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "runtime/transport/link_prober.hpp"
#include "runtime/transport/rks_client.hpp"

#include "support/process.hpp"
#include "tcp_relay.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/all.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cms::test {

struct rig_caf_config : caf::actor_system_config {
  rig_caf_config() {
    add_message_types<caf::id_block::cms>();
    set("scheduler.max-threads", 2);
  }
};

/// Waits for a port file written by `rks --port-file`; 0 on timeout.
std::uint16_t wait_port_file(const std::filesystem::path& file);

/// One `rks serve` (or `rks probe`) child process.
class rks_program {
public:
  rks_program(std::vector<std::string> args, std::filesystem::path port_file,
              std::filesystem::path log);
  std::uint16_t port() const { return port_; }
  std::string log() const { return proc_->output(); }
  /// SIGTERM and wait.
  void stop();
  /// Any other signal (SIGSTOP/SIGCONT: an RKS that hangs, then resumes).
  void signal(int sig) {
    if (proc_)
      proc_->signal(sig);
  }
  bool running() { return proc_ && proc_->running(); }

private:
  std::unique_ptr<child_process> proc_;
  std::uint16_t port_ = 0;
};

/// Outcome of `rks` read commands.
std::string run_command(const std::string& cmd);

/// One RKS batch line of the log: "sequences A..B, N new, M duplicates".
struct rks_batch_line {
  std::uint64_t first = 0, last = 0, fresh = 0, duplicates = 0;
};
std::vector<rks_batch_line> rks_batches(const std::string& log);

class billing_rig {
public:
  explicit billing_rig(std::size_t batch_size = 10);
  ~billing_rig();

  std::filesystem::path dir() const { return tmp_.path(); }
  std::string cert(const std::string& name) const;

  /// Starts the RKS (and the backup tunnel relay in front of it).
  void start_rks();
  /// Starts (or restarts on its previous port) the probe responder of "primary" or "backup".
  void start_responder(const std::string& which);
  void stop_responder(const std::string& which);
  /// Spawns link actors and the forwarder, then tells the forwarder it is active.
  void start_node(bool primary_through_relay = false);

  /// Kills the forwarder (exit_reason::kill) and starts a new one on the same store.
  void restart_forwarder();

  /// Appends the three records of each of `calls` calls, numbered from `first_call`.
  void append_calls(int first_call, int calls);
  std::uint64_t appended() const { return appended_; }
  std::uint64_t outbox_pending();
  std::uint16_t rks_port() const { return rks_->port(); }
  std::uint16_t responder_port(const std::string& which) const {
    return responder_ports_.at(which);
  }

  long long rks_count();
  std::string rks_log() const { return rks_->log(); }
  links::link_state link_state(const std::string& which) const;
  double metric(const std::string& name, const metrics::label_set& labels = {}) const {
    return metrics_.value(name, labels);
  }

  /// Checks the end state: the RKS holds exactly the appended records, each once, delivered in
  /// sequence order (from the RKS's own log), and the outbox has nothing pending.
  ::testing::AssertionResult delivered_exactly_once_in_order();

  tcp_relay& backup_relay() { return *backup_relay_; }
  tcp_relay& primary_relay() { return *primary_relay_; }
  caf::actor forwarder() const { return forwarder_; }

private:
  temp_dir tmp_;
  std::size_t batch_size_;
  std::optional<persistence::database> db_;
  std::optional<persistence::outbox> outbox_;
  std::uint64_t appended_ = 0;
  std::unique_ptr<rks_program> rks_;
  std::unique_ptr<tcp_relay> backup_relay_;
  std::unique_ptr<tcp_relay> primary_relay_;
  std::map<std::string, std::unique_ptr<rks_program>> responders_;
  std::map<std::string, std::uint16_t> responder_ports_;

  metrics::registry metrics_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  rig_caf_config caf_cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::map<std::string, std::shared_ptr<links::link_board>> boards_;
  std::vector<std::shared_ptr<links::udp_link_prober>> probers_;
  std::shared_ptr<billing::rks_client> client_;
  std::vector<caf::actor> actors_;
  caf::actor forwarder_;
  billing::forwarder_settings forwarder_settings_;
  std::vector<caf::actor> links_;

  void spawn_forwarder();
};

} // namespace cms::test
