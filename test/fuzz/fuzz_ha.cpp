// libFuzzer entry point; built by scripts/fuzz.sh with clang -fsanitize=fuzzer,address,undefined.
#include "ha_checks.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cms::fuzz::check_ha_datagram(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
