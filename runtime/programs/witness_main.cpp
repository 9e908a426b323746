// cms-witness: arbitrates promotions of one cmsd pair (see actors/ha/witness_rules.hpp).
//   cms-witness --listen HOST:PORT --cluster ID --state FILE --key FILE
//               [--allow ADDRESS]... [--max-lease-ms N] [--replay-window-ms N] [--name NAME]
// Deploy three (or any odd number) on hosts independent of both nodes; the nodes list them in
// [peer] witnesses. Requests must be sealed with the cluster key (docs/security.md); with --allow
// only those source addresses are heard. The state file is rewritten atomically and made durable
// (file and directory fsynced) after every grant, before the answer leaves, so a restarted witness
// never grants an epoch twice.

#include "actors/ha/witness_rules.hpp"
#include "runtime/base/key_file.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/base/metrics.hpp"
#include "runtime/transport/ha_udp.hpp"
#include "runtime/transport/ha_wire.hpp"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

const char* usage_line =
  "Usage: cms-witness --listen HOST:PORT --cluster ID --state FILE --key FILE\n"
  "                   [--allow ADDRESS]... [--max-lease-ms N] [--replay-window-ms N] [--name "
  "NAME]\n";

struct options {
  std::string listen, cluster, state_file, key_file, name;
  std::set<asio::ip::address> allow; ///< empty: any source (the key still authenticates)
  std::chrono::milliseconds max_lease{2000};
  std::chrono::milliseconds replay_window{5000};
};

cms::ha::witness_state load_state(const std::filesystem::path& file,
                                  std::chrono::milliseconds max_lease) {
  cms::ha::witness_state s;
  std::ifstream in{file};
  if (!in)
    return s;
  std::string text((std::istreambuf_iterator<char>(in)), {});
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    throw std::runtime_error("state file " + file.string() + " is corrupt; refusing to start");
  auto& o = v.as_object();
  s.epoch = o.at("epoch").to_number<std::uint64_t>();
  s.holder = std::string(o.at("holder").as_string());
  // A restarted witness assumes the holder's lease may still run: it waits the longest lease it
  // ever grants rather than granting at once.
  s.lease_until = std::chrono::steady_clock::now() + max_lease;
  return s;
}

void fsync_path(const std::filesystem::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot open " + p.string() + " to sync it");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    throw std::runtime_error("fsync of " + p.string() + " failed");
}

/// Durable before it returns: the new file's data, then the rename in its directory.
void save_state(const std::filesystem::path& file, const cms::ha::witness_state& s) {
  auto tmp = file.string() + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    out << json::serialize(json::object{{"epoch", s.epoch}, {"holder", s.holder}});
    out.flush();
    if (!out)
      throw std::runtime_error("cannot write " + tmp);
  }
  fsync_path(tmp, O_RDONLY);
  std::filesystem::rename(tmp, file);
  auto dir = file.parent_path().empty() ? std::filesystem::path{"."} : file.parent_path();
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

int usage(const std::string& why) {
  std::cerr << "cms-witness: " << why << "\n" << usage_line;
  return 2;
}

