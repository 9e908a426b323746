#pragma once
// SNMPv2-TC DateAndTime encoding of a wall-clock time, in UTC (11 octets, "+0:0" offset).

#include <array>
#include <chrono>
#include <cstdint>

namespace cms::snmp {

/// Octets: year (2, network order), month, day, hour, minutes, seconds, deci-seconds, '+', 0, 0.
/// A time before 1970 or past year 65535 is clamped; the result is always a valid DateAndTime.
std::array<std::uint8_t, 11> encode_date_and_time(std::chrono::system_clock::time_point t);

} // namespace cms::snmp
