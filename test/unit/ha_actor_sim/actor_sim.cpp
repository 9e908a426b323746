#include "actor_sim.hpp"

#include "sim_network.hpp"

#include "actors/billing/billing_outbox.hpp"
#include "actors/calls/call_context.hpp"
#include "actors/ha/ha_actor.hpp"
#include "actors/ha/replicator.hpp"
#include "actors/ha/takeover_protocol.hpp"
#include "actors/ha/witness_rules.hpp"
#include "actors/calls/state_catalog.hpp"
#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/ha_store.hpp"
#include "runtime/base/logging.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <sstream>

#include <unistd.h>

namespace cms::ha::actor_sim {

namespace {

using sim_time = std::int64_t; ///< ms since the start of the schedule (the actor clock)
using std::chrono::milliseconds;

// As runtime/node/node.cpp derives them from the peer settings (defaults of config.hpp's peer section).
constexpr sim_time heartbeat_interval = 100;
constexpr int heartbeat_misses = 3;
constexpr sim_time witness_answer_timeout = heartbeat_interval; // witness_client's answer timeout
constexpr sim_time witness_restart_wait = 2000;
constexpr int witness_count = 3;

struct sim_config : caf::actor_system_config {
  sim_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    add_message_types<caf::id_block::cms>();
  }
};

template <class State>
State* peek(const caf::actor& h) {
  auto* s = dynamic_cast<caf::stateful_actor<State>*>(caf::actor_cast<caf::abstract_actor*>(h));
  return s ? &s->state : nullptr;
}

/// The HA actor's state once its behaviour ran (an actor initialises when first scheduled).
ha_actor_state* peek_ha(const caf::actor& h) {
  auto* st = peek<ha_actor_state>(h);
  return st && st->rules ? st : nullptr;
}

struct event {
  sim_time at;
  std::uint64_t seq;
  std::function<void()> fn;
};
struct later {
  bool operator()(const event& a, const event& b) const {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

class world;

/// The billing outbox's writer, observed: which sequences it assigned and what it marked as held
/// by both nodes (billing_outbox answers on_both acks with mark_replicated).
class observed_writer final : public actors::billing_writer {
public:
  observed_writer(std::unique_ptr<actors::billing_writer> inner, world* w, int node,
                  std::uint64_t inc)
    : inner_(std::move(inner)),
      w_(w),
      node_(node),
      inc_(inc) {}
  std::vector<std::uint64_t> append(const std::vector<billing::billing_record>& batch) override;
  void mark_replicated(std::uint64_t sequence) override;

private:
  std::unique_ptr<actors::billing_writer> inner_;
  world* w_;
  int node_;
  std::uint64_t inc_;
};

struct sim_node {
  int id = 0;
  std::string name;
  int priority = 100;
  std::filesystem::path db_file;
  bool up = false;
  std::uint64_t inc = 0; ///< incarnation: callbacks of an earlier life are void
  std::unique_ptr<metrics::registry> registry;
  std::shared_ptr<actors::call_context> calls;
  std::shared_ptr<replication_image> image;
  std::shared_ptr<persistence::database> ha_db;
  caf::actor ha, repl, catalog, outbox, manager, edge;
  std::optional<peer_info> udp_self; ///< what the UDP path advertises (silent until known)
  bool fence_closed = true;
  role seen_role = role::starting;
  std::uint64_t seen_epoch = 0;
  role seen_repl_role = role::starting;
  std::map<std::uint64_t, std::string> billing_seq; ///< outbox sequence -> record id (this store)
  std::set<std::string> resumed;                    ///< calls resumed since the last takeover
};

struct sim_call {
  int home = -1; ///< node whose call manager runs it
  std::uint64_t home_inc = 0;
  actors::call_state state;
};

struct tally {
  int kind = 0; ///< 0 claim, 1 renew, 2 release (ha_actor.cpp)
  std::uint64_t epoch = 0;
  int granted = 0, answered = 0;
  std::uint64_t highest = 0, highest_refused = 0;
  bool done = false;
  std::function<void(int, std::uint64_t, std::uint64_t)> finish;
};

class world {
public:
  world(std::uint64_t seed, const sim_options& opt)
    : rng_(seed),
      opt_(opt),
      sched_(dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())),
      link_(sys_, rng_,
            [this](sim_time d, std::function<void()> f) { at(now() + d, std::move(f)); }) {
    res_.seed = seed;
    t0_ = sched_.clock().now();
    char tmpl[] = "/dev/shm/cms-actor-sim-XXXXXX";
    char* dir = ::mkdtemp(tmpl);
    if (!dir) {
      std::string fallback =
        (std::filesystem::temp_directory_path() / "cms-actor-sim-XXXXXX").string();
      dir = ::mkdtemp(fallback.data());
      dir_ = dir ? dir : "";
    } else {
      dir_ = dir;
    }
    link_.node_up = [this](int i) { return nodes_[i].up; };
    link_.on_deliver = [this](int to, const caf::message& m) { on_link_delivery(to, m); };
  }

  ~world() {
    for (auto& n : nodes_)
      kill_node_actors(n);
    link_.shutdown();
    if (watcher_)
      caf::anon_send_exit(watcher_, caf::exit_reason::kill);
    // Run out every timer too: a requester waiting for a killed outbox ends on its timeout.
    do
      sched_.run();
    while (sched_.trigger_timeouts() > 0);
    std::error_code ec;
    if (!dir_.empty())
      std::filesystem::remove_all(dir_, ec);
  }

  sim_result run() {
    setup();
    sim_time fault_end = opt_.fault_seconds * 1000;
    schedule_faults(fault_end);
    schedule_calls(fault_end + 4000);
    at(fault_end, [this] { heal_everything(); });
    // Quiescence: no new calls after fault_end + 4 s; a lost snapshot request times out in 10 s.
    sim_time quiet = fault_end + 16000;
    run_until(quiet);
    check_converged();
    int active = active_node();
    if (active >= 0 && res_.violations.empty()) {
      note("final: the active " + nodes_[active].name + " dies for good");
      crash(active);
      run_until(quiet + 6000);
      int other = 1 - active;
      auto* ha = peek_ha(nodes_[other].ha);
      if (!ha || ha->rules->state().current != role::active || !ha->rules->accepts_new_calls(clk()))
        violation("survivor " + nodes_[other].name + " did not take over after the active died");
    }
    if (link_.unsupported_requests())
      violation("the node link carried a request the simulation does not know");
    res_.link_messages = link_.delivered();
    std::ostringstream t;
    for (auto& line : trace_)
      t << line << '\n';
    res_.trace = t.str();
    return res_;
  }

  // -- observed billing writer ----------------------------------------------------------------------
  void on_appended(int i, std::uint64_t inc, const std::vector<billing::billing_record>& batch,
                   const std::vector<std::uint64_t>& seqs) {
    if (!alive(i, inc))
      return;
    for (std::size_t k = 0; k < seqs.size() && k < batch.size(); ++k)
      nodes_[i].billing_seq[seqs[k]] = batch[k].record_id;
  }
  void on_replicated(int i, std::uint64_t inc, std::uint64_t sequence) {
    if (!alive(i, inc))
      return;
    for (auto& [seq, id] : nodes_[i].billing_seq) {
      if (seq > sequence)
        break;
      if (on_both_.insert(id).second)
        ++res_.billing_on_both;
    }
  }

private:
  // ---- randomness, time, trace -----------------------------------------------------------------
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>{lo, hi}(rng_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>{0.0, 1.0}(rng_) < p; }

  sim_time now() const {
    return std::chrono::duration_cast<milliseconds>(sched_.clock().now() - t0_).count();
  }
  /// The nodes' steady clock as the HA actor reads it (actor clock).
  clock_time clk() const { return clock_time{sched_.clock().now().time_since_epoch()}; }
  /// Witnesses' clocks: never jump with the nodes' (docs/ha.md assumption).
  witness_rules::time_point wclk(int w) const {
    return witness_rules::time_point{milliseconds{now() - jumped_ + witness_offset_[w]}};
  }

  void at(sim_time t, std::function<void()> fn) { q_.push({t, next_seq_++, std::move(fn)}); }

  void note(const std::string& s) {
    trace_.push_back("t=" + std::to_string(now()) + " " + s);
    if (!opt_.verbose && trace_.size() > 300)
      trace_.pop_front();
  }
  void violation(const std::string& s) {
    note("VIOLATION " + s);
    if (res_.violations.size() < 5)
      res_.violations.push_back("t=" + std::to_string(now()) + " " + s);
  }

  bool alive(int i, std::uint64_t inc) const { return nodes_[i].up && nodes_[i].inc == inc; }

  /// Runs every message, then the next timer or simulation event, until `end`.
  void run_until(sim_time end) {
    for (;;) {
      while (sched_.try_run_once()) {
        ++res_.messages;
        check_instant();
      }
      idle_checks();
      auto& clock = sched_.clock();
      auto next = t0_ + milliseconds{end};
      if (!clock.schedule().empty())
        next = std::min(next, clock.schedule().begin()->first);
      if (!q_.empty())
        next = std::min(next, t0_ + milliseconds{q_.top().at});
      if (next > clock.now())
        clock.advance_time(next - clock.now()); // fires the timers due
      else if (!clock.schedule().empty() && clock.schedule().begin()->first <= clock.now())
        clock.advance_time(caf::timespan{0});
      if (sched_.has_job())
        continue;
      if (!q_.empty() && q_.top().at <= now()) {
        auto ev = q_.top();
        q_.pop();
        ev.fn();
        continue;
      }
      if (now() >= end && !sched_.has_job())
        return;
    }
  }

  // ---- set-up and node life ---------------------------------------------------------------------
  void setup() {
    static bool quiet = [] {
      log::settings ls;
      ls.level = "off";
      log::init(ls);
      return true;
    }();
    (void)quiet;
    for (int i = 0; i < 2; ++i) {
      auto& n = nodes_[i];
      n.id = i;
      n.name = i == 0 ? "a" : "b";
      n.priority = chance(0.5) ? 100 : 50;
      n.db_file = std::filesystem::path{dir_} / (n.name + ".db");
      persistence::database::open(n.db_file); // schema
    }
    for (int w = 0; w < witness_count; ++w)
      witness_offset_[w] = 1'000'000 + static_cast<sim_time>(uniform(0, 5'000'000));
    // The lease: cmsd's default (config.hpp peer.lease = ha_settings' default) or a longer one.
    lease_ms_ = chance(0.7) ? static_cast<sim_time>(ha_settings{}.lease.count()) : 900;
    randomize_link();
    randomize_udp();
    witness_loss_ = chance(0.5) ? 0.0 : 0.1 * static_cast<double>(uniform(0, 3));
    watcher_ = sys_.spawn(
      [](caf::event_based_actor* self, world* w) -> caf::behavior {
        self->set_down_handler([w](caf::down_msg& m) { w->on_actor_down(m); });
        return {[self](caf::actor& a) { self->monitor(a); }};
      },
      this);
    for (int i = 0; i < 2; ++i)
      at(static_cast<sim_time>(uniform(0, 1000)), [this, i] { start(i); });
  }

  void randomize_link() {
    bool lossy = chance(0.4);
    res_.lossy_link = res_.lossy_link || lossy;
    link_.settings.loss = lossy ? 0.002 * static_cast<double>(uniform(1, 5)) : 0.0;
    link_.settings.delay_min_ms = static_cast<int>(uniform(0, 10));
    link_.settings.delay_max_ms = link_.settings.delay_min_ms + static_cast<int>(uniform(0, 150));
  }

  void randomize_udp() {
    udp_loss_ = chance(0.3) ? 0.0 : 0.05 * static_cast<double>(uniform(0, 6));
    udp_delay_min_ = static_cast<sim_time>(uniform(0, 20));
    udp_delay_max_ =
      udp_delay_min_ + static_cast<sim_time>(uniform(0, 150)); // reorders past an interval
  }

  void start(int i) {
    auto& n = nodes_[i];
    if (n.up)
      return;
    n.up = true;
    ++n.inc;
    auto inc = n.inc;
    n.udp_self.reset();
    n.fence_closed = true;
    n.seen_role = role::starting;
    n.seen_repl_role = role::starting;
    n.billing_seq.clear();
    n.resumed.clear();
    n.registry = std::make_unique<metrics::registry>();
    n.calls = std::make_shared<actors::call_context>(actors::call_settings{}, *n.registry,
                                                     actors::dial_plan{});
    n.image = std::make_shared<replication_image>();
    n.ha_db = std::make_shared<persistence::database>(persistence::database::open(n.db_file));
    auto persisted = persistence::ha_store{*n.ha_db}.epoch();
    note("start " + n.name + " (priority " + std::to_string(n.priority) + ", persisted epoch " +
         std::to_string(persisted) + ")");

    // Local collaborators: the real catalogue and outbox, fakes for the manager and the edge.
    n.catalog = sys_.spawn(actors::state_catalog, std::vector<actors::endpoint_state>{});
    n.outbox =
      sys_.spawn(actors::billing_outbox, n.calls, actors::billing_writer_factory{[this, i, inc] {
                   return std::unique_ptr<actors::billing_writer>{std::make_unique<observed_writer>(
                     actors::make_sqlite_billing_writer(nodes_[i].db_file), this, i, inc)};
                 }});
    n.manager = sys_.spawn(
      [](caf::event_based_actor*, world* w, int i, std::uint64_t inc) -> caf::behavior {
        return {
          [=](actors::resume_call& r) { w->on_resume(i, inc, r.state); },
          [=](actors::quiesce_calls&) { w->on_quiesce(i, inc); },
        };
      },
      this, i, inc);
    n.edge = sys_.spawn(
      [](caf::event_based_actor*, world* w, int i, std::uint64_t inc) -> caf::behavior {
        return {[=](actors::mgcp_fence& f) {
          if (w->alive(i, inc))
            w->nodes_[i].fence_closed = f.closed;
        }};
      },
      this, i, inc);
    n.calls->set_catalog(n.catalog);
    n.calls->set_outbox(n.outbox);
    n.calls->set_manager(n.manager);
    n.calls->set_edge(n.edge);

    auto env = std::make_shared<ha_environment>();
    env->settings.node_id = n.name;
    env->settings.priority = n.priority;
    env->settings.heartbeat_interval = milliseconds{heartbeat_interval};
    env->settings.heartbeat_misses = heartbeat_misses;
    env->settings.discovery_window = milliseconds{heartbeat_interval * (heartbeat_misses + 2)};
    env->settings.witnesses = witness_count;
    env->settings.lease = milliseconds{lease_ms_};
    env->dial = i == 0;
    env->persisted_epoch = persisted;
    env->persist_epoch = [this, i, inc](std::uint64_t e) {
      if (alive(i, inc))
        persistence::ha_store{*nodes_[i].ha_db}.set_epoch(e);
    };
    env->ask_witnesses = [this, i,
                          inc](int kind, std::uint64_t epoch,
                               std::function<void(int, std::uint64_t, std::uint64_t)> done) {
      if (alive(i, inc))
        ask_witnesses(i, kind, epoch, std::move(done));
    };
    env->udp_self = [this, i, inc](const peer_info& p) {
      if (alive(i, inc))
        nodes_[i].udp_self = p;
    };
    auto image = n.image;
    env->applied_seq = [image] { return image->applied.load(); };
    env->metrics = n.registry.get();
    env->connect_peer = [this, i] {
      return link_.connect(i, nodes_[1 - i].up ? nodes_[1 - i].ha : caf::actor{});
    };
    n.ha = sys_.spawn(ha_actor, env);

    auto renv = std::make_shared<replicator_environment>();
    renv->db_file = n.db_file;
    renv->calls = n.calls;
    renv->ha = [this, i, inc] { return alive(i, inc) ? nodes_[i].ha : caf::actor{}; };
    renv->image = n.image;
    renv->metrics = n.registry.get();
    n.repl = sys_.spawn(replicator, renv);
    for (auto* h : {&n.ha, &n.repl, &n.catalog, &n.outbox})
      caf::anon_send(watcher_, *h);
    // The UDP path sends every interval from start-up (silent until the node knows itself).
    at(now() + static_cast<sim_time>(uniform(1, heartbeat_interval)),
       [this, i, inc] { udp_tick(i, inc); });
  }

  void kill_node_actors(sim_node& n) {
    for (auto* h : {&n.ha, &n.repl, &n.catalog, &n.outbox, &n.manager, &n.edge})
      if (*h) {
        caf::anon_send_exit(*h, caf::exit_reason::kill);
        *h = nullptr;
      }
    if (n.calls)
      n.calls->clear();
  }

  void crash(int i) {
    auto& n = nodes_[i];
    if (!n.up)
      return;
    note("crash " + n.name);
    n.up = false;
    kill_node_actors(n);
    // The peer's proxies go down within ~10 ms of a killed process (socket closes).
    link_.break_connection(10, "crash");
    orphan_calls(i);
  }

  void on_actor_down(const caf::down_msg& m) {
    if (!m.reason || m.reason == caf::make_error(caf::exit_reason::kill))
      return;
    violation("a node actor died: " + sys_.render(m.reason));
  }

  // ---- UDP heartbeat path (runtime/transport/ha_udp.cpp) -------------------------------------------------
  void udp_tick(int i, std::uint64_t inc) {
    if (!alive(i, inc))
      return;
    auto& n = nodes_[i];
    if (n.udp_self && !udp_cut_ && !chance(udp_loss_)) {
      auto info = *n.udp_self;
      int j = 1 - i;
      auto delay = static_cast<sim_time>(uniform(static_cast<std::uint64_t>(udp_delay_min_),
                                                 static_cast<std::uint64_t>(udp_delay_max_)));
      at(now() + delay, [this, j, info] {
        if (nodes_[j].up)
          caf::anon_send<caf::message_priority::high>(nodes_[j].ha, atom::udp_hb_v, info);
      });
    }
    at(now() + heartbeat_interval, [this, i, inc] { udp_tick(i, inc); });
  }

  // ---- witnesses (witness_client::ask + runtime/programs/witness_main.cpp) ------------------------------
  void ask_witnesses(int i, int kind, std::uint64_t epoch,
                     std::function<void(int, std::uint64_t, std::uint64_t)> done) {
    auto t = std::make_shared<tally>();
    t->kind = kind;
    t->epoch = epoch;
    t->finish = std::move(done);
    auto name = nodes_[i].name;
    for (int w = 0; w < witness_count; ++w) {
      if (witness_cut_[i] || witness_down_[w] || chance(witness_loss_))
        continue;
      at(now() + static_cast<sim_time>(uniform(1, 40)), [this, i, w, t, name] {
        if (witness_down_[w] || witness_cut_[i])
          return;
        witness_verdict v;
        if (t->kind == 0) {
          v = witnesses_[w].claim(name, t->epoch, milliseconds{lease_ms_}, wclk(w));
          if (opt_.broken_witnesses && !v.granted)
            v = {true, t->epoch, name};
        } else if (t->kind == 1) {
          v = witnesses_[w].renew(name, t->epoch, milliseconds{lease_ms_}, wclk(w));
        } else {
          v = witnesses_[w].release(name, t->epoch, wclk(w));
        }
        if (t->kind == 0 && v.granted)
          note("witness " + std::to_string(w) + " grants epoch " + std::to_string(t->epoch) +
               " to " + name);
        if (chance(witness_loss_))
          return;
        at(now() + static_cast<sim_time>(uniform(1, 40)), [this, i, t, v] {
          if (t->done || witness_cut_[i])
            return;
          ++t->answered;
          t->granted += v.granted ? 1 : 0;
          t->highest = std::max(t->highest, v.epoch);
          if (!v.granted)
            t->highest_refused = std::max(t->highest_refused, v.epoch);
          if (t->answered == witness_count)
            finish_tally(t);
        });
      });
    }
    at(now() + witness_answer_timeout, [this, t] { finish_tally(t); });
  }

  void finish_tally(const std::shared_ptr<tally>& t) {
    if (t->done)
      return;
    t->done = true;
    // The callback anon_sends to the HA actor that asked (a dead one drops it).
    t->finish(t->granted, t->highest, t->highest_refused);
  }

  void restart_witness(int w) {
    if (!witness_down_[w])
      return;
    witness_down_[w] = false;
    auto s = witnesses_[w].state();
    s.lease_until = wclk(w) + milliseconds{witness_restart_wait};
    witnesses_[w] = witness_rules{s};
    note("witness " + std::to_string(w) + " restarted");
  }

  // ---- calls: set-up, connected, release with billing (what call processing does) ---------------
  void schedule_calls(sim_time until) {
    for (sim_time t = 0; t < until; t += static_cast<sim_time>(uniform(20, 150)))
      at(t, [this] { call_step(); });
  }

  int accepting_node() {
    for (int i = 0; i < 2; ++i)
      if (nodes_[i].up)
        if (auto* ha = peek_ha(nodes_[i].ha); ha && ha->rules->accepts_new_calls(clk()))
          return i;
    return -1;
  }

  void call_step() {
    auto live =
      std::count_if(calls_.begin(), calls_.end(), [](auto& c) { return c.second.home >= 0; });
    if (chance(0.4) && live < 25) {
      int i = accepting_node();
      if (i < 0)
        return;
      auto id = "c" + std::to_string(next_call_++);
      auto& c = calls_[id];
      c.home = i;
      c.home_inc = nodes_[i].inc;
      c.state.call_id = id;
      c.state.phase = actors::call_phase::dialling;
      c.state.calling_number = "5551" + std::to_string(uniform(100, 999));
      c.state.originating = "aaln/1@mta-" + std::to_string(uniform(1, 50));
      c.state.started_ms = 1'700'000'000'000 + now();
      ++res_.calls_started;
      caf::anon_send(nodes_[i].catalog, actors::call_update{c.state});
      return;
    }
    if (calls_.empty())
      return;
    auto it = std::next(calls_.begin(), static_cast<std::ptrdiff_t>(uniform(0, calls_.size() - 1)));
    auto& c = it->second;
    if (c.home < 0 || !alive(c.home, c.home_inc))
      return;
    auto& n = nodes_[c.home];
    switch (c.state.phase) {
    case actors::call_phase::dialling:
      c.state.phase = actors::call_phase::alerting;
      c.state.called_number = "5552" + std::to_string(uniform(100, 999));
      c.state.route = "on-net";
      caf::anon_send(n.catalog, actors::call_update{c.state});
      break;
    case actors::call_phase::alerting:
      c.state.phase = actors::call_phase::connected;
      ++res_.calls_established;
      caf::anon_send(n.catalog, actors::call_update{c.state});
      break;
    default:
      end_call(it);
      break;
    }
  }

  void end_call(std::map<std::string, sim_call>::iterator it) {
    auto id = it->first;
    auto& c = it->second;
    auto& n = nodes_[c.home];
    billing::billing_record r;
    r.call_id = id;
    r.event = "signaling_stop";
    r.record_id = id + ":signaling_stop";
    r.calling_number = c.state.calling_number;
    r.called_number = c.state.called_number;
    r.route = c.state.route;
    r.timestamp_ms = 1'700'000'000'000 + now();
    r.release_cause = 16;
    int i = c.home;
    auto inc = c.home_inc;
    // The call commits its record, then leaves the listing (call_actor's release).
    sys_.spawn(
      [](caf::event_based_actor* self, caf::actor outbox, billing::billing_record r, world* w,
         int i, std::uint64_t inc) {
        auto id = r.record_id;
        self->request(outbox, std::chrono::seconds{30}, atom::commit_v, std::move(r))
          .then([=](std::uint64_t) { w->on_commit_acked(i, inc, id); }, [](caf::error&) {});
      },
      n.outbox, r, this, i, inc);
    caf::anon_send(n.catalog, actors::call_removed{id});
    protected_.erase(id);
    calls_.erase(it);
  }

  void on_commit_acked(int i, std::uint64_t inc, const std::string& record_id) {
    if (!alive(i, inc))
      return;
    if (acked_.insert(record_id).second)
      ++res_.billing_acked;
  }

  void on_resume(int i, std::uint64_t inc, const actors::call_state& s) {
    if (!alive(i, inc))
      return;
    ++res_.calls_resumed;
    nodes_[i].resumed.insert(s.call_id);
    auto& c = calls_[s.call_id];
    if (c.state.call_id.empty())
      c.state = s; // a call the simulation had given up with its old home: it lives on here
    c.home = i;
    c.home_inc = inc;
    // The call manager's resumed call actor shows itself in the catalogue (and so in the stream).
    caf::anon_send(nodes_[i].catalog, actors::call_update{c.state});
  }

  void on_quiesce(int i, std::uint64_t inc) {
    if (!alive(i, inc))
      return;
    // Calls whose home this was stop here; the active resumes those it holds.
    orphan_calls(i);
  }

  /// The calls node `i` ran are gone from it; they live on only where a new active resumes them.
  void orphan_calls(int i) {
    for (auto& [id, c] : calls_)
      if (c.home == i)
        c.home = -1;
  }

  // ---- invariants --------------------------------------------------------------------------------
  /// A standby's acknowledgement reaching the active: the established calls it covers are now held
  /// by the standby (protected until that standby process dies).
  void on_link_delivery(int to, const caf::message& m) {
    if (opt_.verbose && !m.match_element<atom::heartbeat>(0))
      note("link -> " + nodes_[to].name + ": " + to_string(m).substr(0, 160));
    if (!m.match_elements<atom::repl_ack, std::uint64_t, std::uint64_t, std::uint64_t>())
      return;
    auto stream = m.get_as<std::uint64_t>(2);
    auto seq = m.get_as<std::uint64_t>(3);
    auto& act = nodes_[to];
    auto* rs = peek<replicator_state>(act.repl);
    if (!act.up || !rs || rs->current != role::active || rs->stream != stream)
      return;
    int sb = 1 - to;
    if (!nodes_[sb].up)
      return;
    for (auto& [id, c] : calls_) {
      if (c.home != to || c.state.phase != actors::call_phase::connected)
        continue;
      auto e = act.image->entries.find("call/" + id);
      if (e == act.image->entries.end() || e->second.seq > seq)
        continue;
      actors::call_state cs;
      if (!actors::decode_state(sys_, e->second.state, cs) ||
          cs.phase != actors::call_phase::connected)
        continue;
      auto holder = std::make_pair(sb, nodes_[sb].inc);
      if (protected_.insert_or_assign(id, holder).second)
        ++res_.calls_protected;
    }
  }

  void check_instant() {
    int accepting = 0;
    for (auto& n : nodes_) {
      if (!n.up)
        continue;
      auto* ha = peek_ha(n.ha);
      if (!ha)
        continue;
      auto& rs = ha->rules->state();
      if (rs.current != n.seen_role || rs.epoch != n.seen_epoch) {
        note(n.name + " " + to_string(rs.current) + " epoch " + std::to_string(rs.epoch) + " (" +
             rs.last_transition_reason + ")");
        if (rs.current == role::active && n.seen_role != role::active)
          became_active(n, rs.epoch);
        n.seen_role = rs.current;
        n.seen_epoch = rs.epoch;
      }
      if (ha->rules->accepts_new_calls(clk()))
        ++accepting;
      auto* rp = peek<replicator_state>(n.repl);
      if (rp && rp->current != n.seen_repl_role) {
        if (rp->current == role::active)
          takeover_started(n);
        n.seen_repl_role = rp->current;
      }
    }
    if (accepting > 1 && !reported_two_accepting_) {
      reported_two_accepting_ = true;
      violation("both nodes accept new calls");
    }
  }

  void became_active(sim_node& n, std::uint64_t epoch) {
    ++res_.failovers;
    auto [it, fresh] = active_in_epoch_.emplace(epoch, n.id);
    if (!fresh && it->second != n.id)
      violation("two nodes active in epoch " + std::to_string(epoch));
  }

  /// The replicator of `n` has just adopted its image (take_over ran). What it must resume and
  /// hold is checked once the messages it sent are processed (idle_checks).
  void takeover_started(sim_node& n) {
    n.resumed.clear();
    std::set<std::string> calls, others;
    for (auto it = protected_.begin(); it != protected_.end();) {
      if (it->second.first == n.id && it->second.second == n.inc) {
        calls.insert(it->first);
        ++it;
      } else {
        // Held only by another node (or an earlier life of this one), which is not the one taking
        // over: its home crashed and its copy is out of reach, a double fault. Counted, not required.
        others.insert(it->first);
        it = protected_.erase(it);
      }
    }
    pending_takeovers_.push_back({n.id, n.inc, std::move(calls), std::move(others)});
    // Billing: everything acknowledged on both nodes is in the new active's store.
    std::set<std::string> held = stored_records(n);
    for (auto& id : on_both_)
      if (!held.count(id))
        violation("billing record " + id +
                  " acknowledged on both nodes is missing on the new active " + n.name);
  }

  void idle_checks() {
    for (auto& p : pending_takeovers_) {
      if (!alive(p.node, p.inc))
        continue;
      auto& n = nodes_[p.node];
      for (auto& id : p.calls)
        if (!n.resumed.count(id) && calls_.count(id))
          violation("established call " + id +
                    " held by the standby was not resumed by the new active " + n.name);
      for (auto& id : p.others)
        if (!n.resumed.count(id) && calls_.count(id) && calls_[id].home < 0)
          ++res_.calls_lost_double_fault;
    }
    pending_takeovers_.clear();
  }

  std::set<std::string> stored_records(const sim_node& n) {
    std::set<std::string> out;
    auto db = persistence::database::open(n.db_file);
    auto q = db.prepare("SELECT record_id FROM billing_outbox");
    while (q.step())
      out.insert(q.column_text(0));
    return out;
  }

  std::set<std::pair<std::uint64_t, std::string>> stored_sequences(const sim_node& n) {
    std::set<std::pair<std::uint64_t, std::string>> out;
    auto db = persistence::database::open(n.db_file);
    auto q = db.prepare("SELECT sequence, record_id FROM billing_outbox");
    while (q.step())
      out.emplace(static_cast<std::uint64_t>(q.column_int64(0)), q.column_text(1));
    return out;
  }

  int active_node() {
    for (int i = 0; i < 2; ++i)
      if (nodes_[i].up)
        if (auto* ha = peek_ha(nodes_[i].ha); ha && ha->rules->state().current == role::active)
          return i;
    return -1;
  }

  void check_converged() {
    int actives = 0;
    for (int i = 0; i < 2; ++i)
      if (nodes_[i].up)
        if (auto* ha = peek_ha(nodes_[i].ha); ha && ha->rules->state().current == role::active)
          ++actives;
    if (actives != 1) {
      violation("after healing: " + std::to_string(actives) + " active nodes");
      return;
    }
    auto& act = nodes_[active_node()];
    auto& sb = nodes_[1 - act.id];
    auto* aha = peek_ha(act.ha);
    auto* sha = peek_ha(sb.ha);
    if (!aha->rules->accepts_new_calls(clk()))
      violation("after healing: the active " + act.name + " does not accept new calls");
    if (!sha || sha->rules->state().current != role::standby ||
        sha->rules->state().epoch != aha->rules->state().epoch) {
      violation("after healing: " + sb.name + " is not a standby in the active's epoch");
      return;
    }
    if (act.fence_closed || !sb.fence_closed)
      violation("after healing: MGCP fences wrong (active closed " +
                std::to_string(act.fence_closed) + ", standby closed " +
                std::to_string(sb.fence_closed) + ")");
    auto* srp = peek<replicator_state>(sb.repl);
    auto* arp = peek<replicator_state>(act.repl);
    if (!srp || !arp || !srp->synced || !arp->standby_synced)
      violation("after healing: the standby does not follow the active's stream");
    // The standby's image equals the active's.
    auto& ai = *act.image;
    auto& si = *sb.image;
    if (ai.seq != si.seq)
      violation("after healing: standby image at seq " + std::to_string(si.seq) + ", active at " +
                std::to_string(ai.seq));
    std::size_t differ = 0;
    for (auto& [k, r] : ai.entries) {
      auto it = si.entries.find(k);
      if (it == si.entries.end() || it->second.state != r.state || it->second.removed != r.removed)
        ++differ;
    }
    for (auto& [k, r] : si.entries)
      differ += ai.entries.count(k) ? 0 : 1;
    if (differ)
      violation("after healing: " + std::to_string(differ) +
                " image entries differ between active and standby");
    // Billing: same records with the same sequences on both; every acknowledged record there.
    auto a_rec = stored_sequences(act);
    auto s_rec = stored_sequences(sb);
    if (a_rec != s_rec)
      violation("after healing: billing outboxes differ (active " + std::to_string(a_rec.size()) +
                " records, standby " + std::to_string(s_rec.size()) + ")");
    std::set<std::string> ids;
    for (auto& [seq, id] : a_rec)
      ids.insert(id);
    for (auto& id : acked_)
      if (!ids.count(id))
        violation("after healing: acknowledged billing record " + id + " is missing on the active");
  }

  // ---- faults ------------------------------------------------------------------------------------
  void schedule_faults(sim_time until) {
    int count = static_cast<int>(uniform(3, 30));
    for (int k = 0; k < count; ++k) {
      auto t = static_cast<sim_time>(uniform(1500, static_cast<std::uint64_t>(until)));
      auto kind = uniform(0, 15);
      auto who = static_cast<int>(uniform(0, 1));
      auto w = static_cast<int>(uniform(0, witness_count - 1));
      auto amount = static_cast<sim_time>(uniform(1, 3000));
      at(t, [this, kind, who, w, amount] { fault(kind, who, w, amount); });
    }
  }

  void fault(std::uint64_t kind, int who, int w, sim_time amount) {
    ++res_.faults;
    switch (kind) {
    case 0:
      link_.cut = true;
      note("fault: node link cut (noticed after " + std::to_string(amount) + " ms)");
      link_.break_connection(amount, "cut");
      break;
    case 1:
      link_.cut = false;
      note("fault: node link healed");
      break;
    case 2:
      udp_cut_ = true;
      note("fault: udp path cut");
      break;
    case 3:
      udp_cut_ = false;
      note("fault: udp path healed");
      break;
    case 4:
      link_.cut = udp_cut_ = true;
      link_.break_connection(amount, "partition");
      witness_cut_[who] = chance(0.5);
      note("fault: partition between the nodes");
      break;
    case 5:
      link_.cut = udp_cut_ = false;
      witness_cut_[0] = witness_cut_[1] = false;
      note("fault: partition healed");
      break;
    case 6:
      witness_cut_[who] = true;
      note("fault: " + nodes_[who].name + " cut from the witnesses");
      break;
    case 7:
      witness_cut_[who] = false;
      note("fault: " + nodes_[who].name + " reaches the witnesses");
      break;
    case 8:
      witness_down_[w] = true;
      note("fault: witness " + std::to_string(w) + " down");
      break;
    case 9:
      restart_witness(w);
      break;
    case 10:
      crash(who);
      at(now() + amount, [this, who] { start(who); });
      break;
    case 11:
      crash(who);
      break;
    case 12:
      // The nodes' steady clock jumps forward (a paused VM catching up): every timer due fires
      // at once; the witnesses' clocks do not jump.
      note("fault: clock jump +" + std::to_string(amount) + " ms");
      jumped_ += amount;
      sched_.clock().advance_time(milliseconds{amount});
      break;
    case 13:
      if (int a = active_node(); a >= 0) {
        note("fault: switchover requested on " + nodes_[a].name);
        caf::anon_send(nodes_[a].ha, atom::switchover_v);
      }
      break;
    case 14:
      randomize_link();
      note("fault: node link loss now " + std::to_string(link_.settings.loss));
      break;
    default:
      randomize_udp();
      note("fault: udp loss/delay changed");
      break;
    }
  }

  void heal_everything() {
    note("heal everything");
    link_.cut = udp_cut_ = false;
    witness_cut_[0] = witness_cut_[1] = false;
    for (int w = 0; w < witness_count; ++w)
      restart_witness(w);
    link_.settings.loss = 0.0;
    udp_loss_ = 0.0;
    witness_loss_ = 0.0;
    for (int i = 0; i < 2; ++i)
      if (!nodes_[i].up)
        start(i);
  }

  struct pending_takeover {
    int node;
    std::uint64_t inc;
    std::set<std::string> calls;  ///< must be resumed
    std::set<std::string> others; ///< lost unless resumed (double fault)
  };

  std::mt19937_64 rng_;
  sim_options opt_;
  sim_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::scheduler::test_coordinator& sched_;
  node_link link_;
  caf::actor_clock::time_point t0_;
  std::string dir_;
  sim_result res_;
  std::priority_queue<event, std::vector<event>, later> q_;
  std::uint64_t next_seq_ = 0;
  sim_node nodes_[2];
  caf::actor watcher_;
  witness_rules witnesses_[witness_count];
  sim_time witness_offset_[witness_count] = {};
  bool witness_down_[witness_count] = {};
  bool witness_cut_[2] = {};
  double witness_loss_ = 0.0;
  sim_time jumped_ = 0;
  sim_time lease_ms_ = 500;
  bool udp_cut_ = false;
  double udp_loss_ = 0.0;
  sim_time udp_delay_min_ = 0, udp_delay_max_ = 0;
  std::map<std::string, sim_call> calls_;
  std::uint64_t next_call_ = 1;
  std::map<std::string, std::pair<int, std::uint64_t>>
    protected_; ///< call -> standby (node, inc) holding it
  std::vector<pending_takeover> pending_takeovers_;
  std::set<std::string> acked_, on_both_;
  std::map<std::uint64_t, int> active_in_epoch_;
  bool reported_two_accepting_ = false;
  std::deque<std::string> trace_;
};

std::vector<std::uint64_t>
observed_writer::append(const std::vector<billing::billing_record>& batch) {
  auto seqs = inner_->append(batch);
  w_->on_appended(node_, inc_, batch, seqs);
  return seqs;
}

void observed_writer::mark_replicated(std::uint64_t sequence) {
  inner_->mark_replicated(sequence);
  w_->on_replicated(node_, inc_, sequence);
}

} // namespace

sim_result run_schedule(std::uint64_t seed, const sim_options& opt) {
  world w{seed, opt};
  return w.run();
}

} // namespace cms::ha::actor_sim
