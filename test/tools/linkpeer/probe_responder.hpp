#pragma once
// The far end of data-link probes (runtime/transport/link_prober.hpp): a UDP echo of probe datagrams. Runs
// at the partner's end of each management path (the `link-peer` program), so a node
// can tell whether the path to the partner's management network answers.

#include "runtime/base/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace cms::links {

class probe_responder {
public:
  /// Binds HOST:PORT (port 0: any free port) and starts echoing. Throws std::runtime_error when
  /// the address does not parse or cannot be bound. Answers carry `dscp` (0..63).
  probe_responder(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                  int dscp, metrics::registry& metrics);
  ~probe_responder();
  probe_responder(const probe_responder&) = delete;
  probe_responder& operator=(const probe_responder&) = delete;

  std::uint16_t port() const;
  void stop();

private:
  class impl;
  std::shared_ptr<impl> impl_;
};

} // namespace cms::links
