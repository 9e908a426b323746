#pragma once
// UDP probe transport of one data link, on the management io_context. The socket is bound to the
// link's local address, so the probe leaves through that link's interface and source address (the
// far end answers to that address, which routes back over the same path); a probe that cannot
// take the path (address gone, interface down) is simply never answered. Datagrams carry the
// management DSCP (CS1 by default).
//
// Wire format (ASCII, one datagram): "CMSPROBE1 <session> <seq>". The far end echoes the datagram
// unchanged (the `link-peer` program). Answers from another address, with another
// session (a previous process) or malformed are dropped and counted.

#include "actors/links/data_link.hpp"
#include "persistence/provisioning.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

namespace cms::links {

class udp_link_prober final : public probe_transport {
public:
  /// Throws std::invalid_argument when the link's addresses do not parse or dscp is not 0..63.
  udp_link_prober(boost::asio::io_context& io, const persistence::data_link& link, int dscp,
                  metrics::registry& metrics);
  ~udp_link_prober() override;
  udp_link_prober(const udp_link_prober&) = delete;
  udp_link_prober& operator=(const udp_link_prober&) = delete;

  void send_probe(const caf::actor& reply_to, std::uint64_t seq) override;
  /// Closes the socket; later probes reopen it.
  void stop();

private:
  class impl;
  std::shared_ptr<impl> impl_;
};

} // namespace cms::links
