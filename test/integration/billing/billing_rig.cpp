#include "billing_rig.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>

namespace cms::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string rks_binary() { return std::string{CMS_BINARY_DIR} + "/rks"; }

} // namespace

std::uint16_t wait_port_file(const fs::path& file) {
  std::uint16_t port = 0;
  eventually(
    [&] {
      std::ifstream in{file};
      unsigned p = 0;
      if (in >> p)
        port = static_cast<std::uint16_t>(p);
      return port != 0;
    },
    10s);
  return port;
}

rks_program::rks_program(std::vector<std::string> args, fs::path port_file, fs::path log) {
  fs::remove(port_file);
  args.insert(args.begin(), rks_binary());
  args.push_back("--port-file");
  args.push_back(port_file.string());
  proc_ = std::make_unique<child_process>(std::move(args), std::move(log));
  port_ = wait_port_file(port_file);
  if (port_ == 0)
    throw std::runtime_error("rks did not start: " + proc_->output());
}

void rks_program::stop() {
  if (!proc_ || !proc_->running())
    return;
  proc_->signal(SIGTERM);
  proc_->wait_exit(10s);
}

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p)
    return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  ::pclose(p);
  return out;
}

std::vector<rks_batch_line> rks_batches(const std::string& log) {
  static const std::regex line{R"(sequences (\d+)\.\.(\d+), (\d+) new, (\d+) duplicates)"};
  std::vector<rks_batch_line> out;
  for (std::sregex_iterator it{log.begin(), log.end(), line}, end; it != end; ++it)
    out.push_back(
      {std::stoull((*it)[1]), std::stoull((*it)[2]), std::stoull((*it)[3]), std::stoull((*it)[4])});
  return out;
}

billing_rig::billing_rig(std::size_t batch_size) : batch_size_(batch_size) {
  const auto certs = tmp_.path() / "certs";
  const auto cmd = "sh '" + std::string{CMS_SOURCE_DIR} + "/scripts/gen-certs.sh' '" +
                   certs.string() + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("gen-certs.sh failed");
  db_.emplace(persistence::database::open(tmp_.path() / "cms.db"));
  outbox_.emplace(*db_);
}

billing_rig::~billing_rig() {
  if (sys_) {
    for (auto& a : actors_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sys_->await_all_actors_done();
  }
  if (client_)
    client_->close();
  work_.reset();
  io_.stop();
  if (io_thread_.joinable())
    io_thread_.join();
  actors_.clear();
  forwarder_ = nullptr;
  client_.reset();
  probers_.clear();
  sys_.reset();
  for (auto& [name, r] : responders_)
    r->stop();
  if (rks_)
    rks_->stop();
}

std::string billing_rig::cert(const std::string& name) const {
  return (tmp_.path() / "certs" / name).string();
}

void billing_rig::start_rks() {
  rks_ = std::make_unique<rks_program>(
    std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--db",
                             (tmp_.path() / "rks.db").string(), "--cert", cert("rks.crt"), "--key",
                             cert("rks.key"), "--ca", cert("ca.crt")},
    tmp_.path() / "rks.port", tmp_.path() / "rks.log");
  backup_relay_ = std::make_unique<tcp_relay>(rks_->port());
  primary_relay_ = std::make_unique<tcp_relay>(rks_->port());
}

void billing_rig::start_responder(const std::string& which) {
  const auto port = responder_ports_.count(which) ? responder_ports_[which] : 0;
  responders_[which] = std::make_unique<rks_program>(
    std::vector<std::string>{"probe", "--listen", "127.0.0.1:" + std::to_string(port)},
    tmp_.path() / ("probe-" + which + ".port"), tmp_.path() / ("probe-" + which + ".log"));
  responder_ports_[which] = responders_[which]->port();
}

void billing_rig::stop_responder(const std::string& which) { responders_.at(which)->stop(); }

void billing_rig::start_node(bool primary_through_relay) {
  work_.emplace(io_.get_executor());
  io_thread_ = std::thread([this] { io_.run(); });
  sys_ = std::make_unique<caf::actor_system>(caf_cfg_);

  billing::rks_client_options options;
  options.node = "cms-a";
  options.connect_timeout = 2000ms;
  options.handshake_timeout = 2000ms;
  options.reply_timeout = 3000ms;
  client_ = std::make_shared<billing::rks_client>(
    io_, billing::tls_settings{cert("node-a.crt"), cert("node-a.key"), cert("ca.crt")}, metrics_,
    options);

  billing::forwarder_settings fs;
  fs.db_file = tmp_.path() / "cms.db";
  fs.rks_primary = billing::rks_endpoint{"127.0.0.1", primary_through_relay ? primary_relay_->port()
                                                                            : rks_->port()};
  fs.rks_backup = billing::rks_endpoint{"127.0.0.1", backup_relay_->port()};
  fs.primary_link = "p2p-partner";
  fs.backup_link = "vpn-partner";
  fs.batch_size = batch_size_;
  fs.poll_interval = 50ms;
  fs.retry_initial = 100ms;
  fs.retry_max = 500ms;
  forwarder_settings_ = fs;

  const links::probe_settings probing{50ms, 3, 10};
  for (auto [which, name] :
       {std::pair<std::string, std::string>{"primary", "p2p-partner"}, {"backup", "vpn-partner"}}) {
    persistence::data_link dl{name, which, "127.0.0.1", "127.0.0.1", responder_ports_.at(which)};
    auto prober = std::make_shared<links::udp_link_prober>(io_, dl, 8, metrics_);
    probers_.push_back(prober);
    auto board = std::make_shared<links::link_board>(name, which);
    boards_[which] = board;
    auto link = sys_->spawn(links::data_link, board, prober, probing, &metrics_);
    actors_.push_back(link);
    links_.push_back(link);
  }
  spawn_forwarder();
}

