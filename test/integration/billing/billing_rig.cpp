#include "billing_rig.hpp"

#include "runtime/node/rks_transport.hpp"
#include "runtime/radius/secret.hpp"

#include <sstream>

namespace cms::test {

namespace fs = std::filesystem;
namespace rit = radius::itest;
using namespace std::chrono_literals;

std::string em_key(const radius::event_message& em) {
  return std::to_string(em.header.billing_correlation_id.event_counter) + "/" +
         std::to_string(static_cast<unsigned>(em.header.type)) + "/" +
         std::to_string(em.header.sequence);
}

std::set<std::string> expected_em_keys(persistence::outbox& outbox,
                                       const std::vector<std::string>& record_ids,
                                       const billing::em_identity& identity) {
  std::set<std::string> out;
  for (const auto& id : record_ids) {
    auto r = outbox.find(id);
    if (!r) {
      ADD_FAILURE() << "record " << id << " is not in the outbox";
      continue;
    }
    billing::em_call_context c;
    if (r->event != "signaling_start")
      c.start = outbox.find(r->call_id + ":signaling_start");
    if (r->event == "signaling_stop")
      c.answered = outbox.find(r->call_id + ":call_answer").has_value();
    for (const auto& em : billing::event_messages_for(*r, c, identity))
      out.insert(em_key(em));
  }
  return out;
}

::testing::AssertionResult rks_holds_exactly(const rit::rks_instance& rks,
                                             const std::set<std::string>& expected,
                                             std::size_t batch_size) {
  const auto listing = rks.query("SELECT bcid_counter || '/' || em_type || '/' || sequence "
                                 "FROM event_message ORDER BY id;");
  std::vector<std::string> stored;
  std::istringstream in{listing};
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      stored.push_back(line);
  std::set<std::string> held;
  for (const auto& k : stored)
    if (!held.insert(k).second)
      return ::testing::AssertionFailure() << "EM " << k << " stored twice";
  for (const auto& k : expected)
    if (!held.count(k))
      return ::testing::AssertionFailure() << "EM " << k << " missing at the RKS (" << held.size()
                                           << " stored, " << expected.size() << " expected)";
  for (const auto& k : held)
    if (!expected.count(k))
      return ::testing::AssertionFailure()
             << "the RKS holds EM " << k << ", which no appended record makes";
  // Arrival order: EM sequence / 8 is the record's outbox sequence.
  std::uint64_t newest = 0;
  for (const auto& k : stored) {
    const std::uint64_t record =
      std::stoull(k.substr(k.rfind('/') + 1)) / billing::em_slots_per_record;
    if (record + batch_size <= newest)
      return ::testing::AssertionFailure()
             << "EM " << k << " of record " << record << " stored after one of record " << newest;
    newest = std::max(newest, record);
  }
  return ::testing::AssertionSuccess();
}

billing_rig::billing_rig(std::size_t batch_size) : batch_size_(batch_size) {
  secret_file_ = rit::write_secret_file(tmp_.path() / "rks.secret", "billing-rig-secret");
  identity_.element_id = "RIG01";
  db_.emplace(persistence::database::open(tmp_.path() / "cms.db"));
  outbox_.emplace(*db_);
}

billing_rig::~billing_rig() {
  if (sys_) {
    for (auto& a : actors_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sys_->await_all_actors_done();
  }
  if (sender_)
    sender_->stop();
  work_.reset();
  io_.stop();
  if (io_thread_.joinable())
    io_thread_.join();
  actors_.clear();
  forwarder_ = nullptr;
  sender_.reset();
  probers_.clear();
  sys_.reset();
  responders_.clear();
  primary_relay_.reset();
  backup_relay_.reset();
  if (rks_)
    rks_->stop();
}

void billing_rig::start_rks() {
  for (auto* tool : {"freeradius", "radclient", "sqlite3"})
    rit::require_tool(tool);
  if (::testing::Test::HasFatalFailure())
    return;
  fs::create_directories(tmp_.path() / "rks");
  rks_ = std::make_unique<rit::rks_instance>(tmp_.path() / "rks", secret_file_);
  std::string log;
  ASSERT_TRUE(rks_->start(&log)) << log;
  primary_relay_ = std::make_unique<udp_relay>(rks_->port());
  backup_relay_ = std::make_unique<udp_relay>(rks_->port());
}

void billing_rig::restart_rks() {
  std::string log;
  ASSERT_TRUE(rks_->start(&log)) << log;
}

std::string billing_rig::rks_log() const {
  return rit::shell("cat " + rit::quote(rks_->run_dir() + "/radius.log") + " 2>/dev/null");
}

long billing_rig::rks_count() {
  auto v = rks_->query("SELECT count(*) FROM event_message;");
  try {
    return std::stol(v);
  } catch (...) {
    return -1;
  }
}

void billing_rig::start_responder(const std::string& which) {
  const auto port = responder_ports_.count(which) ? responder_ports_[which] : 0;
  responders_[which] = std::make_unique<udp_echo>("127.0.0.1", port);
  responder_ports_[which] = responders_[which]->port();
}

void billing_rig::link_fails(const std::string& which) {
  stop_responder(which);
  (which == "primary" ? primary_relay_ : backup_relay_)->cut = true;
}

void billing_rig::link_returns(const std::string& which) {
  (which == "primary" ? primary_relay_ : backup_relay_)->cut = false;
  start_responder(which);
}

void billing_rig::start_node(bool primary_direct) {
  work_.emplace(io_.get_executor());
  io_thread_ = std::thread([this] { io_.run(); });
  sys_ = std::make_unique<caf::actor_system>(caf_cfg_);

  // The node's [billing] section, as config/node-a.toml has it (secret read from its file).
  config::node_config cfg;
  cfg.node.id = "cms-a";
  cfg.node.cluster_id = "it-billing";
  cfg.mgcp.bind = "127.0.0.1";
  cfg.billing.rks_primary =
    config::host_port{"127.0.0.1", primary_direct ? rks_->port() : primary_relay_->port()};
  cfg.billing.rks_secondary = config::host_port{"127.0.0.1", backup_relay_->port()};
  cfg.billing.secret_file = secret_file_;
  cfg.billing.secret = radius::load_secret(secret_file_);
  // 500 ms: short for a test, long enough that FreeRADIUS under a loaded ASan machine (SQLite
  // inserts of a whole batch on 4 threads) answers before the client gives the primary up.
  cfg.billing.retry_interval = 500ms;
  cfg.billing.retry_count = 1;
  cfg.billing.source_ports = 2;
  cfg.billing.element_id = identity_.element_id;
  cfg.billing.batch_size = static_cast<int>(batch_size_);
  sender_ = make_radius_sender(io_, cfg, tmp_.path() / "cms.db", metrics_);

  billing::forwarder_settings fs;
  fs.db_file = tmp_.path() / "cms.db";
  fs.rks_primary =
    billing::rks_endpoint{cfg.billing.rks_primary->host, cfg.billing.rks_primary->port};
  fs.rks_backup =
    billing::rks_endpoint{cfg.billing.rks_secondary->host, cfg.billing.rks_secondary->port};
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
  }
  spawn_forwarder();
}

void billing_rig::spawn_forwarder() {
  forwarder_ = sys_->spawn(billing::billing_forwarder, forwarder_settings_,
                           std::static_pointer_cast<billing::rks_sender>(sender_), &metrics_);
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
      r.timestamp_ms = 1700000000000 + c * 1000;
      r.release_cause = std::string{event} == "signaling_stop" ? 16 : 0;
      r.connection_stats = std::string{event} == "signaling_stop" ? "PS=100, OS=16000, PR=100" : "";
      record_ids_.push_back(r.record_id);
      batch.push_back(r);
    }
  outbox_->append(batch);
}

bool billing_rig::all_delivered(std::chrono::milliseconds limit) {
  const auto expected = static_cast<long>(expected_ems().size());
  return eventually([&] { return outbox_pending() == 0 && rks_count() == expected; }, limit, 100ms);
}

links::link_state billing_rig::link_state(const std::string& which) const {
  return boards_.at(which)->status().state;
}

double billing_rig::radius_counter(const std::string& name) {
  sender_->publish_metrics();
  double sum = 0;
  for (const auto& s : metrics_.snapshot())
    if (s.name == name)
      sum += s.value;
  return sum;
}

::testing::AssertionResult billing_rig::delivered_exactly_once_in_order() {
  auto result = rks_holds_exactly(*rks_, expected_ems(), batch_size_);
  if (!result)
    return result;
  const auto pending = outbox_pending();
  if (pending != 0)
    return ::testing::AssertionFailure() << pending << " records still pending in the outbox";
  return ::testing::AssertionSuccess();
}

} // namespace cms::test
