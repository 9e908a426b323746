#include "actors/billing/billing_outbox.hpp"

#include "actors/type_ids.hpp"
#include "persistence/database.hpp"
#include "persistence/outbox.hpp"
#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace cms::actors {

namespace {

using self_ptr = caf::stateful_actor<billing_outbox_state>*;
using flush_atom = caf::atom_constant<caf::atom("bo_flush")>;
using wait_atom = caf::atom_constant<caf::atom("bo_wait")>;
using prune_atom = caf::atom_constant<caf::atom("bo_prune")>;

class sqlite_billing_writer final : public billing_writer {
public:
  explicit sqlite_billing_writer(const std::filesystem::path& file)
    // A record is acknowledged to the call (then to the standby and the RKS) once its commit
    // returns: by then it must be on disk, not in the page cache (synchronous=FULL; group commit
    // keeps that to one WAL sync per batch).
    : db_(persistence::database::open(file, persistence::acknowledged_writer())),
      outbox_(db_) {}
  std::vector<std::uint64_t> append(const std::vector<billing::billing_record>& batch) override {
    // BEGIN IMMEDIATE: the append reads (dedupe by record id) before it writes. In a deferred
    // transaction a commit by another connection in between (the forwarder marking records sent)
    // makes the write fail at once with SQLITE_BUSY_SNAPSHOT, without waiting: the soak saw about
    // two such failures a minute. Taking the write lock first waits for it instead.
    persistence::transaction tx{db_, persistence::transaction::mode::immediate};
    auto sequences = outbox_.append(batch);
    tx.commit();
    return sequences;
  }
  std::optional<std::uint64_t> sequence_of(const std::string& record_id) override {
    if (auto r = outbox_.find(record_id))
      return r->sequence;
    return std::nullopt;
  }
  void mark_replicated(std::uint64_t sequence) override { outbox_.mark_replicated(sequence); }
  std::uint64_t prune_delivered(std::int64_t older_than_ms, std::size_t limit) override {
    persistence::transaction tx{db_, persistence::transaction::mode::immediate};
    auto n = outbox_.prune_delivered(older_than_ms, limit);
    tx.commit();
    return n;
  }

private:
  persistence::database db_;
  persistence::outbox outbox_;
};

/// Answers the commits waiting for the standby: those up to `sequence`, or (expired_only) those
/// that waited longer than the bound.
void release_waiting(self_ptr self, std::uint64_t sequence, bool expired_only) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto& expired = st.ctx->metrics.registry.get_counter(
    "cms_billing_replication_wait_expired_total",
    "Billing commits answered after the bounded wait without the standby's ack");
  auto it = std::remove_if(st.waiting.begin(), st.waiting.end(), [&](auto& w) {
    bool due = expired_only ? now - w.since >= st.replication_wait : w.sequence <= sequence;
    if (!due)
      return false;
    if (expired_only)
      expired.inc();
    w.promise.deliver(w.sequence);
    return true;
  });
  st.waiting.erase(it, st.waiting.end());
}

void schedule_wait_check(self_ptr self) {
  auto& st = self->state;
  if (st.wait_check_scheduled || st.waiting.empty())
    return;
  st.wait_check_scheduled = true;
  self->delayed_send(self, st.replication_wait / 4, wait_atom::value);
}

/// The billing store alarm: raised by the first failed write (disk full, file locked by another
/// process, I/O error), cleared by the next write that succeeds. Shown as the gauge
/// cms_billing_store_alarm (in /metrics and /status counters) and logged once per transition.
void set_store_alarm(self_ptr self, bool raised, const char* error) {
  auto& st = self->state;
  if (st.store_alarm == raised)
    return;
  st.store_alarm = raised;
  st.ctx->metrics.registry
    .get_gauge("cms_billing_store_alarm",
               "1 while billing records cannot be written to the node's store (kept in memory)")
    .set(raised ? 1 : 0);
  if (raised)
    log::get("billing")->error("event=billing_store_alarm state=raised queued={} error=\"{}\"",
                               st.queued.size(), error);
  else
    log::get("billing")->warn("event=billing_store_alarm state=cleared written={}",
                              st.queued.size());
}

