#include "pair_sim.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <sstream>

namespace cms::ha::sim {

namespace {

using sim_time = std::int64_t; ///< simulated real time, ms
using std::chrono::milliseconds;

constexpr sim_time heartbeat_interval = 100;
constexpr int heartbeat_misses = 3;
constexpr sim_time lease_ms = 900;
constexpr sim_time answer_timeout =
  250; ///< witness client: tally after this even if some are silent
constexpr sim_time witness_restart_wait =
  2000; ///< witness_main: a restarted witness waits this long
constexpr int witness_count = 3;

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

struct node {
  int id = 0;
  std::string name;
  int priority = 100;
  bool up = false;
  std::uint64_t incarnation = 0;
  std::uint64_t persisted = 0; ///< the store's epoch: survives crashes
  std::optional<ha_rules> rules;
  sim_time clock_offset = 0;        ///< node's steady clock = simulated time + offset
  std::vector<std::uint64_t> store; ///< billing records, in stream order (durable)
  bool awaiting_snapshot = false;
};

struct tally {
  effect::kind_t kind;
  std::uint64_t epoch = 0;
  int granted = 0;
  int answered = 0;
  std::uint64_t highest = 0;
  std::uint64_t highest_refused = 0; ///< highest epoch reported by a witness that said no
  clock_time sent{};
  std::uint64_t incarnation = 0;
  bool done = false;
};

class world {
public:
  world(std::uint64_t seed, const sim_options& opt) : rng_(seed), opt_(opt) { res_.seed = seed; }

  sim_result run() {
    setup();
    sim_time fault_end = opt_.fault_seconds * 1000;
    schedule_faults(fault_end);
    schedule_calls(0, fault_end + 9000);
    sim_time quiet_check = fault_end + 12000;
    at(fault_end, [this] { heal_everything(); });
    run_until(quiet_check);
    check_converged();
    // The active now dies for good: the survivor must take over with every acknowledged record.
    int active = active_node();
    if (active >= 0) {
      note("final: crash the active " + nodes_[active].name + " for good");
      crash(active);
      run_until(quiet_check + 8000);
      int other = 1 - active;
      if (!(nodes_[other].up && nodes_[other].rules->state().current == role::active &&
            nodes_[other].rules->accepts_new_calls(clk(other))))
        violation("survivor " + nodes_[other].name +
                  " did not take over after the active died (role " +
                  to_string(nodes_[other].rules->state().current) + ", epoch " +
                  std::to_string(nodes_[other].rules->state().epoch) + ")");
    }
    std::ostringstream t;
    for (auto& line : trace_)
      t << line << '\n';
    res_.trace = t.str();
    return res_;
  }

private:
  // ---- randomness and time ----
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>{lo, hi}(rng_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>{0.0, 1.0}(rng_) < p; }

  void at(sim_time t, std::function<void()> fn) { q_.push({t, next_seq_++, std::move(fn)}); }

  void run_until(sim_time end) {
    while (!q_.empty() && q_.top().at <= end) {
      auto ev = q_.top();
      q_.pop();
      now_ = ev.at;
      ev.fn();
      check_one_accepting();
    }
    now_ = end;
  }

  clock_time clk(int i) const { return clock_time{milliseconds{now_ + nodes_[i].clock_offset}}; }
  witness_rules::time_point wclk(int w) const {
    return witness_rules::time_point{milliseconds{now_ + witness_offset_[w]}};
  }

  void note(const std::string& s) {
    trace_.push_back("t=" + std::to_string(now_) + " " + s);
    if (trace_.size() > 400)
      trace_.pop_front();
  }
  void violation(const std::string& s) {
    note("VIOLATION " + s);
    if (res_.violations.size() < 5)
      res_.violations.push_back("t=" + std::to_string(now_) + " " + s);
  }

