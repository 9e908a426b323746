#include "actors/billing/radius_sender.hpp"

#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "runtime/base/logging.hpp"

#include <algorithm>

namespace cms::billing {

namespace {

std::string endpoint_name(const boost::asio::ip::udp::endpoint& e) {
  auto a = e.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(e.port());
}

struct client_slot {
  std::shared_ptr<radius::accounting_client> client;
  std::vector<std::string> server_names; ///< by server index of the client
};

} // namespace

struct radius_sender::shared_state {
  metrics::registry* metrics = nullptr;
  client_slot primary_path;
  std::optional<client_slot> backup_path;
  std::mutex published_mutex;
  std::map<std::string, radius::rks_server_counters> published; ///< what the registry holds
  std::uint64_t published_invalid = 0;

  std::map<std::string, radius::rks_server_counters> counters() const;
  std::uint64_t invalid_server_addresses() const;
  void publish_metrics();
};

/// One batch in flight: per record, how many EMs are still unanswered and whether one failed.
struct radius_sender::batch {
  std::mutex mutex;
  std::vector<std::uint64_t> sequences;
  std::vector<std::size_t> outstanding; ///< per record
  std::vector<bool> failed;             ///< per record
  std::size_t open = 0;                 ///< EMs of the batch still unanswered
  std::string first_error;
  std::function<void(send_result)> done;
};

radius_sender::radius_sender(boost::asio::io_context& io, radius_sender_settings settings,
                             metrics::registry* metrics)
  : settings_(std::move(settings)),
    state_(std::make_shared<shared_state>()) {
  state_->metrics = metrics;
  auto names = [](const radius::accounting_client_options& o) {
    std::vector<std::string> n{endpoint_name(o.primary.endpoint)};
    if (o.secondary)
      n.push_back(endpoint_name(o.secondary->endpoint));
    return n;
  };
  state_->primary_path.client = radius::accounting_client::create(io, settings_.client);
  state_->primary_path.server_names = names(settings_.client);
  if (settings_.client.secondary) {
    auto backup = settings_.client;
    backup.primary = *settings_.client.secondary;
    backup.secondary.reset();
    state_->backup_path = client_slot{radius::accounting_client::create(io, backup), names(backup)};
  }
}

radius_sender::~radius_sender() { stop(); }

void radius_sender::stop() {
  state_->primary_path.client->stop();
  if (state_->backup_path)
    state_->backup_path->client->stop();
}

std::map<std::string, radius::rks_server_counters> radius_sender::counters() const {
  return state_->counters();
}

std::uint64_t radius_sender::invalid_server_addresses() const {
  return state_->invalid_server_addresses();
}

void radius_sender::publish_metrics() { state_->publish_metrics(); }

namespace {

/// A record is delivered when all its EMs were answered; the batch reports the answered prefix.
void finish_batch(const std::function<void(send_result)>& done,
                  const std::vector<std::uint64_t>& sequences, const std::vector<bool>& failed,
                  const std::string& first_error) {
  send_result out;
  for (std::size_t i = 0; i < sequences.size() && !failed[i]; ++i)
    out.up_to_sequence = sequences[i];
  out.ok = out.up_to_sequence != 0;
  if (!out.ok)
    out.error = first_error.empty() ? "no record answered" : first_error;
  done(std::move(out));
}

} // namespace

em_call_context radius_sender::context_of(const billing_record& r) {
  em_call_context c;
  if (r.event == "signaling_start")
    return c; // its own sequence and time are the call's
  if (!outbox_) {
    db_ = std::make_unique<persistence::database>(persistence::database::open(settings_.db_file));
    outbox_ = std::make_unique<persistence::outbox>(*db_);
  }
  c.start = outbox_->find(r.call_id + ":signaling_start");
  if (r.event == "signaling_stop")
    c.answered = outbox_->find(r.call_id + ":call_answer").has_value();
  if (!c.start)
    log::get("billing")->warn("event=em_call_start_missing record={} sequence={}", r.record_id,
                              r.sequence);
  return c;
}

void radius_sender::send(const rks_endpoint& to, std::vector<billing_record> records,
                         std::function<void(send_result)> done) {
  auto state = state_;
  auto& path = state->backup_path && settings_.secondary && to == *settings_.secondary
                 ? *state->backup_path
                 : state->primary_path;
  auto b = std::make_shared<batch>();
  b->done = std::move(done);
  std::vector<std::vector<radius::event_message>> ems;
  try {
    for (const auto& r : records)
      ems.push_back(event_messages_for(r, context_of(r), settings_.identity));
  } catch (const std::exception& e) {
    // The store could not be read: nothing sent, the forwarder retries after its back-off.
    db_.reset();
    outbox_.reset();
    b->done(send_result{false, 0, std::string{"call context: "} + e.what()});
    return;
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    b->sequences.push_back(records[i].sequence);
    b->outstanding.push_back(ems[i].size());
    b->failed.push_back(false);
    b->open += ems[i].size();
  }
  if (b->open == 0) {
    finish_batch(b->done, b->sequences, b->failed, b->first_error);
    return;
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    for (const auto& em : ems[i]) {
      auto key = records[i].record_id + "#" + std::to_string(em.header.sequence);
      auto on_answer = [state, b, i](const radius::send_result& res) {
        bool last = false;
        {
          std::lock_guard guard{b->mutex};
          --b->outstanding[i];
          if (!res.ok) {
            b->failed[i] = true;
            if (b->first_error.empty())
              b->first_error = res.error;
          }
          last = --b->open == 0;
        }
        if (last) {
          state->publish_metrics();
          finish_batch(b->done, b->sequences, b->failed, b->first_error);
        }
      };
      try {
        path.client->send(std::move(key), em, std::move(on_answer));
      } catch (const std::exception& e) {
        // An EM that cannot be encoded never will be: logged, and the record fails (it stays in
        // the outbox, where the high-water alarm and the failure log show it).
        log::get("billing")->error("event=em_encode_failed record={} error=\"{}\"",
                                   records[i].record_id, e.what());
        radius::send_result failed;
        failed.error = std::string{"encode: "} + e.what();
        on_answer(failed);
      }
    }
  }
}

std::map<std::string, radius::rks_server_counters> radius_sender::shared_state::counters() const {
  std::map<std::string, radius::rks_server_counters> out;
  auto add = [&](const client_slot& slot) {
    auto c = slot.client->counters();
    for (std::size_t i = 0; i < c.servers.size() && i < slot.server_names.size(); ++i) {
      auto& to = out[slot.server_names[i]];
      const auto& from = c.servers[i];
      to.requests += from.requests;
      to.retransmissions += from.retransmissions;
      to.responses += from.responses;
      to.malformed_responses += from.malformed_responses;
      to.bad_authenticators += from.bad_authenticators;
      to.pending_requests += from.pending_requests;
      to.timeouts += from.timeouts;
      to.unknown_types += from.unknown_types;
      to.packets_dropped += from.packets_dropped;
      if (from.responses > 0)
        to.round_trip_time = from.round_trip_time;
    }
  };
  add(primary_path);
  if (backup_path)
    add(*backup_path);
  return out;
}

std::uint64_t radius_sender::shared_state::invalid_server_addresses() const {
  auto n = primary_path.client->counters().invalid_server_addresses;
  if (backup_path)
    n += backup_path->client->counters().invalid_server_addresses;
  return n;
}

void radius_sender::shared_state::publish_metrics() {
  if (!metrics)
    return;
  auto now = counters();
  auto invalid = invalid_server_addresses();
  std::lock_guard guard{published_mutex};
  auto inc = [&](const std::string& name, const std::string& help, const std::string& server,
                 std::uint64_t value, std::uint64_t before) {
    auto& c = metrics->get_counter(name, help, {{"server", server}});
    if (value > before)
      c.inc(value - before);
  };
  for (const auto& [server, c] : now) {
    auto& was = published[server];
    inc("cms_radius_acc_client_requests_total", "Accounting-Requests sent first to this RKS",
        server, c.requests, was.requests);
    inc("cms_radius_acc_client_retransmissions_total", "Accounting-Requests retransmitted", server,
        c.retransmissions, was.retransmissions);
    inc("cms_radius_acc_client_responses_total", "Valid Accounting-Responses accepted", server,
        c.responses, was.responses);
    inc("cms_radius_acc_client_malformed_responses_total", "Malformed responses dropped", server,
        c.malformed_responses, was.malformed_responses);
    inc("cms_radius_acc_client_bad_authenticators_total",
        "Responses with an invalid authenticator, dropped", server, c.bad_authenticators,
        was.bad_authenticators);
    inc("cms_radius_acc_client_timeouts_total", "Requests whose retries to this RKS ran out",
        server, c.timeouts, was.timeouts);
    inc("cms_radius_acc_client_unknown_types_total", "Responses of an unknown code", server,
        c.unknown_types, was.unknown_types);
    inc("cms_radius_acc_client_packets_dropped_total",
        "Responses from this RKS for no request in flight to it", server, c.packets_dropped,
        was.packets_dropped);
    metrics
      ->get_gauge("cms_radius_acc_client_pending_requests", "Requests to this RKS awaiting answer",
                  {{"server", server}})
      .set(static_cast<std::int64_t>(c.pending_requests));
    metrics
      ->get_gauge("cms_radius_acc_client_round_trip_time_us", "Last round trip to this RKS",
                  {{"server", server}})
      .set(static_cast<std::int64_t>(c.round_trip_time.count()));
    was = c;
  }
  auto& inv = metrics->get_counter("cms_radius_acc_client_invalid_server_addresses_total",
                                   "Datagrams received from neither configured RKS");
  if (invalid > published_invalid)
    inv.inc(invalid - published_invalid);
  published_invalid = invalid;
}

} // namespace cms::billing