/// The in-memory queue's bound (settings.billing_queue_max): at it, new calls are refused by
/// admission (counted as cms_calls_shed_total{reason="billing_backlog"}) until a write succeeds.
/// Records of calls already up are still queued: an acknowledged record is never dropped, and the
/// calls in progress bound what comes on top (at most three records each).
void note_backlog(self_ptr self) {
  auto& st = self->state;
  bool full = st.queued.size() >= st.ctx->settings.billing_queue_max;
  if (full == st.ctx->admission.billing_backlog())
    return;
  st.ctx->admission.set_billing_backlog(full);
  if (full)
    log::get("billing")->error("event=billing_queue_full queued={} action=refuse_new_calls",
                               st.queued.size());
  else
    log::get("billing")->warn("event=billing_queue_cleared action=accept_new_calls");
}

/// Writes what is queued; false (batch kept) when the store refused it.
bool flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.queued.empty())
    return true;
  try {
    if (!st.writer) // the store could not be opened at start: try again
      st.writer = st.factory();
    auto seqs = st.writer->append(st.queued);
    if (!seqs.empty())
      st.last_sequence = std::max(st.last_sequence, seqs.back());
    if (st.replicator && seqs.size() == st.queued.size()) {
      // Hand the batch to replication with our sequences; commits wait for the standby's ack.
      for (std::size_t i = 0; i < seqs.size(); ++i)
        st.queued[i].sequence = seqs[i];
      auto now = self->clock().now();
      for (auto& [index, rp] : st.queued_commits)
        st.waiting.push_back({seqs[index], std::move(rp), now});
      self->send(st.replicator, atom::repl_billing_v, st.queued);
      schedule_wait_check(self);
    } else {
      for (auto& [index, rp] : st.queued_commits)
        rp.deliver(index < seqs.size() ? seqs[index] : std::uint64_t{0});
    }
    st.queued_commits.clear();
    st.written += st.queued.size();
    ++st.batches;
    st.ctx->metrics.billing_records.inc(st.queued.size());
    st.ctx->metrics.billing_batches.inc();
    set_store_alarm(self, false, "");
    st.queued.clear();
    note_backlog(self);
    return true;
  } catch (const std::exception& e) {
    st.ctx->metrics.billing_errors.inc();
    set_store_alarm(self, true, e.what());
    log::get("billing")->error("event=outbox_write_failed records={} error=\"{}\"",
                               st.queued.size(), e.what());
    st.flush_scheduled = true;
    self->delayed_send(self, std::chrono::seconds{1}, flush_atom::value);
    return false;
  }
}

/// Retention: one bounded chunk of delivered records older than the retention goes; a full chunk
/// means more are due, so the next one follows after a second instead of a whole interval.
void prune(self_ptr self) {
  auto& st = self->state;
  auto& s = st.ctx->settings;
  if (s.billing_retention.count() <= 0)
    return;
  auto next = s.billing_prune_interval;
  try {
    if (!st.writer)
      st.writer = st.factory();
    auto cutoff = utc_ms() - s.billing_retention.count();
    auto n = st.writer->prune_delivered(cutoff, s.billing_prune_chunk);
    st.ctx->metrics.registry
      .get_counter("cms_billing_pruned_total",
                   "Delivered billing records deleted from the local store after the retention")
      .inc(n);
    if (n > 0)
      log::get("billing")->info("event=billing_pruned records={} older_than_ms={}", n, cutoff);
    if (n >= s.billing_prune_chunk)
      next = std::min<std::chrono::milliseconds>(next, std::chrono::seconds{1});
  } catch (const std::exception& e) {
    // Disk trouble: the write path raises the alarm; retention just tries again later.
    log::get("billing")->warn("event=billing_prune_failed error=\"{}\"", e.what());
  }
  self->delayed_send(self, next, prune_atom::value);
}

} // namespace

std::unique_ptr<billing_writer> make_sqlite_billing_writer(const std::filesystem::path& db_file) {
  return std::make_unique<sqlite_billing_writer>(db_file);
}

