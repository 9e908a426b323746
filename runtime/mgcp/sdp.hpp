#pragma once
// Session descriptions (RFC 4566) as MGCP carries them in CRCX/MDCX and their responses: the audio
// subset a softswitch needs (v, o, s, c, t, m, a=rtpmap, a=ptime, direction attributes). Anything
// else is kept as text so a description passes through unchanged in meaning.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::mgcp {

enum class media_direction : std::uint8_t { sendrecv, sendonly, recvonly, inactive };
std::string_view to_string(media_direction d) noexcept;

/// "c=IN IP4 192.0.2.1"
struct sdp_connection {
  std::string address_type = "IP4"; ///< "IP4" or "IP6"
  std::string address;
  friend bool operator==(const sdp_connection& a, const sdp_connection& b) {
    return a.address_type == b.address_type && a.address == b.address;
  }
};

/// "a=rtpmap:0 PCMU/8000[/1]"
struct sdp_rtpmap {
  int payload_type = 0;
  std::string encoding; ///< "PCMU", "telephone-event"
  std::uint32_t clock_rate = 8000;
  std::optional<std::string> channels;
  friend bool operator==(const sdp_rtpmap& a, const sdp_rtpmap& b) {
    return a.payload_type == b.payload_type && a.encoding == b.encoding &&
           a.clock_rate == b.clock_rate && a.channels == b.channels;
  }
};

/// One "m=" section with its own c= and a= lines.
struct sdp_media {
  std::string media = "audio";
  std::uint16_t port = 0;
  std::optional<std::uint16_t> port_count;
  std::string protocol = "RTP/AVP";
  std::vector<std::string> formats; ///< payload type numbers for RTP/AVP, "t38" for udptl...
  std::optional<sdp_connection> connection;
  std::vector<sdp_rtpmap> rtpmaps;
  std::optional<std::uint32_t> ptime;
  std::optional<media_direction> direction;
  std::vector<std::string> attributes;  ///< other a= values ("fmtp:101 0-15"), in order
  std::vector<std::string> other_lines; ///< other lines ("b=AS:64"), in order

  /// The formats that are RTP payload type numbers (0..127).
  std::vector<int> payload_types() const;
  const sdp_rtpmap* rtpmap(int payload_type) const noexcept;
  friend bool operator==(const sdp_media& a, const sdp_media& b) {
    return a.media == b.media && a.port == b.port && a.port_count == b.port_count &&
           a.protocol == b.protocol && a.formats == b.formats && a.connection == b.connection &&
           a.rtpmaps == b.rtpmaps && a.ptime == b.ptime && a.direction == b.direction &&
           a.attributes == b.attributes && a.other_lines == b.other_lines;
  }
};

struct session_description {
  std::string origin_user = "-"; ///< o= fields
  std::string session_id = "0";
  std::string session_version = "0";
  sdp_connection origin_address;
  std::string session_name = "-"; ///< s=
  std::optional<sdp_connection> connection;
  std::string timing = "0 0"; ///< t=
  std::optional<media_direction> direction;
  std::vector<std::string> attributes;
  std::vector<std::string> other_lines;
  std::vector<sdp_media> media;

  /// Where RTP for the first audio stream goes: its c= or the session's.
  const sdp_connection* audio_connection() const noexcept;
  const sdp_media* first_audio() const noexcept;
  friend bool operator==(const session_description& a, const session_description& b) {
    return a.origin_user == b.origin_user && a.session_id == b.session_id &&
           a.session_version == b.session_version && a.origin_address == b.origin_address &&
           a.session_name == b.session_name && a.connection == b.connection &&
           a.timing == b.timing && a.direction == b.direction && a.attributes == b.attributes &&
           a.other_lines == b.other_lines && a.media == b.media;
  }
};

struct sdp_limits {
  std::size_t max_lines = 128;
  std::size_t max_media = 8;
  std::size_t max_formats = 32;
};

/// Parses CRLF or LF text. On bad input returns nullopt and, if given, says why in `error`.
std::optional<session_description> parse_sdp(std::string_view text, std::string* error = nullptr,
                                             const sdp_limits& limits = {});
/// CRLF text in RFC 4566 line order.
std::string build_sdp(const session_description& sd);

} // namespace cms::mgcp
