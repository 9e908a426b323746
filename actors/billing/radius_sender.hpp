#pragma once
// The node's transport to the Record Keeping Server: each outbox record becomes its PacketCable
// Event Messages (event_messages.hpp), sent as RADIUS Accounting-Requests by the accounting client
// (runtime/radius), and a record counts as delivered only when every one of its EMs was answered.
//
// Paths: the forwarder picks the management path from the data links (choose_path) and names the
// RKS of that path. The primary path's client sends to the primary RKS and, by its own retry rule
// (retry_interval x (1 + retry_count) without an answer), moves requests to the secondary; the
// backup path's client (used while the primary link is down) sends to the secondary alone.
//
// The call context of a record (its call's signaling_start and call_answer records, for the BCID
// and the EM choice) is read from the node's store through a connection of the sender's own,
// opened on first use and used only inside send(), i.e. on the forwarder's thread.

#include "actors/billing/event_messages.hpp"
#include "actors/billing/rks_sender.hpp"
#include "runtime/base/metrics.hpp"
#include "runtime/radius/accounting_client.hpp"

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cms::persistence {
class database;
class outbox;
} // namespace cms::persistence

namespace cms::billing {

struct radius_sender_settings {
  rks_endpoint primary;                  ///< [billing] rks_primary
  std::optional<rks_endpoint> secondary; ///< [billing] rks_secondary (alias rks_backup)
  /// Client options of the primary path (primary and secondary peers resolved, secret, retry
  /// rule, source ports, DSCP); the backup path's client copies them with the secondary alone.
  radius::accounting_client_options client;
  em_identity identity;
  std::filesystem::path db_file; ///< the node's store, for the call context of each record
};

class radius_sender final : public rks_sender {
public:
  /// Opens the clients' sockets on `io` (throws boost::system::system_error on failure).
  radius_sender(boost::asio::io_context& io, radius_sender_settings settings,
                metrics::registry* metrics);
  ~radius_sender() override;

  void send(const rks_endpoint& to, std::vector<billing_record> records,
            std::function<void(send_result)> done) override;

  /// The RFC 4670 figures per RKS, both clients summed, labelled by RKS address.
  std::map<std::string, radius::rks_server_counters> counters() const;
  /// Datagrams from neither RKS, both clients.
  std::uint64_t invalid_server_addresses() const;
  /// Copies the clients' counters into the metrics registry (cms_radius_acc_client_*{server}).
  void publish_metrics();
  /// Closes the sockets; requests in flight fail.
  void stop();

private:
  struct batch;
  /// Clients and published figures: shared with the callbacks of requests in flight, which may
  /// run after the sender is gone.
  struct shared_state;
  em_call_context context_of(const billing_record& r);

  radius_sender_settings settings_;
  std::shared_ptr<shared_state> state_;
  std::unique_ptr<persistence::database> db_;
  std::unique_ptr<persistence::outbox> outbox_;
};

} // namespace cms::billing