void billing_rig::spawn_forwarder() {
  forwarder_ = sys_->spawn(billing::billing_forwarder, forwarder_settings_,
                           billing::make_rks_client_sender(client_), &metrics_);
  actors_.push_back(forwarder_);
  // As the node wires it: through the boards, whatever incarnation of the link actors runs.
  for (auto& [which, board] : boards_)
    links::subscribe(board, forwarder_);
  caf::anon_send(forwarder_, atom::role_changed_v, ha::role::active, std::uint64_t{1});
}

void billing_rig::restart_forwarder() {
  caf::anon_send_exit(forwarder_, caf::exit_reason::kill);
  spawn_forwarder();
}

void billing_rig::append_calls(int first_call, int calls) {
  std::vector<billing::billing_record> batch;
  for (int c = first_call; c < first_call + calls; ++c)
    for (const char* event : {"signaling_start", "call_answer", "signaling_stop"}) {
      billing::billing_record r;
      r.call_id = "call-" + std::to_string(c) + "@cms-a";
      r.event = event;
      r.record_id = r.call_id + ":" + event;
      r.calling_number = "5551" + std::to_string(1000 + c % 1000);
      r.called_number = "5552001";
      r.originating = "aaln/1@mta-" + std::to_string(c) + ".example";
      r.terminating = "aaln/1@mta-b.example";
      r.route = "on-net";
      r.timestamp_ms = 1700000000000 + c;
      r.release_cause = std::string{event} == "signaling_stop" ? 16 : 0;
      r.connection_stats = std::string{event} == "signaling_stop" ? "PS=100, OS=16000, PR=100" : "";
      batch.push_back(r);
    }
  outbox_->append(batch);
  appended_ += batch.size();
}

std::uint64_t billing_rig::outbox_pending() { return outbox_->pending_count(); }

long long billing_rig::rks_count() {
  auto out = run_command("'" + rks_binary() + "' count --db '" + (tmp_.path() / "rks.db").string() +
                         "' 2>/dev/null");
  try {
    return std::stoll(out);
  } catch (...) {
    return -1;
  }
}

links::link_state billing_rig::link_state(const std::string& which) const {
  return boards_.at(which)->status().state;
}

::testing::AssertionResult billing_rig::delivered_exactly_once_in_order() {
  const auto count = rks_count();
  if (count != static_cast<long long>(appended_))
    return ::testing::AssertionFailure() << "rks count " << count << ", appended " << appended_;
  const auto exported = run_command("'" + rks_binary() + "' export --format json --db '" +
                                    (tmp_.path() / "rks.db").string() + "'");
  auto arr = boost::json::parse(exported).as_array();
  std::set<std::string> ids;
  std::uint64_t expect_seq = 1;
  for (auto& v : arr) {
    auto& o = v.as_object();
    auto seq = static_cast<std::uint64_t>(o.at("sequence").to_number<std::int64_t>());
    if (seq != expect_seq++)
      return ::testing::AssertionFailure() << "sequence gap at " << seq;
    if (!ids.insert(std::string{o.at("record_id").as_string()}).second)
      return ::testing::AssertionFailure() << "record stored twice: " << o.at("record_id");
  }
  // Arrival order, from the RKS's log: every batch starts at or before the first record not yet
  // stored, and what it adds is exactly the records beyond that: no gap, nothing out of order.
  std::uint64_t stored_up_to = 0;
  for (const auto& b : rks_batches(rks_->log())) {
    if (b.first > stored_up_to + 1)
      return ::testing::AssertionFailure()
             << "batch " << b.first << ".." << b.last << " arrived before " << stored_up_to + 1;
    const auto expect_new = b.last > stored_up_to ? b.last - stored_up_to : 0;
    if (b.fresh != expect_new)
      return ::testing::AssertionFailure() << "batch " << b.first << ".." << b.last << " stored "
                                           << b.fresh << " new records, expected " << expect_new;
    stored_up_to = std::max(stored_up_to, b.last);
  }
  if (stored_up_to != appended_)
    return ::testing::AssertionFailure() << "rks log shows records up to " << stored_up_to;
  const auto pending = outbox_pending();
  if (pending != 0)
    return ::testing::AssertionFailure() << pending << " records still pending in the outbox";
  return ::testing::AssertionSuccess();
}

} // namespace cms::test