  // ---- set-up ----
  void setup() {
    for (int i = 0; i < 2; ++i) {
      auto& n = nodes_[i];
      n.id = i;
      n.name = i == 0 ? "a" : "b";
      n.priority = chance(0.5) ? 100 : 50;
      n.clock_offset = 1'000'000 + static_cast<sim_time>(uniform(0, 5'000'000));
      n.persisted = uniform(0, 3);
    }
    for (int w = 0; w < witness_count; ++w)
      witness_offset_[w] = 1'000'000 + static_cast<sim_time>(uniform(0, 5'000'000));
    for (int p = 0; p < 2; ++p)
      randomize_path(p);
    witness_loss_ = chance(0.5) ? 0.0 : 0.1 * static_cast<double>(uniform(0, 3));
    // Nodes start at random moments of the first second.
    for (int i = 0; i < 2; ++i)
      at(static_cast<sim_time>(uniform(0, 1000)), [this, i] { start(i); });
  }

  void randomize_path(int p) {
    loss_[p] = chance(0.3) ? 0.0 : 0.05 * static_cast<double>(uniform(0, 6));
    delay_min_[p] = static_cast<sim_time>(uniform(0, 20));
    delay_max_[p] =
      delay_min_[p] + static_cast<sim_time>(uniform(0, 120)); // reordering beyond an interval
  }
  sim_time path_delay(int p) {
    return static_cast<sim_time>(uniform(static_cast<std::uint64_t>(delay_min_[p]),
                                         static_cast<std::uint64_t>(delay_max_[p])));
  }

  ha_settings settings_of(int i) const {
    ha_settings s;
    s.node_id = nodes_[i].name;
    s.priority = nodes_[i].priority;
    s.heartbeat_interval = milliseconds{heartbeat_interval};
    s.heartbeat_misses = heartbeat_misses;
    s.discovery_window =
      milliseconds{heartbeat_interval * (heartbeat_misses + 2)}; // as runtime/node/node.cpp
    s.witnesses = witness_count;
    s.lease = milliseconds{lease_ms};
    return s;
  }

  // ---- node life ----
  void start(int i) {
    auto& n = nodes_[i];
    if (n.up)
      return;
    n.up = true;
    ++n.incarnation;
    n.awaiting_snapshot = false;
    n.rules.emplace(settings_of(i));
    note("start " + n.name + " persisted epoch " + std::to_string(n.persisted));
    carry_out(i, n.rules->start(n.persisted, clk(i)));
    auto inc = n.incarnation;
    at(now_ + static_cast<sim_time>(uniform(1, heartbeat_interval)),
       [this, i, inc] { tick(i, inc); });
  }

  void crash(int i) {
    auto& n = nodes_[i];
    if (!n.up)
      return;
    note("crash " + n.name);
    n.up = false;
    ++n.incarnation; // every pending timer and tally of the old incarnation is void
  }

  bool alive(int i, std::uint64_t inc) const {
    return nodes_[i].up && nodes_[i].incarnation == inc;
  }

  void tick(int i, std::uint64_t inc) {
    if (!alive(i, inc))
      return;
    auto& n = nodes_[i];
    carry_out(i, n.rules->on_tick(clk(i)));
    if (!alive(i, inc))
      return;
    send_heartbeat(i, path::node_link);
    send_heartbeat(i, path::udp);
    if (n.rules->state().current == role::active && n.rules->peer_alive()) {
      // The stream is acknowledged: the unacknowledged tail is sent again (the standby ignores
      // what it already holds), so a record dropped while the standby resynchronised follows.
      for (std::size_t k = 0; k < n.store.size(); ++k)
        if (!confirmed_.count(n.store[k]))
          send_stream(i, n.store[k], k);
    }
    if (n.awaiting_snapshot && n.rules->state().current == role::standby)
      send_snapshot_request(i); // the replicator asks again until it gets one
    at(now_ + heartbeat_interval, [this, i, inc] { tick(i, inc); });
  }

  void send_heartbeat(int i, path p) {
    int pi = static_cast<int>(p);
    if (link_cut_[pi] || chance(loss_[pi]))
      return;
    auto info = nodes_[i].rules->self_info(nodes_[i].store.size());
    int j = 1 - i;
    at(now_ + path_delay(pi), [this, j, p, info] {
      if (!nodes_[j].up)
        return;
      carry_out(j, nodes_[j].rules->on_heartbeat(p, info, clk(j)));
    });
  }

