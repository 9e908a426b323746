#pragma once
// The simulated CMTS's QoS event messages over RADIUS (cms_radius): QoS_Reserve, QoS_Commit and
// QoS_Release, each under the BCID of the gate's Event Generation Info and sent to the primary /
// secondary RKS it names, signed with the secret of --rks-secret-file. One accounting client per
// distinct RKS pair (the gates of one CMS all name the same pair). Outcomes are counted, never
// retried beyond the client's own retransmission and failover: the simulator only has to put
// the messages on the wire like a CMTS would.

#include "test/tools/cmtssim/em_sender.hpp"

#include "runtime/radius/accounting_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace cms::cmtssim {

class radius_em_sender : public em_sender {
public:
  /// `element_id`: the CMTS's EM element id (at most 8 characters).
  radius_em_sender(boost::asio::io_context& io, std::string secret, std::string element_id);
  ~radius_em_sender() override;

  void qos_reserve(const gate& g) override;
  void qos_commit(const gate& g) override;
  void qos_release(const gate& g, const std::string& why) override;

  boost::json::value counters_json() const;
  void stop();

private:
  void send(const gate& g, radius::em_type type);
  std::shared_ptr<radius::accounting_client> client_for(const cops::event_generation_info& e);

  boost::asio::io_context& io_;
  std::string secret_;
  std::string element_id_;
  std::uint32_t sequence_ = 0;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::shared_ptr<radius::accounting_client>>
    clients_;
  std::shared_ptr<std::atomic<std::uint64_t>> sent_ =
    std::make_shared<std::atomic<std::uint64_t>>(0);
  std::shared_ptr<std::atomic<std::uint64_t>> acked_ =
    std::make_shared<std::atomic<std::uint64_t>>(0);
  std::shared_ptr<std::atomic<std::uint64_t>> failed_ =
    std::make_shared<std::atomic<std::uint64_t>>(0);
  std::uint64_t skipped_ = 0; ///< gates without Event Generation Info or RKS address
};

} // namespace cms::cmtssim
