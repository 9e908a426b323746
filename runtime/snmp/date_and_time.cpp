#include "runtime/snmp/date_and_time.hpp"

#include <ctime>

namespace cms::snmp {

std::array<std::uint8_t, 11> encode_date_and_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<milliseconds>(t.time_since_epoch());
  if (since_epoch.count() < 0)
    since_epoch = milliseconds{0};
  const std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  const int year = utc.tm_year + 1900;
  const unsigned y = year > 65535 ? 65535u : static_cast<unsigned>(year);
  return {static_cast<std::uint8_t>(y >> 8),
          static_cast<std::uint8_t>(y & 0xff),
          static_cast<std::uint8_t>(utc.tm_mon + 1),
          static_cast<std::uint8_t>(utc.tm_mday),
          static_cast<std::uint8_t>(utc.tm_hour),
          static_cast<std::uint8_t>(utc.tm_min),
          static_cast<std::uint8_t>(utc.tm_sec > 59 ? 60 : utc.tm_sec), // leap second allowed
          static_cast<std::uint8_t>((since_epoch.count() % 1000) / 100),
          static_cast<std::uint8_t>('+'),
          0,
          0};
}

} // namespace cms::snmp
