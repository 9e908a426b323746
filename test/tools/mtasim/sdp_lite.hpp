#pragma once
// The two things an MTA needs from SDP: write its own audio description (PCMU, 20 ms) and read the
// far end's media address. Local to the simulator so that a bug in the node's SDP codec cannot hide
// itself by being on both sides of the wire.

#include <boost/asio/ip/udp.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cms::sim {

/// SDP for one PCMU audio stream at address:port (CRLF lines, as RFC 4566 requires).
std::string make_audio_sdp(const std::string& address, std::uint16_t port,
                           std::uint64_t session_id);

/// The RTP target of an audio description (c= address, m=audio port). nullopt when absent,
/// malformed, or put on hold (port 0 / address 0.0.0.0).
std::optional<boost::asio::ip::udp::endpoint> parse_media_target(std::string_view sdp);

} // namespace cms::sim
