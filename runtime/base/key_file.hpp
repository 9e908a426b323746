#pragma once
// The pair's control-plane key: one secret per cluster, shared by both nodes and every witness,
// that authenticates the UDP heartbeats and the witness requests and answers (docs/security.md).
// It lives in a file of its own so that configs can be shown and versioned without it.

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace cms::config {

/// Fewer bytes than this would make HMAC-SHA256 no stronger than the key: refused at start.
constexpr std::size_t min_key_bytes = 32;

class key_file_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The key is the file's content without trailing whitespace (scripts/gen-certs.sh writes 64 hex
/// characters from the system's CSPRNG). Throws key_file_error when the file cannot be read or
/// holds fewer than min_key_bytes.
std::string read_key_file(const std::filesystem::path& file);

} // namespace cms::config
