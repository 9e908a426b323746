// Backlog drain rate: N records waiting in a real SQLite outbox, drained by the billing forwarder
// over TLS to a local `rks` (its own SQLite, synchronous=FULL), oldest first, one batch in flight.
//   bench_billing_drain [records=100000] [batch_size=100]
// Prints records/s; checks that the RKS ends with exactly N records (exit 1 otherwise).

#include "actors/billing/billing_forwarder.hpp"
#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/transport/rks_client.hpp"
#include "support/process.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/all.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

using namespace cms;
using namespace std::chrono_literals;

namespace {

struct bench_config : caf::actor_system_config {
  bench_config() { add_message_types<caf::id_block::cms>(); }
};

long long rks_count(const std::filesystem::path& db) {
  const auto cmd = std::string{CMS_BINARY_DIR} + "/rks count --db '" + db.string() + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  long long n = -1;
  if (p) {
    if (std::fscanf(p, "%lld", &n) != 1)
      n = -1;
    ::pclose(p);
  }
  return n;
}

} // namespace

int main(int argc, char** argv) {
  const std::size_t records = argc > 1 ? std::stoul(argv[1]) : 100000;
  const std::size_t batch_size = argc > 2 ? std::stoul(argv[2]) : 100;
  log::init({"bench", "warn", ""});
  test::temp_dir tmp;
  const auto certs = tmp.path() / "certs";
  if (std::system(("sh '" + std::string{CMS_SOURCE_DIR} + "/scripts/gen-certs.sh' '" +
                   certs.string() + "' >/dev/null 2>&1")
                    .c_str()) != 0) {
    std::cerr << "gen-certs.sh failed\n";
    return 1;
  }
  auto c = [&](const char* f) { return (certs / f).string(); };

  // The backlog: written before anything forwards, in appends of 1000 (group commit).
  {
    auto db = persistence::database::open(tmp.path() / "cms.db");
    persistence::outbox outbox{db};
    std::vector<billing::billing_record> chunk;
    for (std::size_t i = 0; i < records; ++i) {
      billing::billing_record r;
      r.call_id = "call-" + std::to_string(i / 3) + "@cms-a";
      r.event = i % 3 == 0 ? "signaling_start" : i % 3 == 1 ? "call_answer" : "signaling_stop";
      r.record_id = r.call_id + ":" + r.event;
      r.calling_number = "5551000";
      r.called_number = "5552000";
      r.originating = "aaln/1@mta-a.example";
      r.terminating = "aaln/1@mta-b.example";
      r.route = "on-net";
      r.timestamp_ms = 1700000000000 + static_cast<std::int64_t>(i);
      chunk.push_back(std::move(r));
      if (chunk.size() == 1000 || i + 1 == records) {
        outbox.append(chunk);
        chunk.clear();
      }
    }
  }

  const auto port_file = tmp.path() / "rks.port";
  test::child_process rks{{std::string{CMS_BINARY_DIR} + "/rks", "serve", "--listen", "127.0.0.1:0",
                           "--db", (tmp.path() / "rks.db").string(), "--cert", c("rks.crt"),
                           "--key", c("rks.key"), "--ca", c("ca.crt"), "--port-file",
                           port_file.string(), "--log-level", "warn"},
                          tmp.path() / "rks.log"};
  std::uint16_t port = 0;
  test::eventually([&] {
    std::ifstream in{port_file};
    return static_cast<bool>(in >> port) && port != 0;
  });
  if (port == 0) {
    std::cerr << "rks did not start\n";
    return 1;
  }

  metrics::registry metrics;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread{[&] { io.run(); }};
  int rc = 0;
  {
    bench_config cfg;
    caf::actor_system sys{cfg};
    auto client = std::make_shared<billing::rks_client>(
      io, billing::tls_settings{c("node-a.crt"), c("node-a.key"), c("ca.crt")}, metrics);
    billing::forwarder_settings fs;
    fs.db_file = tmp.path() / "cms.db";
    fs.rks_primary = billing::rks_endpoint{"127.0.0.1", port};
    fs.batch_size = batch_size;
    fs.poll_interval = 50ms;
    fs.high_water = records + 1;
    fs.low_water = records;
    auto fwd =
      sys.spawn(billing::billing_forwarder, fs, billing::make_rks_client_sender(client), &metrics);
    const auto start = std::chrono::steady_clock::now();
    caf::anon_send(fwd, atom::role_changed_v, ha::role::active, std::uint64_t{1});
    const bool drained = test::eventually(
      [&] {
        return metrics.value("cms_billing_forwarder_position") >= static_cast<double>(records);
      },
      std::chrono::minutes{30});
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    caf::anon_send_exit(fwd, caf::exit_reason::user_shutdown);
    client->close();
    const auto stored = rks_count(tmp.path() / "rks.db");
    std::printf("billing backlog drain: %zu records, batch %zu, %.2f s, %.0f records/s, "
                "rks holds %lld\n",
                records, batch_size, seconds, drained ? records / seconds : 0.0, stored);
    if (!drained || stored != static_cast<long long>(records))
      rc = 1;
  }
  work.reset();
  io_thread.join();
  rks.signal(SIGTERM);
  rks.wait_exit(10s);
  return rc;
}
