#pragma once
// Splits a TCP byte stream into whole COPS messages using the header's length field. A length
// that cannot be right (below the header, unaligned, above the maximum, wrong version) poisons
// the stream: COPS has no resynchronisation marker, so the only safe reaction is to close.

#include "runtime/cops/bytes.hpp"
#include "runtime/cops/decode_result.hpp"
#include "runtime/cops/message.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace cms::cops {

class framer {
public:
  explicit framer(std::size_t max_message = default_max_message) : max_(max_message) {}

  /// Appends received bytes.
  void feed(const std::uint8_t* data, std::size_t size);

  /// The next complete message's bytes; nullopt while more bytes are needed; an error once the
  /// stream is unusable (then every later call returns the same error).
  decoded<std::optional<bytes>> next();

  /// Bytes received but not yet returned as a message.
  std::size_t buffered() const { return buffer_.size() - start_; }
  void reset();

private:
  std::size_t max_;
  bytes buffer_;
  std::size_t start_ = 0; ///< consumed prefix, compacted lazily
  decode_error failed_ = decode_error::none;
  std::string failure_;
};

} // namespace cms::cops
