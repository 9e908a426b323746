// Backlog drain rate: N records waiting in a real SQLite outbox, drained by the billing forwarder
// as PacketCable Event Messages over RADIUS (radius_sender) to a local RKS: FreeRADIUS with
// config/rks storing each EM in its SQLite (started through scripts/lib/rks.sh), oldest first,
// one batch in flight.
//   bench_billing_drain [records=30000] [batch_size=100]
// Prints records/s and EMs/s; checks that the RKS ends with exactly the EMs of the N records
// (exit 1 otherwise). Needs freeradius, radclient and sqlite3 (scripts/install-deps.sh).

#include "actors/billing/billing_forwarder.hpp"
#include "actors/billing/event_messages.hpp"
#include "actors/billing/radius_sender.hpp"
#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/radius/secret.hpp"
#include "support/process.hpp"
#include "support/rks_rig.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/all.hpp>

#include <cstdio>
#include <iostream>

using namespace cms;
using namespace std::chrono_literals;
namespace rit = cms::radius::itest;

namespace {

struct bench_config : caf::actor_system_config {
  bench_config() { add_message_types<caf::id_block::cms>(); }
};

long long stored_ems(const rit::rks_instance& rks) {
  try {
    return std::stoll(rks.query("SELECT count(*) FROM event_message;"));
  } catch (...) {
    return -1;
  }
}

} // namespace

int main(int argc, char** argv) {
  const std::size_t records = argc > 1 ? std::stoul(argv[1]) : 30000;
  const std::size_t batch_size = argc > 2 ? std::stoul(argv[2]) : 100;
  log::init({"bench", "warn", ""});
  test::temp_dir tmp;

  // The backlog: written before anything forwards, in appends of 1000 (group commit). Calls of
  // three records (start, answer, release): 1, 3 and 4 EMs (docs/billing.md).
  long long expected_ems = 0;
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
      r.release_cause = i % 3 == 2 ? 16 : 0;
      expected_ems += i % 3 == 0 ? 1 : i % 3 == 1 ? 3 : 4;
      chunk.push_back(std::move(r));
      if (chunk.size() == 1000 || i + 1 == records) {
        outbox.append(chunk);
        chunk.clear();
      }
    }
  }

  const auto secret = rit::write_secret_file(tmp.path() / "rks.secret", "bench-drain-secret");
  std::filesystem::create_directories(tmp.path() / "rks");
  rit::rks_instance rks{tmp.path() / "rks", secret};
  std::string rks_log;
  if (!rks.start(&rks_log)) {
    std::cerr << "the RKS (FreeRADIUS) did not start:\n" << rks_log << "\n";
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
    billing::radius_sender_settings ss;
    ss.primary = billing::rks_endpoint{"127.0.0.1", rks.port()};
    ss.client.primary = radius::rks_peer{rks.endpoint(), radius::load_secret(secret)};
    ss.identity.element_id = "BENCH";
    ss.db_file = tmp.path() / "cms.db";
    auto sender = std::make_shared<billing::radius_sender>(io, ss, &metrics);
    billing::forwarder_settings fs;
    fs.db_file = tmp.path() / "cms.db";
    fs.rks_primary = ss.primary;
    fs.batch_size = batch_size;
    fs.poll_interval = 50ms;
    fs.high_water = records + 1;
    fs.low_water = records;
    auto fwd = sys.spawn(billing::billing_forwarder, fs,
                         std::static_pointer_cast<billing::rks_sender>(sender), &metrics);
    const auto start = std::chrono::steady_clock::now();
    caf::anon_send(fwd, atom::role_changed_v, ha::role::active, std::uint64_t{1});
    const bool drained = test::eventually(
      [&] {
        return metrics.value("cms_billing_forwarder_position") >= static_cast<double>(records);
      },
      std::chrono::minutes{30}, 20ms);
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    caf::anon_send_exit(fwd, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    sender->stop();
    const auto stored = stored_ems(rks);
    std::printf("billing backlog drain to FreeRADIUS: %zu records (%lld EMs), batch %zu, %.2f s, "
                "%.0f records/s, %.0f EMs/s, RKS holds %lld EMs\n",
                records, expected_ems, batch_size, seconds, drained ? records / seconds : 0.0,
                drained ? expected_ems / seconds : 0.0, stored);
    if (!drained || stored != expected_ems)
      rc = 1;
  }
  work.reset();
  io_thread.join();
  rks.stop();
  return rc;
}
