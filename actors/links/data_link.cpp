#include "actors/links/data_link.hpp"

#include "runtime/base/wall_clock.hpp"

#include "actors/type_ids.hpp"
#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

namespace cms::links {

namespace {

using self_ptr = caf::stateful_actor<data_link_state>*;

void update_gauges(self_ptr self) {
  auto& st = self->state;
  if (!st.metrics)
    return;
  const auto& status = st.monitor->snapshot().status;
  const metrics::label_set labels{{"link", status.link}};
  st.metrics
    ->get_gauge("cms_data_link_up", "1 while the data link carries traffic (up or degraded)",
                labels)
    .set(usable(status.state) ? 1 : 0);
  st.metrics->get_gauge("cms_data_link_state", "Data link state: 0 down, 1 degraded, 2 up", labels)
    .set(static_cast<std::int64_t>(status.state));
}

void publish(self_ptr self, link_state from) {
  auto& st = self->state;
  const auto& snap = st.monitor->snapshot();
  const auto& status = snap.status;
  log::get("links")->warn(
    "event=data_link_transition link={} kind={} from={} to={} consecutive_misses={} "
    "losses_in_window={} transitions={}",
    status.link, status.kind, to_string(from), to_string(status.state), snap.consecutive_misses,
    st.monitor->losses_in_window(), status.transitions);
  if (st.metrics)
    st.metrics
      ->get_counter("cms_data_link_transitions_total", "Data link state transitions",
                    {{"link", status.link}, {"to", to_string(status.state)}})
      .inc();
  update_gauges(self);
  for (auto& s : st.board->subscribers())
    self->send(s, atom::link_changed_v, status);
}

/// Records one probe outcome, saves the snapshot and publishes a transition.
void record(self_ptr self, bool answered) {
  auto& st = self->state;
  const auto from = st.monitor->state();
  auto changed = st.monitor->record(answered, utc_ms());
  if (st.metrics)
    st.metrics
      ->get_counter(
        "cms_data_link_probes_total", "Data link probes by outcome",
        {{"link", st.monitor->snapshot().status.link}, {"result", answered ? "answered" : "lost"}})
      .inc();
  if (changed)
    publish(self, from);
  // Saved last: whoever reads the board sees a state whose transition is already published.
  st.board->save(st.monitor->snapshot());
}

void probe(self_ptr self) {
  auto& st = self->state;
  st.outstanding = st.monitor->next_probe();
  st.answered = false;
  st.board->save(st.monitor->snapshot());
  st.transport->send_probe(caf::actor{self}, st.outstanding);
}

/// Monitors board subscribers added behind our back (links::subscribe), so dead ones get pruned.
void watch_subscribers(self_ptr self) {
  auto& st = self->state;
  for (auto& s : st.board->subscribers()) {
    if (std::find(st.watched.begin(), st.watched.end(), s.address()) != st.watched.end())
      continue;
    st.watched.push_back(s.address());
    self->monitor(s);
  }
}

std::string status_json(self_ptr self) {
  auto& st = self->state;
  const auto& snap = st.monitor->snapshot();
  const auto& set = st.monitor->settings();
  boost::json::object o{
    {"link", snap.status.link},
    {"kind", snap.status.kind},
    {"state", to_string(snap.status.state)},
    {"transitions", snap.status.transitions},
    {"since_ms", snap.status.since_ms},
    {"consecutive_misses", snap.consecutive_misses},
    {"losses_in_window", st.monitor->losses_in_window()},
    {"probes_sent", snap.probes_sent},
    {"probes_answered", snap.probes_answered},
    {"probes_lost", snap.probes_lost},
    {"probe_interval_ms", set.interval.count()},
    {"probe_misses", set.misses},
    {"window", set.window},
    {"subscribers", st.board->subscribers().size()},
  };
  return boost::json::serialize(o);
}

} // namespace

link_board::link_board(std::string link, std::string kind) {
  snap_.status.link = std::move(link);
  snap_.status.kind = std::move(kind);
}

link_status link_board::status() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return snap_.status;
}

link_snapshot link_board::snapshot() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return snap_;
}

void link_board::save(const link_snapshot& s) {
  std::lock_guard<std::mutex> guard{mutex_};
  snap_ = s;
}

std::vector<caf::actor> link_board::subscribers() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return subscribers_;
}

bool link_board::add_subscriber(const caf::actor& s) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (std::find(subscribers_.begin(), subscribers_.end(), s) != subscribers_.end())
    return false;
  subscribers_.push_back(s);
  return true;
}

void link_board::remove_subscriber(const caf::actor_addr& s) {
  std::lock_guard<std::mutex> guard{mutex_};
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [&](const caf::actor& a) { return a.address() == s; }),
                     subscribers_.end());
}

void link_board::clear_subscribers() {
  std::lock_guard<std::mutex> guard{mutex_};
  subscribers_.clear();
}

void subscribe(const std::shared_ptr<link_board>& board, const caf::actor& subscriber) {
  if (!subscriber)
    return;
  board->add_subscriber(subscriber);
  caf::anon_send(subscriber, atom::link_changed_v, board->status());
}

caf::behavior data_link(self_ptr self, std::shared_ptr<link_board> board,
                        std::shared_ptr<probe_transport> transport, probe_settings settings,
                        metrics::registry* metrics) {
  auto& st = self->state;
  st.board = std::move(board);
  st.transport = std::move(transport);
  st.metrics = metrics;
  // Resume from what the previous incarnation saved (a fresh board holds a fresh snapshot).
  st.monitor.emplace(settings, st.board->snapshot());
  update_gauges(self);
  const auto& status = st.monitor->snapshot().status;
  log::get("links")->info("event=data_link_started link={} kind={} state={} interval_ms={} "
                          "misses={} window={}",
                          status.link, status.kind, to_string(status.state),
                          settings.interval.count(), settings.misses, settings.window);
  // Subscribers survive a restart (they are on the board), so watch them again.
  watch_subscribers(self);
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    st.board->remove_subscriber(msg.source);
    st.watched.erase(std::remove(st.watched.begin(), st.watched.end(), msg.source),
                     st.watched.end());
  });
  // On an orderly shutdown, let go of the subscriber handles; after a crash keep them for the
  // restarted incarnation.
  self->attach_functor([board = st.board](const caf::error& reason) {
    if (reason == caf::exit_reason::user_shutdown || reason == caf::exit_reason::normal)
      board->clear_subscribers();
  });
  probe(self);
  self->delayed_send(self, settings.interval, atom::tick_v);
  return {
    [self](atom::tick) {
      auto& st = self->state;
      if (st.outstanding != 0 && !st.answered)
        record(self, false);
      probe(self);
      watch_subscribers(self);
      self->delayed_send(self, st.monitor->settings().interval, atom::tick_v);
    },
    [self](atom::probe_ack, std::uint64_t seq) {
      auto& st = self->state;
      // Late answers (after their interval) and stray ones were already counted as lost.
      if (seq != st.outstanding || st.answered)
        return;
      st.answered = true;
      record(self, true);
    },
    [self](atom::subscribe, const caf::actor& s) {
      auto& st = self->state;
      if (!s)
        return;
      st.board->add_subscriber(s);
      watch_subscribers(self);
      self->send(s, atom::link_changed_v, st.monitor->snapshot().status);
    },
    [self](atom::status) { return status_json(self); },
  };
}

} // namespace cms::links