  // ---- effects, as ha_actor.cpp carries them out ----
  void carry_out(int i, const effects& fx) {
    auto& n = nodes_[i];
    for (auto& e : fx) {
      switch (e.kind) {
      case effect::persist_epoch:
        n.persisted = e.epoch;
        break;
      case effect::claim_epoch:
      case effect::renew_lease:
      case effect::release_lease:
        ask_witnesses(i, e.kind, e.epoch);
        if (e.kind == effect::claim_epoch)
          note(n.name + " claims epoch " + std::to_string(e.epoch) + " (" + e.reason + ")");
        break;
      case effect::become_active:
        became_active(i, e.epoch, e.reason);
        break;
      case effect::become_standby:
        note(n.name + " standby epoch " + std::to_string(e.epoch) + " (" + e.reason + ")");
        break;
      case effect::step_down:
        note(n.name + " steps down epoch " + std::to_string(e.epoch) + " (" + e.reason + ")");
        break;
      case effect::request_snapshot:
        n.awaiting_snapshot = true;
        send_snapshot_request(i);
        break;
      }
    }
  }

  void became_active(int i, std::uint64_t epoch, const std::string& reason) {
    auto& n = nodes_[i];
    ++res_.failovers;
    note(n.name + " ACTIVE epoch " + std::to_string(epoch) + " (" + reason + ")");
    auto [it, fresh] = active_in_epoch_.emplace(epoch, i);
    if (!fresh && it->second != i)
      violation("two nodes active in epoch " + std::to_string(epoch));
    std::set<std::uint64_t> held(n.store.begin(), n.store.end());
    for (auto id : acked_both_)
      if (!held.count(id))
        violation("record " + std::to_string(id) +
                  " acknowledged by both nodes is missing on the new active " + n.name);
    for (auto id : acked_alone_)
      if (!held.count(id) && !lost_alone_.count(id)) {
        lost_alone_.insert(id);
        ++res_.alone_records_lost;
      }
  }

  // ---- witnesses (witness_client::ask + runtime/programs/witness_main.cpp) ----
  void ask_witnesses(int i, effect::kind_t kind, std::uint64_t epoch) {
    auto t = std::make_shared<tally>();
    t->kind = kind;
    t->epoch = epoch;
    t->sent = clk(i);
    t->incarnation = nodes_[i].incarnation;
    auto name = nodes_[i].name;
    for (int w = 0; w < witness_count; ++w) {
      if (isolated_[i] || witness_down_[w] || chance(witness_loss_))
        continue;
      at(now_ + static_cast<sim_time>(uniform(1, 60)), [this, i, w, t, name] {
        if (witness_down_[w] || isolated_[i])
          return;
        witness_verdict v;
        if (t->kind == effect::claim_epoch)
          v = witnesses_[w].claim(name, t->epoch, milliseconds{lease_ms}, wclk(w));
        else if (t->kind == effect::renew_lease)
          v = witnesses_[w].renew(name, t->epoch, milliseconds{lease_ms}, wclk(w));
        else
          v = witnesses_[w].release(name, t->epoch, wclk(w));
        if (t->kind == effect::claim_epoch && v.granted)
          note("witness " + std::to_string(w) + " grants epoch " + std::to_string(t->epoch) +
               " to " + name);
        if (chance(witness_loss_))
          return;
        at(now_ + static_cast<sim_time>(uniform(1, 60)), [this, i, t, v] {
          if (t->done || isolated_[i])
            return;
          ++t->answered;
          t->granted += v.granted ? 1 : 0;
          t->highest = std::max(t->highest, v.epoch);
          if (!v.granted)
            t->highest_refused = std::max(t->highest_refused, v.epoch);
          if (t->answered == witness_count)
            finish_tally(i, t);
        });
      });
    }
    at(now_ + answer_timeout, [this, i, t] { finish_tally(i, t); });
  }

