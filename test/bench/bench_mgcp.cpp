// MGCP stack throughput: codec parse/build rates, and command/response round trips between two
// agents over loopback UDP beside a raw UDP echo round trip measured in the same run (the ratio
// says what the MGCP layers cost on top of the kernel's UDP path). Run by scripts/bench-mgcp.sh.

#include "unit/mgcp_agent/mgcp_test_support.hpp"

#include "runtime/mgcp/agent.hpp"
#include "runtime/mgcp/codec.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <map>

namespace cms::mgcp {
namespace {

using namespace std::chrono_literals;

const std::string crcx_text = "CRCX 1204 aaln/1@rgw-2567.whatever.net MGCP 1.0 NCS 1.0\r\n"
                              "C: A3C47F21456789F0\r\n"
                              "L: p:10, a:PCMU\r\n"
                              "M: recvonly\r\n"
                              "N: ca@ca1.whatever.net:5678\r\n"
                              "X: 0123456789AC\r\n"
                              "R: L/hu(N), D/[0-9#*T](D)\r\n"
                              "D: (0T|00T|[1-7]xxx|8xxxxxxx|#xxxxxxx|*xx|91xxxxxxxxxx|9011x.T)\r\n"
                              "\r\n"
                              "v=0\r\n"
                              "o=- 25678 753849 IN IP4 128.96.41.1\r\n"
                              "s=-\r\n"
                              "c=IN IP4 128.96.41.1\r\n"
                              "t=0 0\r\n"
                              "m=audio 3456 RTP/AVP 0\r\n"
                              "a=rtpmap:0 PCMU/8000\r\n"
                              "a=ptime:20\r\n";

const std::string response_text =
  "200 1204 OK\r\nI: FDE234C8\r\n\r\nv=0\r\no=- 4723891 7428910 IN IP4 128.96.63.25\r\n"
  "s=-\r\nc=IN IP4 128.96.63.25\r\nt=0 0\r\nm=audio 1296 RTP/AVP 0\r\n";

/// Rates measured by the round-trip benchmarks, printed side by side at the end.
std::map<std::string, double> rates;

void BM_ParseCommand(benchmark::State& state) {
  for (auto _ : state) {
    auto r = decode(crcx_text);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(crcx_text.size()));
}
BENCHMARK(BM_ParseCommand);

void BM_ParseResponse(benchmark::State& state) {
  for (auto _ : state) {
    auto r = decode(response_text);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseResponse);

void BM_BuildCommand(benchmark::State& state) {
  auto decoded = decode(crcx_text);
  const auto cmd = std::get<command>(decoded.messages.at(0));
  for (auto _ : state) {
    auto text = encode(cmd);
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildCommand);

void BM_BuildResponse(benchmark::State& state) {
  auto decoded = decode(response_text);
  const auto rsp = std::get<response>(decoded.messages.at(0));
  for (auto _ : state) {
    auto text = encode(rsp);
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildResponse);

/// Baseline: one datagram of MGCP size to an echo thread and back, blocking sockets.
void BM_RawUdpEchoRoundTrip(benchmark::State& state) {
  test::raw_peer client;
  boost::asio::io_context io;
  boost::asio::ip::udp::socket echo{io, udp_endpoint{test::loopback, 0}};
  const auto echo_at = echo.local_endpoint();
  std::atomic<bool> stop{false};
  std::thread echoer([&] {
    char buf[2048];
    udp_endpoint from;
    for (;;) {
      auto n = echo.receive_from(boost::asio::buffer(buf), from);
      if (stop)
        return;
      echo.send_to(boost::asio::buffer(buf, n), from);
    }
  });
  const std::string payload(crcx_text.substr(0, 120));
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    client.send(echo_at, payload);
    if (!client.receive(1s)) {
      state.SkipWithError("echo lost");
      break;
    }
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rates["udp_echo"] = static_cast<double>(state.iterations()) / secs;
  stop = true;
  client.send(echo_at, "x");
  echoer.join();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawUdpEchoRoundTrip)->UseRealTime();

/// Call agent -> gateway agent -> call agent: AUEP and 200 through codec, transaction layer,
/// response cache and K: acknowledgement, each agent on its own io thread.
void BM_MgcpRoundTrip(benchmark::State& state) {
  agent_config cfg;
  cfg.seed = 5;
  test::running_agent gw{cfg};
  gw.agent().on_command([&](const udp_endpoint& from, command cmd) {
    response r;
    r.code = 200;
    r.transaction_id = cmd.transaction_id;
    gw.agent().respond(from, std::move(r));
  });
  gw.run();
  test::running_agent ca{cfg};
  ca.run();
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool ok = true;
  command auep;
  auep.kind = verb::auep;
  auep.endpoint = "aaln/1@rgw-2567.whatever.net";
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    {
      std::lock_guard lock{m};
      done = false;
    }
    ca.agent().send(gw.endpoint(), auep, [&](command_outcome o) {
      std::lock_guard lock{m};
      ok = ok && std::holds_alternative<response>(o);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lock{m};
    if (!cv.wait_for(lock, 10s, [&] { return done; }) || !ok) {
      state.SkipWithError("round trip failed");
      break;
    }
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rates["mgcp"] = static_cast<double>(state.iterations()) / secs;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MgcpRoundTrip)->UseRealTime();

} // namespace
} // namespace cms::mgcp

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  auto& r = cms::mgcp::rates;
  if (r.count("mgcp") && r.count("udp_echo") && r["udp_echo"] > 0) {
    std::printf("\nround trips over loopback UDP (last run of each benchmark):\n");
    std::printf("  raw UDP echo     : %10.0f round trips/s\n", r["udp_echo"]);
    std::printf("  MGCP agent-agent : %10.0f round trips/s\n", r["mgcp"]);
    std::printf("  ratio MGCP / raw : %10.2f\n", r["mgcp"] / r["udp_echo"]);
  }
  return 0;
}
