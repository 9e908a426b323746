#pragma once
// Invariants checked on every input by the libFuzzer harnesses (clang, scripts/fuzz.sh) and by the
// corpus regression test (g++, ctest). A violated invariant aborts with a message, so both the
// fuzzer and the regression test report it as a failure.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cms::mgcp::fuzz {

/// decode never crashes; every good message re-encodes to text that decodes back to it; errors
/// carry one of the documented codes; the typed helpers survive every parameter value.
void check_mgcp(std::string_view datagram);
/// parse_sdp never crashes; build(parse(x)) is a fixed point of parse/build.
void check_sdp(std::string_view text);
/// First line: a digit map; the rest: dialled digits. Compile and match never crash; "none" and
/// "full" are final (no digit can turn them into something else).
void check_digit_map(std::string_view input);

} // namespace cms::mgcp::fuzz