  void finish_tally(int i, const std::shared_ptr<tally>& t) {
    if (t->done)
      return;
    t->done = true;
    if (!alive(i, t->incarnation))
      return;
    auto& rules = *nodes_[i].rules;
    effects fx;
    if (t->kind == effect::claim_epoch) {
      if (opt_.legacy_claim_glue) {
        fx = rules.on_claim_result(t->epoch, t->granted, clk(i));
        if (t->highest > rules.state().epoch && t->highest != t->epoch)
          for (auto& e : rules.on_higher_epoch(t->highest, "witness", clk(i)))
            fx.push_back(e);
      } else {
        fx = rules.on_claim_tally(t->epoch, t->granted, t->highest, t->highest_refused, clk(i));
      }
    } else if (t->kind == effect::renew_lease) {
      fx = rules.on_renew_result(t->epoch, t->granted, t->sent);
      if (t->highest > rules.state().epoch)
        for (auto& e : rules.on_higher_epoch(t->highest, "witness", clk(i)))
          fx.push_back(e);
    }
    carry_out(i, fx);
  }

  // ---- calls, billing records and replication ----
  void schedule_calls(sim_time from, sim_time until) {
    for (sim_time t = from; t < until; t += static_cast<sim_time>(uniform(20, 120)))
      at(t, [this] { call_attempt(); });
  }

  void call_attempt() {
    for (int i = 0; i < 2; ++i) {
      auto& n = nodes_[i];
      if (!n.up || !n.rules->accepts_new_calls(clk(i)))
        continue;
      auto id = next_record_++;
      n.store.push_back(id);
      check_no_duplicates(i);
      if (!n.rules->peer_alive()) {
        // No standby follows the stream: acknowledged at once, marked single-node.
        acked_alone_.insert(id);
        ++res_.records_acked_alone;
      }
      send_stream(i, id, n.store.size() - 1);
      return; // the call went to one node
    }
  }

  void send_stream(int i, std::uint64_t id, std::size_t index) {
    if (link_cut_[0] || chance(loss_[0]))
      return;
    auto epoch = nodes_[i].rules->state().epoch;
    auto inc = nodes_[i].incarnation;
    int j = 1 - i;
    at(now_ + path_delay(0), [this, i, j, id, index, epoch, inc] {
      auto& s = nodes_[j];
      if (!s.up)
        return;
      auto& rules = *s.rules;
      if (epoch < rules.state().epoch) {
        // Refused with our epoch: the sender learns it (replicator -> on_higher_epoch).
        reply(j, i, [this, i, inc, e = rules.state().epoch] {
          if (alive(i, inc))
            carry_out(i, nodes_[i].rules->on_higher_epoch(e, "replication refusal", clk(i)));
        });
        return;
      }
      if (epoch > rules.state().epoch) {
        carry_out(j, rules.on_higher_epoch(epoch, "replication stream", clk(j)));
        return;
      }
      if (rules.state().current != role::standby || s.awaiting_snapshot)
        return;
      (void)index;
      if (std::find(s.store.begin(), s.store.end(), id) != s.store.end()) {
        // Already held (a retransmission or the snapshot had it): acknowledge again.
        reply(j, i, [this, i, inc, id] {
          if (!alive(i, inc))
            return;
          confirmed_.insert(id);
          if (!acked_alone_.count(id) && acked_both_.insert(id).second)
            ++res_.records_acked;
        });
        return;
      }
      s.store.push_back(id);
      check_no_duplicates(j);
      reply(j, i, [this, i, inc, id] {
        if (!alive(i, inc))
          return;
        confirmed_.insert(id);
        if (!acked_alone_.count(id) && acked_both_.insert(id).second)
          ++res_.records_acked;
      });
    });
  }

  /// A message back over the node link (same loss and delay).
  void reply(int from, int to, std::function<void()> fn) {
    (void)from;
    (void)to;
    if (link_cut_[0] || chance(loss_[0]))
      return;
    at(now_ + path_delay(0), std::move(fn));
  }

