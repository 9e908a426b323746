#pragma once
// The real billing path on one machine: the PacketCable RKS (FreeRADIUS with config/rks, started
// by support/rks_rig.hpp through scripts/lib/rks.sh, storing each Event Message in its SQLite),
// two UDP relays in front of it standing for the two management paths (the primary data link and
// the backup VPN tunnel: the RKS's primary and secondary address), UDP echo responders standing
// for the far ends of the two data links, a real SQLite outbox, data-link actors probing over UDP,
// and the billing forwarder sending through the node's transport (make_radius_sender: EMs over
// RADIUS), all on a threaded actor system with a management io_context thread, as in the node.

#include "actors/billing/billing_forwarder.hpp"
#include "actors/billing/event_messages.hpp"
#include "actors/billing/radius_sender.hpp"
#include "actors/links/data_link.hpp"
#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "runtime/base/config.hpp"
#include "runtime/transport/link_prober.hpp"

#include "support/process.hpp"
#include "support/rks_rig.hpp"
#include "udp_relay.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/all.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
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

/// The key the RKS stores each EM under, as text: "bcid counter/EM type/EM sequence".
std::string em_key(const radius::event_message& em);

/// The EM keys the records of `outbox` with these ids make (the node's own mapping,
/// billing::event_messages_for, with the call context the sender reads from the outbox).
std::set<std::string> expected_em_keys(persistence::outbox& outbox,
                                       const std::vector<std::string>& record_ids,
                                       const billing::em_identity& identity);

/// Checks the RKS's table against the expected EM keys: every EM stored, nothing else, each once;
/// and in order: one batch of `batch_size` records in flight at a time means no EM is stored
/// after one of a record `batch_size` or more sequences newer (EM sequence = 8 x record + slot).
::testing::AssertionResult rks_holds_exactly(const radius::itest::rks_instance& rks,
                                             const std::set<std::string>& expected,
                                             std::size_t batch_size);

class billing_rig {
public:
  explicit billing_rig(std::size_t batch_size = 10);
  ~billing_rig();

  std::filesystem::path dir() const { return tmp_.path(); }

  /// Starts the RKS and the two path relays in front of it. Fails the test when FreeRADIUS does
  /// not start.
  void start_rks();
  void stop_rks() { rks_->stop(); }
  /// Starts the RKS again on its port and with its table.
  void restart_rks();
  /// Starts (or restarts on its previous port) the probe responder of "primary" or "backup".
  void start_responder(const std::string& which);
  void stop_responder(const std::string& which) { responders_.at(which).reset(); }
  /// The data link `which` fails as a whole: its far end stops answering probes and the relay of
  /// that path passes nothing. link_returns undoes it.
  void link_fails(const std::string& which);
  void link_returns(const std::string& which);
  /// Builds the transport as the node does (make_radius_sender from a [billing] section: primary
  /// RKS = the primary relay, or the RKS itself with primary_direct; secondary = the backup
  /// relay), spawns the link actors and the forwarder, then tells the forwarder it is active.
  void start_node(bool primary_direct = false);

  /// Kills the forwarder (exit_reason::kill) and starts a new one on the same store and sender.
  void restart_forwarder();

  /// Appends the three records of each of `calls` calls, numbered from `first_call`.
  void append_calls(int first_call, int calls);
  std::uint64_t appended() const { return record_ids_.size(); }
  std::uint64_t outbox_pending() { return outbox_->pending_count(); }
  /// The EMs the appended records make.
  std::set<std::string> expected_ems() {
    return expected_em_keys(*outbox_, record_ids_, identity_);
  }

  std::uint16_t rks_port() const { return rks_->port(); }
  std::uint16_t responder_port(const std::string& which) const {
    return responder_ports_.at(which);
  }
  /// EMs stored at the RKS (-1 when its table cannot be read).
  long rks_count();
  const radius::itest::rks_instance& rks() const { return *rks_; }
  std::string rks_log() const;

  /// True once the outbox is empty and the RKS holds as many EMs as the appended records make.
  bool all_delivered(std::chrono::milliseconds limit = std::chrono::seconds{30});

  links::link_state link_state(const std::string& which) const;
  double metric(const std::string& name, const metrics::label_set& labels = {}) const {
    return metrics_.value(name, labels);
  }
  /// Sum of one cms_radius_acc_client_* counter over both RKS addresses.
  double radius_counter(const std::string& name);

  /// The end state: the RKS holds exactly the EMs of the appended records, each once, stored in
  /// order, and the outbox has nothing pending.
  ::testing::AssertionResult delivered_exactly_once_in_order();

  udp_relay& primary_relay() { return *primary_relay_; }
  udp_relay& backup_relay() { return *backup_relay_; }
  caf::actor forwarder() const { return forwarder_; }
  std::size_t batch_size() const { return batch_size_; }

private:
  temp_dir tmp_;
  std::size_t batch_size_;
  std::string secret_file_;
  billing::em_identity identity_;
  std::optional<persistence::database> db_;
  std::optional<persistence::outbox> outbox_;
  std::vector<std::string> record_ids_;
  std::unique_ptr<radius::itest::rks_instance> rks_;
  std::unique_ptr<udp_relay> primary_relay_;
  std::unique_ptr<udp_relay> backup_relay_;
  std::map<std::string, std::unique_ptr<udp_echo>> responders_;
  std::map<std::string, std::uint16_t> responder_ports_;

  metrics::registry metrics_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  rig_caf_config caf_cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::map<std::string, std::shared_ptr<links::link_board>> boards_;
  std::vector<std::shared_ptr<links::udp_link_prober>> probers_;
  std::shared_ptr<billing::radius_sender> sender_;
  std::vector<caf::actor> actors_;
  caf::actor forwarder_;
  billing::forwarder_settings forwarder_settings_;

  void spawn_forwarder();
};

} // namespace cms::test
