#pragma once
// A byte-vector field (a CAF image inside a message) that a hostile or corrupt peer cannot use to
// exhaust memory. CAF 0.17 loads a std::vector<char> by resizing it to the length prefix *before*
// reading the bytes: five bytes on the node link could make the receiver allocate 4 GiB
// (found by fuzz_replication). Loading through byte_image checks the length against what is left
// in the buffer first; saving and printing are exactly what CAF does for the plain vector, so the
// wire format does not change.
//
//   return f(meta::type_name("x"), x.key, cms::byte_image{x.state});

#include <caf/binary_deserializer.hpp>
#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>

#include <type_traits>
#include <vector>

namespace cms {

struct byte_image {
  std::vector<char>& bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, byte_image& x) {
  if constexpr (std::is_base_of<caf::deserializer, Inspector>::value) {
    size_t size = 0;
    if (auto err = f.begin_sequence(size))
      return err;
    // Inspectors arrive as the caf::deserializer base: ask the object what it is. A deserializer
    // that cannot tell what is left gets a bound no state image comes near.
    constexpr size_t max_unchecked = size_t{64} << 20;
    auto* binary = dynamic_cast<caf::binary_deserializer*>(&f);
    if (binary ? size > binary->remaining() : size > max_unchecked)
      return caf::make_error(caf::sec::end_of_stream);
    x.bytes.resize(size);
    if (size > 0)
      if (auto err = f.apply_raw(size, x.bytes.data()))
        return err;
    return f.end_sequence();
  } else {
    return f(x.bytes);
  }
}

} // namespace cms
