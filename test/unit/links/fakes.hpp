#pragma once
// Fakes for the deterministic link and forwarder tests: a probe transport that only records the
// probes (the test decides which are answered), a subscriber that keeps what it was told, and an
// RKS sender whose batches the test completes by hand.

#include "actors/billing/billing_forwarder.hpp"
#include "actors/links/data_link.hpp"
#include "actors/type_ids.hpp"

#include <caf/all.hpp>

#include <memory>
#include <vector>

namespace cms::test {

struct fake_transport final : links::probe_transport {
  struct probe {
    caf::actor reply_to;
    std::uint64_t seq;
  };
  std::vector<probe> sent;
  void send_probe(const caf::actor& reply_to, std::uint64_t seq) override {
    sent.push_back({reply_to, seq});
  }
  /// Answers the most recent probe, as the far end would.
  void answer_last() { caf::anon_send(sent.back().reply_to, atom::probe_ack_v, sent.back().seq); }
};

using status_log = std::shared_ptr<std::vector<links::link_status>>;

/// An actor that appends every (link_changed, status) it receives to `log`.
inline caf::behavior recording_subscriber(caf::event_based_actor*, status_log log) {
  return {[log](atom::link_changed, const links::link_status& s) { log->push_back(s); }};
}

struct fake_sender final : billing::rks_sender {
  struct batch {
    billing::rks_endpoint to;
    std::vector<billing::billing_record> records;
    std::function<void(billing::send_result)> done;
  };
  std::vector<batch> batches;
  void send(const billing::rks_endpoint& to, std::vector<billing::billing_record> records,
            std::function<void(billing::send_result)> done) override {
    batches.push_back({to, std::move(records), std::move(done)});
  }
  /// Completes batch `i` the way radius_sender does when every EM was answered (or none).
  void ack(std::size_t i) {
    auto& b = batches.at(i);
    b.done({true, b.records.back().sequence, {}});
  }
  void fail(std::size_t i, const std::string& why = "no answer from either RKS") {
    batches.at(i).done({false, 0, why});
  }
};

/// Like caf_fixture::ask, but the helper actor gets its inputs as spawn arguments: CAF 0.17's
/// init_fun_factory dereferences a null tuple pointer for argument-less lambdas, which UBSan
/// reports (caf_fixture::ask trips it).
template <class Result>
caf::expected<Result> request_now(caf::actor_system& sys, caf::scheduler::test_coordinator& sched,
                                  const caf::actor& dest, caf::message msg) {
  auto out = std::make_shared<caf::expected<Result>>(caf::sec::request_timeout);
  sys.spawn(
    [](caf::event_based_actor* self, caf::actor dest, caf::message msg,
       std::shared_ptr<caf::expected<Result>> out) {
      self->request(dest, caf::infinite, std::move(msg))
        .then([out](Result r) { *out = std::move(r); },
              [out](caf::error& e) { *out = std::move(e); });
    },
    dest, std::move(msg), out);
  sched.run();
  return std::move(*out);
}

} // namespace cms::test
