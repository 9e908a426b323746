// cms-witness: arbitrates promotions of one cmsd pair (see actors/ha/witness_rules.hpp).
//   cms-witness --listen HOST:PORT --cluster ID --state FILE
// Deploy three (or any odd number) on hosts independent of both nodes; the nodes list them in
// [peer] witnesses. The state file is rewritten (atomically) after every grant, so a restarted
// witness never grants an epoch twice.

#include "actors/ha/witness_rules.hpp"
#include "runtime/transport/ha_udp.hpp"
#include "runtime/base/logging.hpp"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

cms::ha::witness_state load_state(const std::filesystem::path& file) {
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
  // A restarted witness assumes the holder's lease may still run: it waits a full lease
  // (set on the first claim attempt) rather than granting at once.
  s.lease_until = std::chrono::steady_clock::now() + std::chrono::seconds{2};
  return s;
}

void save_state(const std::filesystem::path& file, const cms::ha::witness_state& s) {
  auto tmp = file.string() + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    out << json::serialize(json::object{{"epoch", s.epoch}, {"holder", s.holder}});
    out.flush();
    if (!out)
      throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, file);
}

int usage(const char* why) {
  std::cerr << "cms-witness: " << why
            << "\nUsage: cms-witness --listen HOST:PORT --cluster ID --state FILE\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::string listen, cluster, state_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << "Usage: cms-witness --listen HOST:PORT --cluster ID --state FILE\n";
      return 0;
    }
    if (i + 1 >= argc)
      return usage("missing value");
    if (a == "--listen")
      listen = argv[++i];
    else if (a == "--cluster")
      cluster = argv[++i];
    else if (a == "--state")
      state_file = argv[++i];
    else
      return usage("unknown option");
  }
  if (listen.empty() || cluster.empty() || state_file.empty())
    return usage("--listen, --cluster and --state are required");
  cms::log::init({"witness", "info", ""});
  auto logger = cms::log::get("witness");
  try {
    cms::ha::witness_rules rules{load_state(state_file)};
    asio::io_context io;
    asio::ip::udp::socket socket{io, cms::ha::parse_udp_endpoint(listen)};
    asio::signal_set signals{io, SIGINT, SIGTERM};
    signals.async_wait([&](auto, int) { io.stop(); });
    std::array<char, 2048> buf{};
    asio::ip::udp::endpoint from;
    std::function<void()> read = [&] {
      socket.async_receive_from(asio::buffer(buf), from, [&](auto ec, std::size_t n) {
        if (ec)
          return;
        boost::system::error_code pec;
        auto v = json::parse(std::string_view(buf.data(), n), pec);
        if (!pec && v.is_object() && v.as_object().if_contains("cluster") &&
            v.at("cluster").is_string() && v.at("cluster").as_string() == cluster) {
          try {
            auto& o = v.as_object();
            std::string op(o.at("t").as_string());
            std::string node(o.at("node").as_string());
            auto epoch = o.at("epoch").to_number<std::uint64_t>();
            auto lease = std::chrono::milliseconds{o.at("lease_ms").to_number<std::int64_t>()};
            auto now = std::chrono::steady_clock::now();
            auto before = rules.state();
            cms::ha::witness_verdict verdict;
            if (op == "claim")
              verdict = rules.claim(node, epoch, lease, now);
            else if (op == "renew")
              verdict = rules.renew(node, epoch, lease, now);
            else
              verdict = rules.release(node, epoch, now);
            if (rules.state().epoch != before.epoch || rules.state().holder != before.holder) {
              save_state(state_file, rules.state());
              logger->info("event=granted epoch={} holder={}", rules.state().epoch,
                           rules.state().holder);
            }
            auto answer = json::serialize(json::object{{"cluster", cluster},
                                                       {"id", o.at("id")},
                                                       {"granted", verdict.granted},
                                                       {"epoch", verdict.epoch},
                                                       {"holder", verdict.holder}});
            boost::system::error_code sec;
            socket.send_to(asio::buffer(answer), from, 0, sec);
          } catch (const std::exception& e) {
            logger->warn("event=bad_request from={} error=\"{}\"", from.address().to_string(),
                         e.what());
          }
        }
        read();
      });
    };
    read();
    logger->info("event=started listen={} cluster={} epoch={} holder={}", listen, cluster,
                 rules.state().epoch, rules.state().holder);
    io.run();
    logger->info("event=stopped");
    return 0;
  } catch (const std::exception& e) {
    logger->critical("event=start_failed error=\"{}\"", e.what());
    return 1;
  }
}
