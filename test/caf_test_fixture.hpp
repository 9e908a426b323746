#pragma once
// A CAF actor system on the deterministic test scheduler: no threads, no sleeping; tests run the
// scheduler by hand and advance the actor clock (a 30 s timer fires at once).

#include "actors/type_ids.hpp"

#include <caf/all.hpp>

#include <gtest/gtest.h>

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
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  /// Sends a request from a throw-away actor and returns the reply (or the error) after running
  /// the scheduler to quiescence.
  template <class Result, class... Ts>
  caf::expected<Result> ask(const caf::actor& dest, Ts&&... xs) {
    caf::expected<Result> out{caf::sec::request_timeout};
    auto msg = caf::make_message(std::forward<Ts>(xs)...);
    sys.spawn([&, msg](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, msg)
        .then([&](Result r) { out = std::move(r); }, [&](caf::error& e) { out = std::move(e); });
    });
    sched.run();
    return out;
  }

  void TearDown() override { sched.run(); }
};

} // namespace cms::test
