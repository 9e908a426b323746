// The primary data link flapping every second for a minute under off-net call load, against the
// real cmsd, mtasim gateways and `link-peer` probe responders (see integration/gateways/gateway_rig.hpp).

#include "integration/gateways/gateway_rig.hpp"

TEST(gateways_flapping_long, primary_link_flapping_every_second_for_a_minute_leaks_nothing) {
  cms::test::run_flapping(std::chrono::seconds{60});
}
