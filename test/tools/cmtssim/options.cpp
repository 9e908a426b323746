#include "test/tools/cmtssim/options.hpp"

#include <stdexcept>

namespace cms::cmtssim {

std::string usage() {
  return "usage: cmtssim [--listen ADDR] [--port N] [--control-port N] [--police-port N] "
         "[--relay]\n"
         "               [--client-type 0x8008] [--pep-id NAME] [--ka-interval-ms N]\n"
         "               [--gate-id-seed N] [--report FILE] [--rks-secret-file FILE]\n"
         "               [--element-id NAME]\n"
         "  --port          COPS TCP port the gate controller connects to (default 2126)\n"
         "  --control-port  UDP port of the JSON control interface (loopback)\n"
         "  --police-port   UDP upstream media port: RTP sent here is policed against the gates\n"
         "  --relay         forward admitted media to the upstream Gate Spec's destination\n"
         "  --client-type   client type announced in Client-Open (tests the GC's refusal)\n"
         "  --ka-interval-ms  our Keep-Alive period (default: half the timer the CAT grants)\n"
         "  --report        write the final JSON report to FILE as well as stdout\n"
         "  --rks-secret-file  send QoS_Reserve/Commit/Release EMs to each gate's RKS, signed\n"
         "                  with the RADIUS secret in FILE (mode 0600)\n"
         "  --element-id    EM element id of this CMTS (at most 8 characters)\n";
}

namespace {

unsigned long number(const std::string& flag, const std::string& text, unsigned long max) {
  std::size_t used = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(text, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v > max)
    throw std::invalid_argument(flag + ": bad number '" + text + "'\n" + usage());
  return v;
}

} // namespace

options parse_options(const std::vector<std::string>& args) {
  options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size())
        throw std::invalid_argument(a + " needs a value\n" + usage());
      return args[++i];
    };
    if (a == "--listen")
      o.listen = value();
    else if (a == "--port")
      o.cops_port = static_cast<std::uint16_t>(number(a, value(), 65535));
    else if (a == "--control-port")
      o.control_port = static_cast<std::uint16_t>(number(a, value(), 65535));
    else if (a == "--police-port")
      o.police_port = static_cast<std::uint16_t>(number(a, value(), 65535));
    else if (a == "--relay")
      o.relay = true;
    else if (a == "--client-type")
      o.client_type = static_cast<std::uint16_t>(number(a, value(), 65535));
    else if (a == "--pep-id")
      o.pep_id = value();
    else if (a == "--ka-interval-ms")
      o.ka_interval = std::chrono::milliseconds{number(a, value(), 3600000)};
    else if (a == "--gate-id-seed")
      o.gate_id_seed = static_cast<std::uint32_t>(number(a, value(), 0xffffffffUL));
    else if (a == "--report")
      o.report_file = value();
    else if (a == "--rks-secret-file")
      o.rks_secret_file = value();
    else if (a == "--element-id") {
      o.element_id = value();
      if (o.element_id.empty() || o.element_id.size() > 8)
        throw std::invalid_argument("--element-id: 1..8 characters\n" + usage());
    } else if (a == "--help" || a == "-h")
      throw std::invalid_argument(usage());
    else
      throw std::invalid_argument("unknown option " + a + "\n" + usage());
  }
  return o;
}

} // namespace cms::cmtssim
