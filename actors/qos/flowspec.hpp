#pragma once
// The token bucket of one voice flow, as a DQoS Gate Spec carries it (RFC 2212 TSpec). The CMTS
// polices the bytes of whole IP packets, so the figures count the IP, UDP and RTP headers, not
// only the codec's payload: PCMU at 20 ms is 160 B of payload + 40 B of headers = 200 B, 50
// packets/s, r = 10,000 B/s.

#include <optional>
#include <string>

namespace cms::qos {

struct flowspec {
  float r = 0;    ///< token rate, bytes/s
  float b = 0;    ///< bucket depth, bytes: one packet (constant-rate voice never bursts)
  float p = 0;    ///< peak rate, bytes/s: = r
  unsigned m = 0; ///< minimum policed unit, bytes: one packet
  unsigned M = 0; ///< maximum packet size, bytes: one packet
  float R = 0;    ///< RSpec rate: = r
  unsigned S = 0; ///< RSpec slack, microseconds
};

/// IPv4 (20) + UDP (8) + RTP (12) header bytes of every voice packet.
inline constexpr unsigned voice_header_bytes = 40;

/// The codec's payload bit rate (PCMU/PCMA 64 kbit/s, G726-32 32, G729 8, G728 16); nullopt for
/// a codec we do not know.
std::optional<unsigned> codec_bits_per_second(const std::string& codec);

/// The flowspec of one direction of a call with this codec and packet period; nullopt for an
/// unknown codec, a zero period, or one that does not hold a whole number of payload bytes.
std::optional<flowspec> voice_flowspec(const std::string& codec, unsigned packet_period_ms);

} // namespace cms::qos
