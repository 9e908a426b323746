#pragma once
// A CAF actor system on the deterministic test scheduler: no threads, no sleeping; tests run the
// scheduler by hand and advance the actor clock (a 30 s timer fires at once).

#include "actors/type_ids.hpp"

#include <caf/all.hpp>

#include <gtest/gtest.h>

#include <memory>

namespace cms::test {

struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    add_message_types<caf::id_block::cms>();
  }
};

class caf_fixture : public ::testing::Test {
protected:
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  /// Sends a request from a throw-away actor and returns the reply (or the error) after running
  /// the scheduler to quiescence.
  template <class Result, class... Ts>
  caf::expected<Result> ask(const caf::actor& dest, Ts&&... xs) {
    auto out = std::make_shared<caf::expected<Result>>(caf::sec::request_timeout);
    // The requester takes its inputs as spawn arguments: CAF 0.17 dereferences a null message
    // tuple (UBSan) when a lambda actor is spawned without any.
    sys.spawn(
      [](caf::event_based_actor* self, caf::actor dest, caf::message msg,
         std::shared_ptr<caf::expected<Result>> out) {
        self->request(dest, caf::infinite, std::move(msg))
          .then([out](Result r) { *out = std::move(r); },
                [out](caf::error& e) { *out = std::move(e); });
      },
      dest, caf::make_message(std::forward<Ts>(xs)...), out);
    sched.run();
    return std::move(*out);
  }

  void TearDown() override { sched.run(); }
};

} // namespace cms::test
