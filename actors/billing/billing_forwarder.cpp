#include "actors/billing/billing_forwarder.hpp"

#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "runtime/base/logging.hpp"
#include "runtime/base/thread_priority.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <system_error>

namespace cms::billing {

namespace {

using self_ptr = caf::stateful_actor<billing_forwarder_state>*;

std::shared_ptr<spdlog::logger> logger() { return log::get("billing"); }

metrics::gauge& gauge(self_ptr self, const std::string& name, const std::string& help,
                      const metrics::label_set& labels = {}) {
  return self->state.metrics->get_gauge(name, help, labels);
}

metrics::counter& counter(self_ptr self, const std::string& name, const std::string& help,
                          const metrics::label_set& labels = {}) {
  return self->state.metrics->get_counter(name, help, labels);
}

/// Opens the forwarder's own connection (SQLite connections are per owner); false while the store
/// cannot be opened (logged; retried on the next poll).
bool ensure_store(self_ptr self) {
  auto& st = self->state;
  if (st.outbox)
    return true;
  try {
    st.db =
      std::make_unique<persistence::database>(persistence::database::open(st.settings.db_file));
    st.outbox = std::make_unique<persistence::outbox>(*st.db);
    st.position = st.outbox->sent_position();
    st.pending = st.outbox->pending_count();
    st.store_failed = false;
    logger()->info("event=billing_forwarder_resumed position={} pending={} store={}", st.position,
                   st.pending, st.settings.db_file.string());
    return true;
  } catch (const std::exception& e) {
    st.outbox.reset();
    st.db.reset();
    if (st.store_failed)
      return false; // logged once per outage, not on every poll
    st.store_failed = true;
    logger()->error("event=billing_forwarder_store_failed store={} error=\"{}\"",
                    st.settings.db_file.string(), e.what());
    return false;
  }
}

/// A detached forwarder runs every message on its own thread: lower that thread's priority once
/// (settings.thread_nice), before the first batch can compete with the call actors for the CPU.
void lower_thread_priority(self_ptr self) {
  auto& st = self->state;
  if (st.thread_set || st.settings.thread_nice == 0)
    return;
  st.thread_set = true;
  if (auto error = lower_this_thread("cms-billing", st.settings.thread_nice); !error.empty())
    logger()->warn("event=billing_forwarder_nice_failed nice={} error=\"{}\"",
                   st.settings.thread_nice, error);
}

void update_path(self_ptr self) {
  auto& st = self->state;
  auto next = choose_path(st.settings, st.links);
  if (next == st.path)
    return;
  logger()->warn("event=billing_path_changed from={} to={} pending={}", to_string(st.path),
                 to_string(next), st.pending);
  st.path = next;
  if (st.metrics)
    gauge(self, "cms_billing_forwarder_path", "Management path: 0 none, 1 primary, 2 backup")
      .set(static_cast<std::int64_t>(next));
  // A new path is a fresh chance: do not wait out a back-off earned on the old one.
  st.backoff = std::chrono::milliseconds{0};
  st.retry_at = {};
}

void check_high_water(self_ptr self) {
  auto& st = self->state;
  const bool raise = !st.alarm && st.pending >= st.settings.high_water;
  const bool clear = st.alarm && st.pending < st.settings.low_water;
  if (!raise && !clear)
    return;
  st.alarm = raise;
  if (raise) {
    logger()->error("event=billing_outbox_high_water pending={} high_water={} path={}", st.pending,
                    st.settings.high_water, to_string(st.path));
    if (st.metrics)
      counter(self, "cms_billing_outbox_high_water_total",
              "Times the outbox backlog reached its high-water mark")
        .inc();
  } else {
    logger()->warn("event=billing_outbox_high_water_cleared pending={} low_water={}", st.pending,
                   st.settings.low_water);
  }
  if (st.metrics)
    gauge(self, "cms_billing_outbox_high_water_alarm", "1 while the outbox backlog alarm is raised")
      .set(st.alarm ? 1 : 0);
  if (st.settings.on_high_water)
    st.settings.on_high_water(st.alarm, st.pending);
}

/// The RKS alarm: raised after rks_alarm_failures failed batches in a row (nobody answers: both
/// RKSs down or unreachable, or the shared secret is wrong), cleared by the next delivered batch.
void set_rks_alarm(self_ptr self, bool raised) {
  auto& st = self->state;
  if (raised == st.rks_alarm)
    return;
  st.rks_alarm = raised;
  if (raised) {
    logger()->error("event=billing_rks_alarm consecutive_failures={} pending={} error=\"{}\"",
                    st.consecutive_failures, st.pending, st.last_error);
    if (st.metrics)
      counter(self, "cms_billing_rks_alarms_total",
              "Times no RKS answered several batches in a row (RKS down or wrong shared secret)")
        .inc();
  } else {
    logger()->warn("event=billing_rks_alarm_cleared");
  }
  if (st.metrics)
    gauge(self, "cms_billing_rks_alarm", "1 while no RKS answers the billing forwarder")
      .set(raised ? 1 : 0);
}

void publish_position(self_ptr self) {
  auto& st = self->state;
  if (st.metrics)
    gauge(self, "cms_billing_forwarder_position", "Highest sequence acknowledged by the RKS")
      .set(static_cast<std::int64_t>(st.position));
  if (st.settings.on_position)
    st.settings.on_position(st.position);
}

void send_next(self_ptr self) {
  auto& st = self->state;
  if (!st.active || st.in_flight || st.path == management_path::none || !ensure_store(self))
    return;
  const auto now = self->clock().now();
  if (now < st.retry_at)
    return;
  if (now < st.paced_until) {
    if (!st.pace_wake_pending) {
      st.pace_wake_pending = true;
      self->delayed_send(self, st.paced_until - now, atom::pace_v);
    }
    return;
  }
  const bool replicated_only = st.settings.standby_attached && st.settings.standby_attached();
  auto records = st.outbox->pending(st.settings.batch_size, replicated_only);
  if (records.empty())
    return;
  const auto& to =
    st.path == management_path::primary ? *st.settings.rks_primary : *st.settings.rks_backup;
  st.in_flight = true;
  st.in_flight_path = st.path;
  st.in_flight_since = self->clock().now();
  const auto attempt = ++st.attempt;
  logger()->debug("event=billing_batch_sent path={} rks={} first={} last={} records={}",
                  to_string(st.path), to.to_string(), records.front().sequence,
                  records.back().sequence, records.size());
  // The outcome arrives on an I/O thread: only a message goes back, to a weak handle (the
  // forwarder may have been restarted meanwhile).
  auto me = caf::actor_cast<caf::actor_addr>(self);
  st.sender->send(to, std::move(records), [me, attempt](send_result r) {
    if (auto hdl = caf::actor_cast<caf::actor>(me))
      caf::anon_send(hdl, atom::batch_done_v, attempt, r.ok, r.up_to_sequence, r.error);
  });
}

void on_batch_done(self_ptr self, std::uint64_t attempt, bool ok, std::uint64_t up_to,
                   const std::string& error) {
  auto& st = self->state;
  if (!st.in_flight || attempt != st.attempt)
    return; // outcome of a batch already given up on (send_timeout)
  st.in_flight = false;
  const auto path_name = to_string(st.in_flight_path);
  if (ok && ensure_store(self)) {
    int marked = 0;
    try {
      marked = st.outbox->mark_sent(up_to);
    } catch (const std::exception& e) {
      // Not marked: the records are sent again later and the RKS deduplicates them.
      logger()->error("event=billing_mark_sent_failed up_to={} error=\"{}\"", up_to, e.what());
    }
    st.position = std::max(st.position, up_to);
    st.pending = st.pending > static_cast<std::uint64_t>(marked) ? st.pending - marked : 0;
    st.backoff = std::chrono::milliseconds{0};
    st.retry_at = {};
    st.consecutive_failures = 0;
    st.last_error.clear();
    set_rks_alarm(self, false);
    if (st.metrics) {
      counter(self, "cms_billing_forwarder_batches_total", "Batches handed to the RKS",
              {{"path", path_name}, {"result", "acked"}})
        .inc();
      counter(self, "cms_billing_forwarder_records_total", "Records acknowledged by the RKS",
              {{"path", path_name}})
        .inc(static_cast<std::uint64_t>(marked));
      gauge(self, "cms_billing_outbox_pending", "Billing records not yet acknowledged by the RKS")
        .set(static_cast<std::int64_t>(st.pending));
    }
    publish_position(self);
    if (st.settings.max_records_per_s > 0 && marked > 0)
      st.paced_until =
        st.in_flight_since + std::chrono::microseconds{static_cast<std::int64_t>(marked) *
                                                       1'000'000 / st.settings.max_records_per_s};
    send_next(self); // drain a backlog back to back (or after the ceiling's pause)
    return;
  }
  ++st.consecutive_failures;
  st.last_error = error;
  st.backoff = std::min(st.settings.retry_max, std::max(st.settings.retry_initial, st.backoff * 2));
  st.retry_at = self->clock().now() + st.backoff;
  if (st.metrics)
    counter(self, "cms_billing_forwarder_batches_total", "Batches handed to the RKS",
            {{"path", path_name}, {"result", "failed"}})
      .inc();
  logger()->warn("event=billing_batch_failed path={} error=\"{}\" consecutive_failures={} "
                 "retry_in_ms={}",
                 path_name, error, st.consecutive_failures, st.backoff.count());
  if (st.consecutive_failures >= st.settings.rks_alarm_failures)
    set_rks_alarm(self, true);
}

void poll(self_ptr self) {
  auto& st = self->state;
  if (ensure_store(self)) {
    try {
      st.pending = st.outbox->pending_count();
    } catch (const std::exception& e) {
      logger()->error("event=billing_outbox_read_failed error=\"{}\"", e.what());
    }
    if (st.metrics)
      gauge(self, "cms_billing_outbox_pending", "Billing records not yet acknowledged by the RKS")
        .set(static_cast<std::int64_t>(st.pending));
    check_high_water(self);
  }
  if (st.in_flight && self->clock().now() - st.in_flight_since > st.settings.send_timeout) {
    logger()->error("event=billing_batch_stuck attempt={} waited_ms={}", st.attempt,
                    st.settings.send_timeout.count());
    on_batch_done(self, st.attempt, false, 0, "no outcome within send_timeout");
  }
  send_next(self);
}

std::string status_json(self_ptr self) {
  auto& st = self->state;
  boost::json::object o{
    {"active", st.active},
    {"epoch", st.epoch},
    {"path", to_string(st.path)},
    {"position", st.position},
    {"pending", st.pending},
    {"in_flight", st.in_flight},
    {"consecutive_failures", st.consecutive_failures},
    {"last_error", st.last_error},
    {"high_water_alarm", st.alarm},
    {"rks_alarm", st.rks_alarm},
  };
  boost::json::object links;
  for (const auto& [name, state] : st.links)
    links[name] = links::to_string(state);
  o["links"] = std::move(links);
  return boost::json::serialize(o);
}

} // namespace

billing_forwarder_state::~billing_forwarder_state() = default;

std::function<void(std::uint64_t)> position_to_replicator(std::function<caf::actor()> replicator) {
  return [replicator = std::move(replicator)](std::uint64_t position) {
    if (auto r = replicator())
      caf::anon_send(r, atom::sent_position_v, position);
  };
}

const char* to_string(management_path p) noexcept {
  switch (p) {
  case management_path::none:
    return "none";
  case management_path::primary:
    return "primary";
  case management_path::backup:
    return "backup";
  }
  return "unknown";
}

management_path choose_path(const forwarder_settings& s,
                            const std::map<std::string, links::link_state>& links) {
  auto usable = [&](const std::string& link) {
    if (link.empty())
      return true;
    auto it = links.find(link);
    return it != links.end() && links::usable(it->second);
  };
  if (s.rks_primary && usable(s.primary_link))
    return management_path::primary;
  if (s.rks_backup && usable(s.backup_link))
    return management_path::backup;
  return management_path::none;
}

caf::behavior billing_forwarder(self_ptr self, forwarder_settings settings,
                                std::shared_ptr<rks_sender> sender, metrics::registry* metrics) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.settings.batch_size = std::max<std::size_t>(st.settings.batch_size, 1);
  st.sender = std::move(sender);
  st.metrics = metrics;
  if (st.settings.primary_link.empty() && st.settings.rks_primary)
    st.path = choose_path(st.settings, st.links);
  ensure_store(self);
  if (st.metrics) {
    gauge(self, "cms_billing_forwarder_active", "1 while this node forwards billing records")
      .set(0);
    gauge(self, "cms_billing_forwarder_path", "Management path: 0 none, 1 primary, 2 backup")
      .set(static_cast<std::int64_t>(st.path));
    gauge(self, "cms_billing_forwarder_position", "Highest sequence acknowledged by the RKS")
      .set(static_cast<std::int64_t>(st.position));
    gauge(self, "cms_billing_rks_alarm", "1 while no RKS answers the billing forwarder").set(0);
  }
  self->delayed_send(self, st.settings.poll_interval, atom::tick_v);
  return {
    [self](atom::tick) {
      lower_thread_priority(self);
      poll(self);
      self->delayed_send(self, self->state.settings.poll_interval, atom::tick_v);
    },
    [self](atom::role_changed, ha::role r, std::uint64_t epoch) {
      lower_thread_priority(self);
      auto& st = self->state;
      const bool active = r == ha::role::active;
      st.epoch = epoch;
      if (active && ensure_store(self)) {
        // The store may have moved on while we were standby (replicated records and positions):
        // resume after the replicated position.
        try {
          st.position = std::max(st.position, st.outbox->sent_position());
          st.pending = st.outbox->pending_count();
        } catch (const std::exception& e) {
          logger()->error("event=billing_outbox_read_failed error=\"{}\"", e.what());
        }
        if (st.metrics)
          gauge(self, "cms_billing_forwarder_position", "Highest sequence acknowledged by the RKS")
            .set(static_cast<std::int64_t>(st.position));
      }
      if (active != st.active)
        logger()->info("event=billing_forwarder_{} role={} epoch={} position={} pending={}",
                       active ? "started" : "stopped", ha::to_string(r), epoch, st.position,
                       st.pending);
      st.active = active;
      if (st.metrics)
        gauge(self, "cms_billing_forwarder_active", "1 while this node forwards billing records")
          .set(active ? 1 : 0);
      if (active)
        send_next(self);
    },
    [self](atom::link_changed, const links::link_status& s) {
      auto& st = self->state;
      if (auto it = st.link_transitions.find(s.link);
          it != st.link_transitions.end() && s.transitions < it->second)
        return; // older than what we know (a snapshot overtaken by a transition)
      st.link_transitions[s.link] = s.transitions;
      st.links[s.link] = s.state;
      update_path(self);
      send_next(self);
    },
    [self](atom::pace) {
      self->state.pace_wake_pending = false;
      send_next(self);
    },
    [self](atom::batch_done, std::uint64_t attempt, bool ok, std::uint64_t up_to,
           const std::string& error) { on_batch_done(self, attempt, ok, up_to, error); },
    [self](atom::sent_position, std::uint64_t seq) {
      auto& st = self->state;
      if (!ensure_store(self) || seq <= st.position)
        return;
      try {
        st.outbox->mark_sent(seq);
        st.position = seq;
        // Gauge only: the hook would ship the position back to where it came from.
        if (st.metrics)
          gauge(self, "cms_billing_forwarder_position", "Highest sequence acknowledged by the RKS")
            .set(static_cast<std::int64_t>(st.position));
      } catch (const std::exception& e) {
        logger()->error("event=billing_position_apply_failed seq={} error=\"{}\"", seq, e.what());
      }
    },
    [self](atom::position) { return self->state.position; },
    [self](atom::status) { return status_json(self); },
  };
}

} // namespace cms::billing
