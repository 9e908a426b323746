#pragma once
// Shared by the conformance tests: locating the real peer programs, a blocking send over the
// agent, and the set of messages our stack emits (every verb, every response kind).

#include "unit/mgcp_agent/mgcp_test_support.hpp"

#include "runtime/mgcp/agent.hpp"
#include "runtime/mgcp/message.hpp"

#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace cms::mgcp::test {

/// Absolute path of `name` on PATH (or the usual system directories), empty when missing.
inline std::string find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  std::stringstream ss{path};
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty())
      continue;
    std::filesystem::path p = std::filesystem::path{dir} / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0)
      return p.string();
  }
  return {};
}

inline std::string missing_program(const std::string& name, const std::string& package) {
  return name + " not found on PATH: install the Debian package '" + package +
         "' (scripts/install-deps.sh does)";
}

/// Sends `cmd` and waits for its outcome.
inline command_outcome send_and_wait(agent& a, const udp_endpoint& to, command cmd,
                                     std::chrono::seconds limit = std::chrono::seconds{10}) {
  auto done = std::make_shared<std::promise<command_outcome>>();
  auto result = done->get_future();
  a.send(to, std::move(cmd), [done](command_outcome o) { done->set_value(std::move(o)); });
  if (result.wait_for(limit) != std::future_status::ready)
    throw std::runtime_error("no outcome within the time limit");
  return result.get();
}

inline command make_command(verb v, std::string endpoint, parameter_list params,
                            std::optional<std::string> sdp = std::nullopt,
                            std::string version = "MGCP 1.0 NCS 1.0") {
  command c;
  c.kind = v;
  c.endpoint = std::move(endpoint);
  c.version = std::move(version);
  c.params = std::move(params);
  c.sdp = std::move(sdp);
  return c;
}

inline std::string audio_sdp(std::uint16_t port, const std::string& session = "2890844526") {
  return "v=0\r\no=- " + session +
         " 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio " +
         std::to_string(port) +
         " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
         "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n";
}

/// One command of each of the nine verbs, as the call agent (or, for NTFY/RSIP, an MTA) sends them.
inline std::vector<command> every_command() {
  const std::string ep = "aaln/1@mta-0001.cable.example";
  return {
    make_command(verb::epcf, ep, {{"B", "e:mu"}}),
    make_command(verb::crcx, ep,
                 {{"C", "A3C47F21456789F0"}, {"L", "p:20, a:PCMU, e:on"}, {"M", "recvonly"}},
                 audio_sdp(49170)),
    make_command(verb::mdcx, ep, {{"C", "A3C47F21456789F0"}, {"I", "FDE234C8"}, {"M", "sendrecv"}},
                 audio_sdp(49172, "2890844527")),
    make_command(verb::dlcx, ep, {{"C", "A3C47F21456789F0"}, {"I", "FDE234C8"}}),
    make_command(verb::rqnt, ep,
                 {{"N", "ca@ca1.cable.example:2727"},
                  {"X", "0123456789AC"},
                  {"R", "L/hu(N), D/[0-9#*T](D)"},
                  {"S", "L/dl"},
                  {"D", "(0T|00T|[1-7]xxx|8xxxxxxx|#xxxxxxx|*xx|91xxxxxxxxxx|9011x.T)"}}),
    make_command(verb::ntfy, ep,
                 {{"N", "ca@ca1.cable.example:2727"}, {"X", "0123456789AC"}, {"O", "L/hd"}}),
    make_command(verb::auep, ep, {{"F", "R,D,S,X,N,I,T,O,ES"}}),
    make_command(verb::aucx, ep, {{"I", "FDE234C8"}, {"F", "C,N,L,M,LC,P"}}),
    make_command(verb::rsip, "aaln/*@mta-0001.cable.example", {{"RM", "restart"}, {"RD", "0"}}),
  };
}

/// The gateway side's answer to each command of every_command().
inline response answer_for(const command& c) {
  response r;
  r.transaction_id = c.transaction_id;
  r.code = 200;
  switch (c.kind) {
  case verb::crcx:
    r.params = {{"I", "FDE234C8"}};
    r.sdp = audio_sdp(3456, "25678");
    break;
  case verb::mdcx:
    r.sdp = audio_sdp(3456, "25678");
    break;
  case verb::dlcx:
    r.code = 250;
    r.params = {{"P", "PS=1245, OS=62345, PR=780, OR=45123, PL=10, JI=27, LA=48"}};
    break;
  case verb::auep:
    r.params = {{"R", "L/hu"},
                {"D", "0T"},
                {"S", "L/dl"},
                {"X", "0123456789AC"},
                {"N", "ca@ca1.cable.example:2727"},
                {"I", "FDE234C8"},
                {"ES", "L/hd"}};
    break;
  case verb::aucx:
    r.params = {{"C", "A3C47F21456789F0"}, {"M", "sendrecv"}, {"L", "p:20, a:PCMU"}};
    r.sdp = audio_sdp(3456, "25678");
    break;
  default:
    break;
  }
  return r;
}

} // namespace cms::mgcp::test
