#pragma once
// Upstream media policing, the simulator's stand-in for the CMTS's DOCSIS upstream. Design: the
// simulator owns one UDP "upstream" port; an MTA (or a test) sends its RTP to that port instead of
// straight to the far end, as if the packets crossed the cable plant. For each datagram the
// policer looks for a gate whose upstream Gate Spec classifier admits the source address and port
// (0 = wildcard) and whose gate is authorised or committed, then applies the Gate Spec's limits:
// a packet larger than M, or one the token bucket (rate r, depth b; skipped when r or b is 0)
// cannot cover, is policed. Admitted packets count as forwarded and, with relaying on, are sent
// on to the Gate Spec's destination address and port (when the spec names one). Datagrams no gate
// admits are policed. The first forwarded packet commits an authorised gate (the simulator has no
// DOCSIS DSA exchange, so first media stands in for the MTA's commit): the on_commit hook then
// sends Gate-Open and QoS_Commit.

#include "test/tools/cmtssim/gate_table.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <functional>
#include <string>

namespace cms::cmtssim {

class policer {
public:
  policer(boost::asio::io_context& io, const std::string& address, std::uint16_t port,
          gate_table& gates, bool relay, std::function<void(gate&)> on_commit);

  std::uint16_t port() const;
  void stop();

  std::uint64_t unmatched() const { return unmatched_; }

private:
  void receive();
  void on_packet(std::size_t size);

  boost::asio::ip::udp::socket socket_;
  gate_table& gates_;
  bool relay_;
  std::function<void(gate&)> on_commit_;
  boost::asio::ip::udp::endpoint from_;
  std::array<std::uint8_t, 2048> buffer_{};
  std::uint64_t unmatched_ = 0;
};

} // namespace cms::cmtssim