long long number(const std::string& s) {
  std::size_t used = 0;
  auto n = std::stoll(s, &used);
  if (used != s.size() || n <= 0)
    throw std::invalid_argument(s);
  return n;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::cout << usage_line;
        return 0;
      }
      if (i + 1 >= argc)
        return usage("missing value for " + a);
      std::string v = argv[++i];
      if (a == "--listen")
        opt.listen = v;
      else if (a == "--cluster")
        opt.cluster = v;
      else if (a == "--state")
        opt.state_file = v;
      else if (a == "--key")
        opt.key_file = v;
      else if (a == "--name")
        opt.name = v;
      else if (a == "--allow")
        opt.allow.insert(asio::ip::make_address(v));
      else if (a == "--max-lease-ms")
        opt.max_lease = std::chrono::milliseconds{number(v)};
      else if (a == "--replay-window-ms")
        opt.replay_window = std::chrono::milliseconds{number(v)};
      else
        return usage("unknown option " + a);
    }
  } catch (const std::exception&) {
    return usage("bad value");
  }
  if (opt.listen.empty() || opt.cluster.empty() || opt.state_file.empty() || opt.key_file.empty())
    return usage("--listen, --cluster, --state and --key are required");
  if (opt.name.empty())
    opt.name = "witness@" + opt.listen;
  std::string key;
  try {
    key = cms::config::read_key_file(opt.key_file);
  } catch (const cms::config::key_file_error& e) {
    return usage(std::string{"--key: "} + e.what());
  }
  cms::log::init({"witness", "info", ""});
  auto logger = cms::log::get("witness");
  try {
    cms::ha::witness_rules rules{load_state(opt.state_file, opt.max_lease)};
    cms::metrics::registry metrics; // drop counts, logged at exit
    cms::ha::drop_counters dropped{metrics, "witness"};
    cms::ha::replay_guard guard{opt.replay_window};
    cms::ha::sequence_counter seq;
    asio::io_context io;
    asio::ip::udp::socket socket{io, cms::ha::parse_udp_endpoint(opt.listen)};
    asio::signal_set signals{io, SIGINT, SIGTERM};
    signals.async_wait([&](auto, int) { io.stop(); });
    std::array<char, 2048> buf{};
    asio::ip::udp::endpoint from;
    std::uint64_t drops = 0;

    auto serve = [&](std::string_view datagram) -> cms::ha::drop_reason {
      using cms::ha::drop_reason;
      if (!opt.allow.empty() && !opt.allow.count(from.address()))
        return drop_reason::wrong_source;
      cms::ha::witness_request r;
      if (auto why = cms::ha::decode(key, opt.cluster, datagram, r); why != drop_reason::none)
        return why;
      // Keyed by node and source: a node's sequence is its own, wherever it sends from.
      if (auto why = guard.check(r.origin.sender + "@" + from.address().to_string(), r.origin.seq,
                                 r.origin.sent_ms, cms::ha::wall_ms());
          why != drop_reason::none)
        return why;
      auto now = std::chrono::steady_clock::now();
      auto before = rules.state();
      cms::ha::witness_verdict verdict{false, before.epoch, before.holder};
      auto lease = std::chrono::milliseconds{r.lease_ms};
      bool too_long = r.op != cms::ha::witness_op::release && lease > opt.max_lease;
      // A lease longer than ours is refused, not shortened: the node counts the lease it asked for.
      if (!too_long) {
        if (r.op == cms::ha::witness_op::claim)
          verdict = rules.claim(r.origin.sender, r.epoch, lease, now);
        else if (r.op == cms::ha::witness_op::renew)
          verdict = rules.renew(r.origin.sender, r.epoch, lease, now);
        else
          verdict = rules.release(r.origin.sender, r.epoch, now);
      }
      if (rules.state().epoch != before.epoch || rules.state().holder != before.holder) {
        try {
          save_state(opt.state_file, rules.state());
        } catch (const std::exception& e) {
          // Not durable: forget it and stay silent; the node asks again.
          rules = cms::ha::witness_rules{before};
          logger->error("event=state_write_failed error=\"{}\"", e.what());
          return drop_reason::none;
        }
        logger->info("event=granted epoch={} holder={}", rules.state().epoch, rules.state().holder);
      }
      cms::ha::witness_answer a;
      a.origin = {opt.name, seq.next(), cms::ha::wall_ms()};
      a.id = r.id;
      a.granted = verdict.granted;
      a.epoch = verdict.epoch;
      a.holder = verdict.holder;
      auto answer = cms::ha::encode(key, opt.cluster, a);
      boost::system::error_code sec;
      socket.send_to(asio::buffer(answer), from, 0, sec);
      return too_long ? drop_reason::lease_too_long : drop_reason::none;
    };

    std::function<void()> read = [&] {
      socket.async_receive_from(asio::buffer(buf), from, [&](auto ec, std::size_t n) {
        if (ec)
          return;
        auto why = serve(std::string_view(buf.data(), n));
        if (why != cms::ha::drop_reason::none) {
          dropped.count(why);
          // A stranger's traffic must not flood the log: the first, then every 1000th.
          if (drops++ % 1000 == 0)
            logger->warn("event=request_dropped from={} reason={} dropped_total={}",
                         from.address().to_string(), cms::ha::to_string(why), drops);
        }
        read();
      });
    };
    read();
    logger->info("event=started listen={} cluster={} epoch={} holder={} max_lease_ms={} allow={}",
                 opt.listen, opt.cluster, rules.state().epoch, rules.state().holder,
                 opt.max_lease.count(), opt.allow.empty() ? "any" : "listed");
    io.run();
    logger->info("event=stopped dropped_total={}", drops);
    return 0;
  } catch (const std::exception& e) {
    logger->critical("event=start_failed error=\"{}\"", e.what());
    return 1;
  }
}
