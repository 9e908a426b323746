#pragma once
// The RADIUS shared secret comes from a file (never from a config value or the command line, where
// ps, logs and the repository would show it).

#include <string>

namespace cms::radius {

/// Reads `path`, drops one trailing "\n" or "\r\n" and returns the secret. Throws
/// std::runtime_error when the file cannot be read, is empty after trimming, is readable by
/// "other" (mode o+r: anyone on the host could sign EMs), or is longer than 4096 octets.
std::string load_secret(const std::string& path);

} // namespace cms::radius
