#pragma once
// Big-endian byte writing and bounds-checked reading: the only place COPS code touches raw
// offsets, so every decoder inherits the same "never read past the end" guarantee.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace cms::cops {

using bytes = std::vector<std::uint8_t>;

/// Appends network-order fields to a byte vector.
class byte_writer {
public:
  explicit byte_writer(bytes& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  /// IEEE-754 single precision, as the Gate Spec's token bucket fields are carried.
  void f32(float v) {
    std::uint32_t raw = 0;
    static_assert(sizeof raw == sizeof v);
    std::memcpy(&raw, &v, sizeof raw);
    u32(raw);
  }
  void raw(const std::uint8_t* data, std::size_t n) { out_.insert(out_.end(), data, data + n); }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  /// Pads to the next multiple of 4 (COPS objects are 32-bit aligned; the padding is not
  /// counted in the object's length field).
  void pad4() { zeros((4 - out_.size() % 4) % 4); }
  /// Overwrites a 16-bit field already written, for lengths known only at the end.
  void patch_u16(std::size_t at, std::uint16_t v) {
    out_[at] = static_cast<std::uint8_t>(v >> 8);
    out_[at + 1] = static_cast<std::uint8_t>(v);
  }
  void patch_u32(std::size_t at, std::uint32_t v) {
    patch_u16(at, static_cast<std::uint16_t>(v >> 16));
    patch_u16(at + 2, static_cast<std::uint16_t>(v));
  }
  std::size_t size() const { return out_.size(); }

private:
  bytes& out_;
};

/// Reads network-order fields from a fixed window; every read reports failure instead of
/// reading past the window, and a failed reader stays failed.
class byte_reader {
public:
  byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool ok() const { return ok_; }
  std::size_t remaining() const { return ok_ ? size_ - pos_ : 0; }
  std::size_t position() const { return pos_; }
  const std::uint8_t* current() const { return data_ + pos_; }

  std::uint8_t u8() {
    if (!need(1))
      return 0;
    return data_[pos_++];
  }
  std::uint16_t u16() {
    if (!need(2))
      return 0;
    auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    if (!need(4))
      return 0;
    std::uint32_t v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
                      (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return v;
  }
  float f32() {
    std::uint32_t raw = u32();
    float v = 0;
    std::memcpy(&v, &raw, sizeof v);
    return v;
  }
  void skip(std::size_t n) {
    if (need(n))
      pos_ += n;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> array() {
    std::array<std::uint8_t, N> out{};
    if (need(N)) {
      std::memcpy(out.data(), data_ + pos_, N);
      pos_ += N;
    }
    return out;
  }
  bytes take(std::size_t n) {
    if (!need(n))
      return {};
    bytes out(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    return out;
  }

private:
  bool need(std::size_t n) {
    if (!ok_ || size_ - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

} // namespace cms::cops
