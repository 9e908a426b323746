#include "actors/supervision/supervisor.hpp"

#include "caf_test_fixture.hpp"

#include <memory>

using namespace cms;
using namespace std::chrono_literals;

namespace {

/// A worker that doubles integers and dies with an error when given 0.
caf::behavior worker(caf::event_based_actor* self, std::shared_ptr<int> starts) {
  ++*starts;
  return {[self](int x) -> caf::result<int> {
    if (x == 0) {
      self->quit(caf::sec::runtime_error);
      return caf::sec::runtime_error;
    }
    return x * 2;
  }};
}

actors::child_spec worker_spec(std::shared_ptr<int> starts, actors::restart_policy p) {
  return {"worker", [starts](caf::event_based_actor* self) { return self->spawn(worker, starts); },
          p};
}

class supervisor_test : public test::caf_fixture {
protected:
  metrics::registry registry;
  std::shared_ptr<int> starts = std::make_shared<int>(0);

  caf::actor spawn_sup(actors::restart_policy p, actors::restart_intensity i = {2, 10s}) {
    auto sup = sys.spawn(actors::supervisor, std::string{"root"},
                         std::vector<actors::child_spec>{worker_spec(starts, p)}, i, &registry);
    sched.run();
    return sup;
  }

  caf::actor current_worker(const caf::actor& sup) {
    auto h = ask<caf::actor>(sup, atom::lookup_v, std::string{"worker"});
    return h ? *h : caf::actor{};
  }

  void crash(const caf::actor& w) {
    caf::anon_send(w, 0);
    sched.run();
  }
};

TEST_F(supervisor_test, restarts_a_crashed_child_with_a_new_handle) {
  auto sup = spawn_sup(actors::restart_policy::permanent);
  auto first = current_worker(sup);
  ASSERT_TRUE(first);
  crash(first);
  auto second = current_worker(sup);
  ASSERT_TRUE(second);
  EXPECT_NE(first, second);
  EXPECT_EQ(*starts, 2);
  auto doubled = ask<int>(second, 21);
  ASSERT_TRUE(doubled);
  EXPECT_EQ(*doubled, 42);
  EXPECT_EQ(
    registry.value("cms_supervisor_restarts_total", {{"supervisor", "root"}, {"child", "worker"}}),
    1);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

TEST_F(supervisor_test, escalates_when_the_restart_budget_is_spent) {
  auto sup = spawn_sup(actors::restart_policy::permanent, {2, 10s});
  caf::error sup_reason;
  bool sup_down = false;
  sup->attach_functor([&](const caf::error& reason) {
    sup_down = true;
    sup_reason = reason;
  });
  crash(current_worker(sup));
  crash(current_worker(sup));
  EXPECT_FALSE(sup_down);
  crash(current_worker(sup)); // third crash within 10 s: budget of 2 exceeded
  EXPECT_TRUE(sup_down);
  EXPECT_EQ(sup_reason, caf::make_error(caf::sec::runtime_error));
  EXPECT_EQ(registry.value("cms_supervisor_escalations_total", {{"supervisor", "root"}}), 1);
}

TEST_F(supervisor_test, restarts_spread_over_time_stay_within_budget) {
  auto sup = spawn_sup(actors::restart_policy::permanent, {2, 10s});
  bool sup_down = false;
  sup->attach_functor([&](const caf::error&) { sup_down = true; });
  for (int i = 0; i < 6; ++i) {
    crash(current_worker(sup));
    sched.advance_time(6s); // older restarts leave the 10 s window
  }
  EXPECT_FALSE(sup_down);
  EXPECT_EQ(*starts, 7);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

TEST_F(supervisor_test, temporary_child_is_not_restarted) {
  auto sup = spawn_sup(actors::restart_policy::temporary);
  crash(current_worker(sup));
  EXPECT_FALSE(current_worker(sup));
  EXPECT_EQ(*starts, 1);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

TEST_F(supervisor_test, nested_supervisor_escalation_restarts_the_subtree) {
  auto inner = actors::supervisor_child(
    "trunks", {worker_spec(starts, actors::restart_policy::permanent)}, {1, 10s}, &registry);
  auto root =
    sys.spawn(actors::supervisor, std::string{"root"}, std::vector<actors::child_spec>{inner},
              actors::restart_intensity{3, 10s}, &registry);
  sched.run();
  auto sub = ask<caf::actor>(root, atom::lookup_v, std::string{"trunks"});
  ASSERT_TRUE(sub);
  auto w = ask<caf::actor>(*sub, atom::lookup_v, std::string{"worker"});
  crash(*w);
  w = ask<caf::actor>(*sub, atom::lookup_v, std::string{"worker"});
  crash(*w); // inner budget (1) spent: inner supervisor escalates, root restarts it
  auto sub2 = ask<caf::actor>(root, atom::lookup_v, std::string{"trunks"});
  ASSERT_TRUE(sub2);
  EXPECT_NE(*sub, *sub2);
  EXPECT_EQ(*starts, 3); // original, one restart, fresh subtree
  EXPECT_EQ(
    registry.value("cms_supervisor_restarts_total", {{"supervisor", "root"}, {"child", "trunks"}}),
    1);
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
}

TEST_F(supervisor_test, children_report_lists_restarts) {
  auto sup = spawn_sup(actors::restart_policy::permanent);
  crash(current_worker(sup));
  auto report = ask<std::string>(sup, atom::children_v);
  ASSERT_TRUE(report);
  EXPECT_NE(report->find("\"restarts\":1"), std::string::npos) << *report;
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

} // namespace
