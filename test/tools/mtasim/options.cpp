#include "test/tools/mtasim/options.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace cms::sim {

namespace {

long long to_int(const std::string& opt, const std::string& v, long long lo, long long hi) {
  long long out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < lo || out > hi)
    throw std::invalid_argument(opt + ": expected an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got '" + v + "'");
  return out;
}

double to_double(const std::string& opt, const std::string& v, double lo, double hi) {
  try {
    std::size_t used = 0;
    double out = std::stod(v, &used);
    if (used != v.size() || !std::isfinite(out) || out < lo || out > hi)
      throw std::invalid_argument("range");
    return out;
  } catch (const std::exception&) {
    throw std::invalid_argument(opt + ": expected a number in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got '" + v + "'");
  }
}

std::chrono::milliseconds ms(const std::string& opt, const std::string& v) {
  return std::chrono::milliseconds(to_int(opt, v, 0, 86'400'000));
}

std::chrono::milliseconds seconds(const std::string& opt, const std::string& v) {
  return std::chrono::milliseconds(
    static_cast<long long>(std::llround(to_double(opt, v, 0, 86'400) * 1000)));
}

} // namespace

boost::asio::ip::udp::endpoint parse_host_port(const std::string& s, std::uint16_t default_port) {
  std::string host = s;
  std::uint16_t port = default_port;
  auto colon = s.rfind(':');
  if (colon != std::string::npos) {
    host = s.substr(0, colon);
    port = static_cast<std::uint16_t>(to_int("port in '" + s + "'", s.substr(colon + 1), 1, 65535));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  if (ec)
    throw std::invalid_argument("'" + s + "': expected IP:PORT");
  return {addr, port};
}

std::string expand_pattern(const std::string& pattern, int number) {
  std::string out;
  char padded[16];
  std::snprintf(padded, sizeof padded, "%04d", number);
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern.compare(i, 3, "{n}") == 0) {
      out += padded;
      i += 3;
    } else if (pattern.compare(i, 3, "{i}") == 0) {
      out += std::to_string(number);
      i += 3;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

std::string usage() {
  return R"(usage: mtasim [options]
  --ca IP:PORT[,IP:PORT...]   call agents in failover order (default 127.0.0.1:2727)
  --mtas N --lines M          simulated MTAs and lines per MTA (default 1 x 2)
  --first-mta K               number of the first MTA (default 1)
  --bind IP                   local address for MGCP and RTP (default 127.0.0.1)
  --base-port P               MTA i uses port P+i-1 (default 2427; 0 = any free port)
  --mta-address-base IP       MTA i binds IP+i-1 on --base-port (matches config/provisioning.toml)
  --domain PATTERN            MTA domain, {n} = 4-digit number (default mta-{n}.cable.example)
  --dn-base DN                directory number of the first line (default 5551001)
  --answer auto|never|busy    what a ringing line does (default auto)
  --answer-delay MS           ringing -> off-hook delay (default 500)
  --hangup-delay MS           release -> on-hook delay of an answering line (default 200)
  --scenario calls            place calls between the simulated lines
  --rate R --hold S --duration S   calls per second, hold time, scenario length (seconds)
                              (--hold MIN-MAX: each call holds a random time in that range)
  --setup-timeout S --no-answer-timeout S --digit-interval MS --drain-timeout S
  --register-timeout S        wait for RSIP acknowledgements before the scenario starts
  --json                      print the report as JSON
  --report-file PATH          also write the JSON report to PATH
  --control PORT              line-based TCP control on the bind address (0 = any free port)
  --rto-initial MS --rto-max MS --max-retrans N --t-hist MS   MGCP transaction timers
  --partial-timer MS --critical-timer MS   digit map timers (default 16000 / 4000)
  --reconnect-delay MS        pause before cycling again through a CA list that all failed
  --rsip-spread MS            spread the initial RSIPs over this window
  --max-connections N         connections per line (default 2)
  --no-media                  no RTP sockets or packets (SDP still offers a port): signalling load only
  --scenario offnet --called NUMBER[,NUMBER...]   place calls from the lines to these PSTN numbers
  --gateways N --spans S --channels C   simulated trunking gateways (ds/ds1-<span>/<channel>)
  --gateway NAME@IP:PORT      one simulated trunking gateway (repeatable; adds to --gateways)
  --gateway-domain PATTERN    default gw-{n}.pstn.example
  --gateway-base-port P       first gateway port (default 0 = any free port)
  --pstn-answer auto|never|busy   the PSTN party of an outgoing call (default auto)
  --pstn-alert-delay MS --pstn-answer-delay MS   seizure -> alerting / answer (default 100 / 500)
  --pstn-hold S               answered PSTN party hangs up after S seconds (default 0 = never)
  --verbose                   log every MGCP message and line action to stderr
)";
}

sim_options parse_options(const std::vector<std::string>& args) {
  sim_options o;
  bool ca_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size())
        throw std::invalid_argument(a + ": missing value");
      return args[++i];
    };
    if (a == "--ca") {
      std::string list = value();
      std::size_t start = 0;
      while (start <= list.size()) {
        auto comma = list.find(',', start);
        auto item =
          list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty())
          o.call_agents.push_back(parse_host_port(item, 2727));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
      if (o.call_agents.empty())
        throw std::invalid_argument("--ca: empty list");
      ca_given = true;
    } else if (a == "--mtas") {
      o.mtas = static_cast<int>(to_int(a, value(), 0, 100000));
    } else if (a == "--lines") {
      o.lines = static_cast<int>(to_int(a, value(), 1, 64));
    } else if (a == "--first-mta") {
      o.first_mta = static_cast<int>(to_int(a, value(), 0, 9999999));
    } else if (a == "--bind") {
      o.bind = value();
      boost::system::error_code ec;
      boost::asio::ip::make_address(o.bind, ec);
      if (ec)
        throw std::invalid_argument("--bind: '" + o.bind + "' is not an IP address");
    } else if (a == "--base-port") {
      o.base_port = static_cast<int>(to_int(a, value(), 0, 65535));
    } else if (a == "--mta-address-base") {
      o.mta_address_base = value();
      boost::system::error_code ec;
      auto addr = boost::asio::ip::make_address(o.mta_address_base, ec);
      if (ec || !addr.is_v4())
        throw std::invalid_argument("--mta-address-base: '" + o.mta_address_base +
                                    "' is not an IPv4 address");
    } else if (a == "--domain") {
      o.domain_pattern = value();
    } else if (a == "--dn-base") {
      o.dn_base = static_cast<std::uint64_t>(to_int(a, value(), 0, 999'999'999'999'999LL));
    } else if (a == "--answer") {
      auto v = value();
      if (v == "auto")
        o.answer = answer_policy::automatic;
      else if (v == "never")
        o.answer = answer_policy::never;
      else if (v == "busy")
        o.answer = answer_policy::busy;
      else
        throw std::invalid_argument("--answer: expected auto, never or busy, got '" + v + "'");
    } else if (a == "--answer-delay") {
      o.answer_delay = ms(a, value());
    } else if (a == "--hangup-delay") {
      o.hangup_delay = ms(a, value());
    } else if (a == "--scenario") {
      o.scenario = value();
      if (o.scenario != "calls" && o.scenario != "offnet")
        throw std::invalid_argument("--scenario: expected calls or offnet, got '" + o.scenario +
                                    "'");
    } else if (a == "--rate") {
      o.rate = to_double(a, value(), 0.001, 100000);
    } else if (a == "--hold") {
      // MIN-MAX gives a lab realistic, varied hold times; a plain S keeps every call equal.
      const auto v = value();
      const auto dash = v.find('-', 1);
      o.hold = seconds(a, v.substr(0, dash));
      o.hold_max = dash == std::string::npos ? o.hold : seconds(a, v.substr(dash + 1));
      if (o.hold_max < o.hold)
        throw std::invalid_argument("--hold: MAX is smaller than MIN in '" + v + "'");
    } else if (a == "--duration") {
      o.duration = seconds(a, value());
    } else if (a == "--setup-timeout") {
      o.setup_timeout = seconds(a, value());
    } else if (a == "--no-answer-timeout") {
      o.no_answer_timeout = seconds(a, value());
    } else if (a == "--digit-interval") {
      o.digit_interval = ms(a, value());
    } else if (a == "--register-timeout") {
      o.register_timeout = seconds(a, value());
    } else if (a == "--drain-timeout") {
      o.drain_timeout = seconds(a, value());
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--report-file") {
      o.report_file = value();
    } else if (a == "--control") {
      o.control_port = static_cast<int>(to_int(a, value(), 0, 65535));
    } else if (a == "--verbose" || a == "-v") {
      o.verbose = true;
    } else if (a == "--rto-initial") {
      o.rto_initial = ms(a, value());
    } else if (a == "--rto-max") {
      o.rto_max = ms(a, value());
    } else if (a == "--max-retrans") {
      o.max_retransmissions = static_cast<int>(to_int(a, value(), 0, 100));
    } else if (a == "--t-hist") {
      o.t_hist = ms(a, value());
    } else if (a == "--partial-timer") {
      o.partial_timer = ms(a, value());
    } else if (a == "--critical-timer") {
      o.critical_timer = ms(a, value());
    } else if (a == "--reconnect-delay") {
      o.reconnect_delay = ms(a, value());
    } else if (a == "--rsip-spread") {
      o.rsip_spread = ms(a, value());
    } else if (a == "--no-media") {
      o.media = false;
    } else if (a == "--max-connections") {
      o.max_connections = static_cast<int>(to_int(a, value(), 1, 16));
    } else if (a == "--gateways") {
      o.gateways = static_cast<int>(to_int(a, value(), 0, 1000));
    } else if (a == "--spans") {
      o.spans = static_cast<int>(to_int(a, value(), 1, 64));
    } else if (a == "--channels") {
      o.channels = static_cast<int>(to_int(a, value(), 1, 31));
    } else if (a == "--gateway") {
      auto v = value();
      auto at = v.find('@');
      if (at == std::string::npos || at == 0)
        throw std::invalid_argument("--gateway: expected NAME@IP:PORT, got '" + v + "'");
      auto ep = parse_host_port(v.substr(at + 1), 2427);
      o.gateway_list.push_back({v.substr(0, at), ep.address().to_string(), ep.port()});
    } else if (a == "--pstn-answer") {
      auto v = value();
      if (v == "auto")
        o.pstn_answer = answer_policy::automatic;
      else if (v == "never")
        o.pstn_answer = answer_policy::never;
      else if (v == "busy")
        o.pstn_answer = answer_policy::busy;
      else
        throw std::invalid_argument("--pstn-answer: expected auto, never or busy, got '" + v + "'");
    } else if (a == "--pstn-alert-delay") {
      o.pstn_alert_delay = ms(a, value());
    } else if (a == "--pstn-answer-delay") {
      o.pstn_answer_delay = ms(a, value());
    } else if (a == "--pstn-hold") {
      o.pstn_hold = seconds(a, value());
    } else if (a == "--called") {
      auto list = value();
      std::size_t start = 0;
      while (start <= list.size()) {
        auto comma = list.find(',', start);
        auto item =
          list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) {
          if (item.size() > 32 || item.find_first_not_of("0123456789*#") != std::string::npos)
            throw std::invalid_argument("--called: '" + item + "' is not a dialable number");
          o.called.push_back(item);
        }
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
      if (o.called.empty())
        throw std::invalid_argument("--called: empty list");
    } else if (a == "--gateway-domain") {
      o.gateway_pattern = value();
    } else if (a == "--gateway-base-port") {
      o.gateway_base_port = static_cast<int>(to_int(a, value(), 0, 65535));
    } else if (a == "--help" || a == "-h") {
      throw std::invalid_argument("help");
    } else {
      throw std::invalid_argument("unknown option '" + a + "'");
    }
  }
  if (!ca_given)
    o.call_agents.push_back(parse_host_port("127.0.0.1:2727", 2727));
  if (o.mta_address_base.empty() && o.base_port != 0 && o.base_port + o.mtas - 1 > 65535)
    throw std::invalid_argument("--base-port: " + std::to_string(o.mtas) +
                                " consecutive ports do not fit below 65536");
  if (o.mtas == 0 && o.gateways == 0 && o.gateway_list.empty())
    throw std::invalid_argument("nothing to simulate: --mtas 0 and no gateway");
  if (o.gateway_base_port != 0 && o.gateway_base_port + o.gateways - 1 > 65535)
    throw std::invalid_argument("--gateway-base-port: " + std::to_string(o.gateways) +
                                " consecutive ports do not fit below 65536");
  if (o.scenario == "calls" && o.mtas * o.lines < 2)
    throw std::invalid_argument("--scenario calls needs at least two lines");
  if (o.scenario == "offnet" && (o.mtas * o.lines < 1 || o.called.empty()))
    throw std::invalid_argument("--scenario offnet needs at least one line and --called NUMBER");
  if (o.rto_initial.count() == 0 || o.rto_max < o.rto_initial)
    throw std::invalid_argument("--rto-initial must be > 0 and <= --rto-max");
  return o;
}

} // namespace cms::sim