caf::behavior billing_outbox(self_ptr self, std::shared_ptr<call_context> ctx,
                             billing_writer_factory factory) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.factory = std::move(factory);
  // Registered (at 0) from the start, so that dashboards see the alarm's absence too.
  st.ctx->metrics.registry
    .get_gauge("cms_billing_store_alarm",
               "1 while billing records cannot be written to the node's store (kept in memory)")
    .set(0);
  try {
    st.writer = st.factory();
  } catch (const std::exception& e) {
    // Records queue up and the retry loop reports the problem; the node keeps taking calls.
    log::get("billing")->error("event=outbox_open_failed error=\"{}\"", e.what());
  }
  self->set_exit_handler([self](caf::exit_msg& msg) {
    flush(self);
    self->quit(msg.reason);
  });
  if (st.ctx->settings.billing_retention.count() > 0)
    self->delayed_send(self, st.ctx->settings.billing_prune_interval, prune_atom::value);
  return {
    [self](prune_atom) { prune(self); },
    [self](billing::billing_record& r) {
      auto& st = self->state;
      st.queued.push_back(std::move(r));
      note_backlog(self);
      if (st.queued.size() >= st.ctx->settings.billing_batch_max) {
        flush(self);
      } else if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->delayed_send(self, st.ctx->settings.billing_batch_window, flush_atom::value);
      }
    },
    [self](flush_atom) { flush(self); },
    [self](atom::record_sequence, const std::string& record_id) -> std::uint64_t {
      auto& st = self->state;
      // Records arrive in order from each call, so the caller's record is stored or queued here.
      bool queued = std::any_of(st.queued.begin(), st.queued.end(),
                                [&](auto& r) { return r.record_id == record_id; });
      if ((queued && !flush(self)) || !st.writer)
        return 0;
      try {
        return st.writer->sequence_of(record_id).value_or(0);
      } catch (const std::exception& e) {
        log::get("billing")->warn("event=record_lookup_failed record={} error=\"{}\"", record_id,
                                  e.what());
        return 0;
      }
    },
    [self](atom::commit, billing::billing_record& r) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      if (!st.replicator) {
        // A lone node: answered when queued, as for a plain record.
        self->send(self, std::move(r));
        return std::uint64_t{0};
      }
      auto rp = self->make_response_promise<std::uint64_t>();
      st.queued_commits.emplace_back(st.queued.size(), rp);
      st.queued.push_back(std::move(r));
      note_backlog(self);
      if (st.queued.size() >= st.ctx->settings.billing_batch_max) {
        flush(self);
      } else if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->delayed_send(self, st.ctx->settings.billing_batch_window, flush_atom::value);
      }
      return rp;
    },
    [self](atom::repl_attach, const caf::actor& replicator) {
      self->state.replicator = replicator;
    },
    [self](atom::repl_acked, std::uint64_t sequence, bool on_both) {
      auto& st = self->state;
      if (on_both) {
        try {
          if (st.writer)
            st.writer->mark_replicated(sequence);
        } catch (const std::exception& e) {
          log::get("billing")->warn("event=mark_replicated_failed sequence={} error=\"{}\"",
                                    sequence, e.what());
        }
      } else {
        auto n = std::count_if(st.waiting.begin(), st.waiting.end(),
                               [&](auto& w) { return w.sequence <= sequence; });
        st.ctx->metrics.registry
          .get_counter("cms_billing_acked_single_node_total",
                       "Billing commits acknowledged while the standby was absent (this node only)")
          .inc(static_cast<std::uint64_t>(n));
      }
      release_waiting(self, sequence, false);
    },
    [self](wait_atom) {
      self->state.wait_check_scheduled = false;
      release_waiting(self, 0, true);
      schedule_wait_check(self);
    },
    [self](atom::status) -> std::string {
      auto& st = self->state;
      boost::json::object o;
      o["written"] = st.written;
      o["batches"] = st.batches;
      o["queued"] = st.queued.size();
      o["last_sequence"] = st.last_sequence;
      o["store_alarm"] = st.store_alarm;
      return boost::json::serialize(o);
    },
  };
}

} // namespace cms::actors
