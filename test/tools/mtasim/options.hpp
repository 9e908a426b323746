#pragma once
// Command line of mtasim. Parsing is separate from main() so the unit tests can check that bad
// input is refused with a clear message.

#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cms::sim {

enum class answer_policy { automatic, never, busy };

struct sim_options {
  std::vector<boost::asio::ip::udp::endpoint> call_agents; ///< --ca, in failover order
  int mtas = 1;
  int lines = 2;
  int first_mta = 1; ///< number of the first MTA in its domain name
  std::string bind = "127.0.0.1";
  int base_port = 2427; ///< MTA i binds base_port + i; 0 = any free port
  /// When set, MTA i binds address mta_address_base + i, all on base_port (as provisioned:
  /// mta-0001 at 127.0.0.101:2427, mta-0002 at 127.0.0.102:2427...). Its RTP uses that address too.
  std::string mta_address_base;
  std::string domain_pattern = "mta-{n}.cable.example"; ///< {n} = 4-digit MTA number, {i} = plain
  std::uint64_t dn_base = 5551001; ///< DN of line k (0-based, MTA-major order) = dn_base + k

  answer_policy answer = answer_policy::automatic;
  std::chrono::milliseconds answer_delay{500};
  std::chrono::milliseconds hangup_delay{
    200}; ///< auto-answered line hangs up this long after release

  // Scenario mode (--scenario calls)
  std::string scenario; ///< empty = answer mode
  double rate = 1.0;    ///< calls per second
  std::chrono::milliseconds hold{5000};
  std::chrono::milliseconds hold_max{0}; ///< > hold: each call holds uniformly in [hold, hold_max]
  std::chrono::milliseconds duration{0}; ///< scenario length; in answer mode 0 = run until signal
  std::chrono::milliseconds setup_timeout{10000};     ///< no dial tone / no progress
  std::chrono::milliseconds no_answer_timeout{30000}; ///< ringback this long = no answer
  std::chrono::milliseconds digit_interval{50};
  std::chrono::milliseconds register_timeout{30000};
  std::chrono::milliseconds drain_timeout{15000}; ///< after the last call, wait for releases

  bool json = false;
  std::string report_file; ///< also write the JSON report here
  int control_port = -1;   ///< -1 = off, 0 = any free port (printed on stdout)
  bool verbose = false;

  // NCS timers
  std::chrono::milliseconds rto_initial{200};
  std::chrono::milliseconds rto_max{4000};
  int max_retransmissions = 7; ///< Max2
  std::chrono::milliseconds t_hist{30000};
  std::chrono::milliseconds partial_timer{16000};
  std::chrono::milliseconds critical_timer{4000};
  std::chrono::milliseconds reconnect_delay{1000}; ///< before retrying a CA list that all failed
  std::chrono::milliseconds rsip_spread{0};        ///< spread initial RSIPs over this window
  int max_connections = 2;
  /// --no-media: connections get an SDP port but open no RTP socket and send nothing. For
  /// signalling benchmarks with tens of thousands of calls (media never crosses the call agent;
  /// 2 sockets per call would exhaust file descriptors and the 20 ms clock would eat the CPU).
  bool media = true;

  // Gateway mode: simulated trunking gateways (test/tools/mtasim/gateway.hpp)
  int gateways = 0;  ///< --gateways N: named by gateway_pattern on --bind
  int spans = 1;     ///< every gateway has spans ds1-1 .. ds1-<spans>
  int channels = 24; ///< channels 1..C per span
  std::string gateway_pattern = "gw-{n}.pstn.example";
  int gateway_base_port = 0; ///< 0 = any free port
  struct gateway_spec {
    std::string name;
    std::string address;
    int port = 2427;
  };
  std::vector<gateway_spec> gateway_list; ///< --gateway NAME@IP:PORT, repeatable
  // The simulated PSTN behind the gateways.
  answer_policy pstn_answer =
    answer_policy::automatic;                      ///< outgoing calls: answer, never, busy (rel 17)
  std::chrono::milliseconds pstn_alert_delay{100}; ///< seizure -> far end alerting (X-TR/alt)
  std::chrono::milliseconds pstn_answer_delay{500}; ///< seizure -> far end answers (X-TR/ans)
  std::chrono::milliseconds pstn_hold{0}; ///< answered PSTN party hangs up after this; 0 = never
  std::vector<std::string> called;        ///< --scenario offnet: numbers dialled, in turn
};

/// Throws std::invalid_argument with a message naming the bad option.
sim_options parse_options(const std::vector<std::string>& args);
std::string usage();

/// "127.0.0.1:2727" (port optional, default 2727); throws std::invalid_argument.
boost::asio::ip::udp::endpoint parse_host_port(const std::string& s, std::uint16_t default_port);

/// Applies {n} (zero-padded to 4) and {i} (plain) to a name pattern.
std::string expand_pattern(const std::string& pattern, int number);

} // namespace cms::sim
