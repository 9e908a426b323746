#include "runtime/cops/framer.hpp"

#include <string>

namespace cms::cops {

void framer::feed(const std::uint8_t* data, std::size_t size) {
  if (failed_ != decode_error::none || size == 0)
    return;
  if (start_ > 0 && start_ >= buffer_.size() / 2) { // compact without copying on every message
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), data, data + size);
}

decoded<std::optional<bytes>> framer::next() {
  if (failed_ != decode_error::none)
    return {failed_, failure_};
  const std::size_t have = buffer_.size() - start_;
  if (have < header_size)
    return std::optional<bytes>{};
  const std::uint8_t* h = buffer_.data() + start_;
  byte_reader r{h, header_size};
  const std::uint8_t ver = r.u8();
  const std::uint8_t op = r.u8();
  r.u16();
  const std::uint32_t length = r.u32();
  if ((ver >> 4) != protocol_version) {
    failed_ = decode_error::bad_version;
    failure_ = "version " + std::to_string(ver >> 4);
  } else if (op < 1 || op > 10) {
    failed_ = decode_error::bad_op_code;
    failure_ = "op code " + std::to_string(op);
  } else if (length > max_) {
    failed_ = decode_error::too_long;
    failure_ = "length " + std::to_string(length) + " above " + std::to_string(max_);
  } else if (length < header_size || length % 4 != 0) {
    failed_ = decode_error::bad_length;
    failure_ = "length " + std::to_string(length);
  }
  if (failed_ != decode_error::none)
    return {failed_, failure_};
  if (have < length)
    return std::optional<bytes>{};
  bytes out(h, h + length);
  start_ += length;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return std::optional<bytes>{std::move(out)};
}

void framer::reset() {
  buffer_.clear();
  start_ = 0;
  failed_ = decode_error::none;
  failure_.clear();
}

} // namespace cms::cops