  void send_snapshot_request(int i) {
    auto epoch = nodes_[i].rules->state().epoch;
    auto inc = nodes_[i].incarnation;
    int j = 1 - i;
    reply(i, j, [this, i, j, epoch, inc] {
      auto& a = nodes_[j];
      if (!a.up || a.rules->state().current != role::active || a.rules->state().epoch < epoch)
        return;
      auto snapshot = a.store;
      auto a_epoch = a.rules->state().epoch;
      reply(j, i, [this, i, inc, snapshot, a_epoch] {
        if (!alive(i, inc))
          return;
        auto& s = nodes_[i];
        if (a_epoch > s.rules->state().epoch)
          carry_out(i, s.rules->on_higher_epoch(a_epoch, "snapshot", clk(i)));
        if (s.rules->state().current != role::standby || !s.awaiting_snapshot ||
            a_epoch < s.rules->state().epoch)
          return;
        // Billing records are never dropped from an outbox: the snapshot brings the records this
        // node lacks (replicator.hpp: the image + the records after our position).
        for (auto id : snapshot)
          if (std::find(s.store.begin(), s.store.end(), id) == s.store.end())
            s.store.push_back(id);
        s.awaiting_snapshot = false;
        check_no_duplicates(i);
      });
    });
  }

  void check_no_duplicates(int i) {
    auto v = nodes_[i].store;
    std::sort(v.begin(), v.end());
    if (std::adjacent_find(v.begin(), v.end()) != v.end())
      violation("a record is held twice by " + nodes_[i].name);
  }

  void check_one_accepting() {
    bool a = nodes_[0].up && nodes_[0].rules->accepts_new_calls(clk(0));
    bool b = nodes_[1].up && nodes_[1].rules->accepts_new_calls(clk(1));
    if (a && b && !reported_two_accepting_) {
      reported_two_accepting_ = true;
      violation("both nodes accept new calls (epochs " +
                std::to_string(nodes_[0].rules->state().epoch) + ", " +
                std::to_string(nodes_[1].rules->state().epoch) + ")");
    }
  }

  int active_node() const {
    for (int i = 0; i < 2; ++i)
      if (nodes_[i].up && nodes_[i].rules->state().current == role::active)
        return i;
    return -1;
  }

  void check_converged() {
    int actives = 0;
    for (int i = 0; i < 2; ++i)
      actives += nodes_[i].up && nodes_[i].rules->state().current == role::active;
    if (actives != 1) {
      violation("after healing: " + std::to_string(actives) + " active nodes (a " +
                to_string(nodes_[0].rules->state().current) + ", b " +
                to_string(nodes_[1].rules->state().current) + ")");
      return;
    }
    int a = active_node();
    auto& act = nodes_[a];
    auto& sb = nodes_[1 - a];
    if (!act.rules->accepts_new_calls(clk(a)))
      violation("after healing: the active " + act.name + " does not accept new calls");
    if (sb.rules->state().current != role::standby ||
        sb.rules->state().epoch != act.rules->state().epoch)
      violation("after healing: " + sb.name + " is " + to_string(sb.rules->state().current) +
                " in epoch " + std::to_string(sb.rules->state().epoch));
    std::set<std::uint64_t> standby_held(sb.store.begin(), sb.store.end());
    std::size_t missing = 0;
    for (auto id : act.store)
      missing += standby_held.count(id) ? 0 : 1;
    if (sb.awaiting_snapshot || missing > 0)
      violation("after healing: the standby lacks " + std::to_string(missing) +
                " of the active's " + std::to_string(act.store.size()) + " records");
    res_.standby_only_records += static_cast<int>(sb.store.size() + missing - act.store.size());
    std::set<std::uint64_t> held(act.store.begin(), act.store.end());
    for (auto id : acked_both_)
      if (!held.count(id))
        violation("after healing: acknowledged record " + std::to_string(id) +
                  " missing on the active");
  }

