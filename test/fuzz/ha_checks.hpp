#pragma once
// Invariants of the pair's UDP control-plane decoders (runtime/transport/ha_wire.hpp): heartbeats,
// witness requests and witness answers, which anyone who can reach the ports may send. Shared by
// the libFuzzer harness (fuzz_ha.cpp, scripts/fuzz.sh) and the corpus regression test.

#include <string_view>

namespace cms::fuzz {

/// The input is tried as it is (as a stranger would send it: refused, never a crash) and sealed
/// with the test key (so the JSON parsing behind the MAC is reached too). Whatever decodes has an
/// epoch within the store's range and re-encodes to a datagram that decodes to the same fields.
void check_ha_datagram(std::string_view input);

} // namespace cms::fuzz
