#include "test/tools/mtasim/report.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace cms::sim {

double latency_samples::percentile(double p) const {
  if (samples_.empty())
    return 0;
  auto sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  if (rank == 0)
    rank = 1;
  return sorted[std::min(rank, sorted.size()) - 1];
}

double latency_samples::max() const {
  return samples_.empty() ? 0 : *std::max_element(samples_.begin(), samples_.end());
}

namespace {

boost::json::object latency_json(const latency_samples& s) {
  boost::json::object o;
  o["count"] = s.count();
  o["p50"] = s.percentile(50);
  o["p95"] = s.percentile(95);
  o["p99"] = s.percentile(99);
  o["max"] = s.max();
  return o;
}

double loss_pct(const rtp_counters& r) {
  auto expected = r.packets_received + r.packets_lost;
  return expected == 0
           ? 0
           : 100.0 * static_cast<double>(r.packets_lost) / static_cast<double>(expected);
}

} // namespace

boost::json::object to_json(const report_data& r) {
  boost::json::object o;
  o["mode"] = r.mode;
  o["elapsed_s"] = r.elapsed_s;
  o["lines"] = r.lines;
  o["lines_registered"] = r.lines_registered;
  o["lines_off_hook"] = r.lines_off_hook;
  o["gateways"] = r.gateways;

  boost::json::object sig;
  const auto& s = r.signalling;
  sig["rsip_sent"] = s.rsip_sent;
  sig["rsip_acked"] = s.rsip_acked;
  sig["rsip_failed"] = s.rsip_failed;
  sig["ntfy_sent"] = s.ntfy_sent;
  sig["ntfy_acked"] = s.ntfy_acked;
  sig["ntfy_failed"] = s.ntfy_failed;
  sig["ntfy_rejected"] = s.ntfy_rejected;
  sig["failovers"] = s.failovers;
  sig["commands_received"] = s.commands_received;
  sig["commands_refused"] = s.commands_refused;
  boost::json::object verbs;
  for (const auto& [v, n] : s.commands_by_verb)
    verbs[v] = n;
  sig["commands_by_verb"] = std::move(verbs);
  o["signalling"] = std::move(sig);

  boost::json::object calls;
  const auto& c = r.calls;
  calls["attempts"] = c.attempts;
  calls["answered"] = c.answered;
  calls["completed"] = c.completed;
  calls["release_timeouts"] = c.release_timeouts;
  calls["skipped"] = c.skipped;
  boost::json::object failures;
  std::uint64_t failed = 0;
  for (const auto& [cause, n] : c.failures) {
    failures[cause] = n;
    failed += n;
  }
  calls["failed"] = failed;
  calls["failures"] = std::move(failures);
  calls["setup_latency_ms"] = latency_json(c.setup_latency_ms);
  calls["answer_latency_ms"] = latency_json(c.answer_latency_ms);
  o["calls"] = std::move(calls);

  boost::json::object rtp;
  rtp["streams"] = r.rtp_streams;
  rtp["packets_sent"] = r.rtp.packets_sent;
  rtp["packets_received"] = r.rtp.packets_received;
  rtp["packets_lost"] = r.rtp.packets_lost;
  rtp["loss_pct"] = loss_pct(r.rtp);
  rtp["invalid_received"] = r.rtp.invalid_received;
  o["rtp"] = std::move(rtp);
  if (r.gateways) {
    const auto& t = r.trunks;
    o["trunks"] = boost::json::object{{"seizures", t.seizures},
                                      {"alerted", t.alerted},
                                      {"answered", t.answered},
                                      {"busy", t.busy},
                                      {"released_by_ca", t.released_by_ca},
                                      {"released_by_pstn", t.released_by_pstn},
                                      {"incoming_offered", t.incoming_offered},
                                      {"incoming_accepted", t.incoming_accepted},
                                      {"incoming_refused", t.incoming_refused},
                                      {"refused", t.refused},
                                      {"dropped_silent", t.dropped_silent}};
  }
  return o;
}

std::string to_text(const report_data& r) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1);
  os << "mtasim report (" << r.mode << ", " << r.elapsed_s << " s)\n";
  os << "  lines            " << r.lines_registered << "/" << r.lines << " registered, "
     << r.lines_off_hook << " off hook";
  if (r.gateways)
    os << ", " << r.gateways << " gateways";
  os << "\n";
  const auto& s = r.signalling;
  os << "  RSIP             sent " << s.rsip_sent << ", acked " << s.rsip_acked << ", failed "
     << s.rsip_failed << ", failovers " << s.failovers << "\n";
  os << "  NTFY             sent " << s.ntfy_sent << ", acked " << s.ntfy_acked << ", failed "
     << s.ntfy_failed << ", rejected " << s.ntfy_rejected << "\n";
  os << "  commands         received " << s.commands_received << ", refused " << s.commands_refused;
  for (const auto& [v, n] : s.commands_by_verb)
    os << ", " << v << " " << n;
  os << "\n";
  const auto& c = r.calls;
  if (r.gateways) {
    const auto& t = r.trunks;
    os << "  PSTN             seizures " << t.seizures << ", answered " << t.answered << ", busy "
       << t.busy << ", released by CA " << t.released_by_ca << ", by PSTN " << t.released_by_pstn
       << ", incoming " << t.incoming_accepted << "/" << t.incoming_offered << "\n";
  }
  if (c.attempts || c.skipped || r.mode == "calls" || r.mode == "offnet") {
    std::uint64_t failed = 0;
    for (const auto& [cause, n] : c.failures)
      failed += n;
    os << "  calls            attempts " << c.attempts << ", answered " << c.answered
       << ", completed " << c.completed << ", failed " << failed << ", skipped " << c.skipped
       << ", release timeouts " << c.release_timeouts << "\n";
    for (const auto& [cause, n] : c.failures)
      os << "    failed " << std::left << std::setw(10) << cause << std::right << n << "\n";
    os << "  setup latency    p50 " << c.setup_latency_ms.percentile(50) << " ms, p95 "
       << c.setup_latency_ms.percentile(95) << " ms, p99 " << c.setup_latency_ms.percentile(99)
       << " ms (" << c.setup_latency_ms.count() << " samples)\n";
    os << "  answer latency   p50 " << c.answer_latency_ms.percentile(50) << " ms, p95 "
       << c.answer_latency_ms.percentile(95) << " ms, p99 " << c.answer_latency_ms.percentile(99)
       << " ms\n";
  }
  os << "  RTP              streams " << r.rtp_streams << ", sent " << r.rtp.packets_sent
     << ", received " << r.rtp.packets_received << ", lost " << r.rtp.packets_lost << " ("
     << std::setprecision(2) << loss_pct(r.rtp) << "%)\n";
  return os.str();
}

} // namespace cms::sim
