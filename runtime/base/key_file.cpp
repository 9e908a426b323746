#include "runtime/base/key_file.hpp"

#include <fstream>
#include <iterator>

namespace cms::config {

std::string read_key_file(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  if (!in)
    throw key_file_error("cannot read key file " + file.string());
  std::string key((std::istreambuf_iterator<char>(in)), {});
  while (!key.empty() &&
         (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t'))
    key.pop_back();
  if (key.size() < min_key_bytes)
    throw key_file_error("key file " + file.string() + " holds " + std::to_string(key.size()) +
                         " bytes; at least " + std::to_string(min_key_bytes) +
                         " are needed (scripts/gen-certs.sh writes one)");
  return key;
}

} // namespace cms::config
