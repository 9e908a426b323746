#pragma once
// The outcome of decoding untrusted bytes: a value or a reason. Decoders never throw on bad
// input, so a malformed message from a CMTS is a counter and a log line, not an exception path.

#include <optional>
#include <string>
#include <utility>

namespace cms::cops {

enum class decode_error {
  none,
  truncated_header,  ///< fewer than 8 bytes where a common header was expected
  bad_version,       ///< the version nibble is not 1
  bad_op_code,       ///< op code outside 1..10
  bad_length,        ///< message length smaller than the header, not 32-bit aligned or != data
  too_long,          ///< message length above the configured maximum
  bad_object_length, ///< an object shorter than its header or running past its container
  missing_object,    ///< a mandatory object is absent
  bad_object,        ///< an object has the wrong size or an impossible value
  wrong_message,     ///< the op code / client type is not the one this decoder handles
};

const char* to_string(decode_error e);

template <class T>
class decoded {
public:
  decoded(T value) : value_(std::move(value)) {} // NOLINT: implicit on purpose, like expected<T>
  decoded(decode_error e, std::string detail) : error_(e), detail_(std::move(detail)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T* operator->() const { return &*value_; }
  decode_error error() const { return error_; }
  /// Human-readable reason, for logs and test failure messages.
  const std::string& detail() const { return detail_; }

private:
  std::optional<T> value_;
  decode_error error_ = decode_error::none;
  std::string detail_;
};

} // namespace cms::cops
