#pragma once
// MGCP text codec (RFC 3435 section 3): datagram <-> messages. Pure functions, no I/O, no
// allocation beyond the result; safe on any thread. Untrusted input never throws or crashes.

#include "runtime/mgcp/message.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::mgcp {

/// Hard limits applied to untrusted datagrams (RFC 3435 leaves them to the implementation).
struct codec_limits {
  std::size_t max_datagram = 8192; ///< bytes
  std::size_t max_lines = 256;     ///< lines per message
  std::size_t max_line = 2048;     ///< bytes per line / parameter value
  std::size_t max_messages = 16;   ///< piggy-backed messages per datagram
};

/// Why one message of a datagram could not be decoded. When the transaction id was parseable the
/// caller answers with `code` (510 malformed, 504 unknown verb, 528 unsupported version, 539 bad
/// parameter, 400 otherwise); when it was not, the message is dropped and counted.
struct decode_error {
  int code = 510;
  std::string reason;
  std::optional<std::uint32_t> transaction_id;
  bool is_response = false; ///< the broken message looked like a response (never answered)
};

/// One datagram may carry several messages; good ones are returned even if others failed.
struct decode_result {
  std::vector<message> messages;
  std::vector<decode_error> errors;
};

decode_result decode(std::string_view datagram, const codec_limits& limits = {});

/// Wire text with CRLF line endings and, when present, a blank line then the SDP.
std::string encode(const command& cmd);
std::string encode(const response& rsp);
/// Several messages piggy-backed in one datagram, separated by "." lines.
std::string encode(const std::vector<message>& msgs);

/// Standard comment text for a return code ("Transaction executed normally" for 200...).
std::string_view default_comment(int code) noexcept;

} // namespace cms::mgcp
