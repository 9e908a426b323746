// Runs every file of the fuzz corpora (seeds and every crash the fuzzers ever found) through the
// same invariant checks as the libFuzzer harnesses, so CI keeps them fixed without clang.
// Usage: fuzz_regression <corpus-root>
//        (expects mgcp/, sdp/, digitmap/, replication/, http/ and ha/ below it)

#include "fuzz_checks.hpp"
#include "ha_checks.hpp"
#include "node_checks.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace {

std::size_t run_dir(const fs::path& dir, void (*check)(std::string_view)) {
  std::size_t n = 0;
  if (!fs::is_directory(dir)) {
    std::fprintf(stderr, "missing corpus directory %s\n", dir.c_str());
    return 0;
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file())
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    check(data);
    ++n;
  }
  std::printf("%-40s %zu inputs ok\n", dir.c_str(), n);
  return n;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-root>\n", argv[0]);
    return 2;
  }
  fs::path root = argv[1];
  auto mgcp = run_dir(root / "mgcp", cms::mgcp::fuzz::check_mgcp);
  auto sdp = run_dir(root / "sdp", cms::mgcp::fuzz::check_sdp);
  auto dm = run_dir(root / "digitmap", cms::mgcp::fuzz::check_digit_map);
  auto repl = run_dir(root / "replication", cms::fuzz::check_replication);
  auto http = run_dir(root / "http", cms::fuzz::check_http);
  auto ha = run_dir(root / "ha", cms::fuzz::check_ha_datagram);
  // Every corpus must have been found and be non-empty, or the test proves nothing.
  return (mgcp && sdp && dm && repl && http && ha) ? 0 : 1;
}
