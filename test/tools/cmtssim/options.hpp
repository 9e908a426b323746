#pragma once
// cmtssim's command line.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::cmtssim {

struct options {
  std::string listen = "127.0.0.1";         ///< address for every socket
  std::uint16_t cops_port = 2126;           ///< TCP: the gate controller connects here
  std::uint16_t control_port = 0;           ///< UDP JSON control; 0 = none
  std::optional<std::uint16_t> police_port; ///< UDP upstream media port; unset = no policing
  bool relay = false;                       ///< forward admitted media to the gate's destination
  std::uint16_t client_type = 0x8008;       ///< what OPN announces
  std::string pep_id = "cmtssim";
  std::optional<std::chrono::milliseconds> ka_interval;
  std::uint32_t gate_id_seed = 0x5eed;
  std::string report_file; ///< JSON report written at exit ("" = stdout only)
  /// QoS event messages to the RKS of each gate's Event Generation Info, signed with the secret
  /// in this file; "" = no event messages.
  std::string rks_secret_file;
  std::string element_id = "cmtssim"; ///< EM header element id (at most 8 characters)
};

/// Parses argv; throws std::invalid_argument with a usage message on bad input.
options parse_options(const std::vector<std::string>& args);
std::string usage();

} // namespace cms::cmtssim