  // ---- faults ----
  void schedule_faults(sim_time until) {
    int count = static_cast<int>(uniform(3, 40));
    for (int k = 0; k < count; ++k) {
      auto t = static_cast<sim_time>(uniform(500, static_cast<std::uint64_t>(until)));
      auto kind = uniform(0, 14);
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
      link_cut_[0] = true;
      note("fault: peer link cut");
      break;
    case 1:
      link_cut_[0] = false;
      note("fault: peer link healed");
      break;
    case 2:
      link_cut_[1] = true;
      note("fault: udp path cut");
      break;
    case 3:
      link_cut_[1] = false;
      note("fault: udp path healed");
      break;
    case 4:
      link_cut_[0] = link_cut_[1] = true;
      isolated_[0] = isolated_[1] = chance(0.3);
      note("fault: partition everything");
      break;
    case 5:
      link_cut_[0] = link_cut_[1] = false;
      isolated_[0] = isolated_[1] = false;
      note("fault: heal everything");
      break;
    case 6:
      isolated_[who] = true;
      note("fault: " + nodes_[who].name + " cut from the witnesses");
      break;
    case 7:
      isolated_[who] = false;
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
      at(now_ + amount, [this, who] { start(who); });
      break;
    case 11:
      crash(who);
      break;
    case 12:
      // Forward jump of one node's steady clock (a paused VM catching up): allowed; witnesses'
      // clocks never jump (docs/ha.md).
      nodes_[who].clock_offset += amount;
      note("fault: " + nodes_[who].name + "'s clock jumps +" + std::to_string(amount) + " ms");
      break;
    case 13:
      switchover();
      break;
    default:
      randomize_path(who);
      note("fault: path " + std::to_string(who) + " loss/delay changed");
      break;
    }
  }

  void restart_witness(int w) {
    if (!witness_down_[w])
      return;
    witness_down_[w] = false;
    auto s = witnesses_[w].state();
    s.lease_until = wclk(w) + milliseconds{witness_restart_wait};
    witnesses_[w] = witness_rules{s};
    note("fault: witness " + std::to_string(w) + " restarted");
  }

  void switchover() {
    int a = active_node();
    if (a < 0 || link_cut_[0] || !nodes_[a].rules->peer_alive())
      return; // ha_actor refuses: no peer to hand over to
    note("switchover requested on " + nodes_[a].name);
    carry_out(a, nodes_[a].rules->on_switchover_request(clk(a)));
    int b = 1 - a;
    auto inc = nodes_[b].incarnation;
    reply(a, b, [this, b, inc] {
      if (alive(b, inc))
        carry_out(b, nodes_[b].rules->on_switchover_request(clk(b)));
    });
  }

  void heal_everything() {
    note("heal everything");
    link_cut_[0] = link_cut_[1] = false;
    isolated_[0] = isolated_[1] = false;
    for (int w = 0; w < witness_count; ++w)
      restart_witness(w);
    loss_[0] = loss_[1] = 0.0;
    witness_loss_ = 0.0;
    for (int i = 0; i < 2; ++i)
      if (!nodes_[i].up)
        start(i);
  }

  std::mt19937_64 rng_;
  sim_options opt_;
  sim_result res_;
  std::priority_queue<event, std::vector<event>, later> q_;
  std::uint64_t next_seq_ = 0;
  sim_time now_ = 0;
  node nodes_[2];
  witness_rules witnesses_[witness_count];
  sim_time witness_offset_[witness_count] = {};
  bool witness_down_[witness_count] = {};
  bool link_cut_[2] = {};
  bool isolated_[2] = {};
  double loss_[2] = {};
  sim_time delay_min_[2] = {};
  sim_time delay_max_[2] = {};
  double witness_loss_ = 0.0;
  std::uint64_t next_record_ = 1;
  std::set<std::uint64_t> acked_both_, acked_alone_, lost_alone_;
  std::set<std::uint64_t> confirmed_; ///< records a standby acknowledged holding (not sent again)
  std::map<std::uint64_t, int> active_in_epoch_;
  bool reported_two_accepting_ = false;
  std::deque<std::string> trace_;
};

} // namespace

sim_result run_schedule(std::uint64_t seed, const sim_options& opt) {
  world w{seed, opt};
  return w.run();
}

} // namespace cms::ha::sim
