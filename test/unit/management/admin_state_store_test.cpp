// admin_state_store on a real SQLite file: what is saved comes back after reopening the store,
// returned objects and an undrain leave no row, and restore puts the saved states (with their
// original time and reason) into the drain switch and the registry.

#include "persistence/database.hpp"
#include "runtime/node/admin_state_store.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

namespace cms {
namespace {

TEST(admin_state_store, saved_states_come_back_after_reopening_the_store) {
  test::temp_dir dir;
  auto file = dir.path() / "cms.db";
  {
    auto db = persistence::database::open(file);
    admin_state_store store{db};
    store.save_drain({true, 1700000000123, "night maintenance"});
    store.save(admin_object::data_link, {"dl-backup", true, 1700000000200, "carrier ticket"});
    store.save(admin_object::gateway, {"tgw-l1.local.example", true, 1700000000300, "card swap"});
    store.save(admin_object::gateway, {"tgw-l2.local.example", true, 1700000000400, "x"});
    store.save(admin_object::gateway, {"tgw-l2.local.example", false, 1700000000500, "back"});
  }
  auto db = persistence::database::open(file);
  auto saved = admin_state_store{db}.load();
  ASSERT_TRUE(saved.drain);
  EXPECT_TRUE(saved.drain->draining);
  EXPECT_EQ(saved.drain->since_ms, 1700000000123);
  EXPECT_EQ(saved.drain->reason, "night maintenance");
  ASSERT_EQ(saved.out_of_service.size(), 2u) << "a returned gateway leaves no row";

  admission drain;
  admin_state_registry registry;
  auto lines = restore_admin_states(saved, drain, registry);
  EXPECT_EQ(lines.size(), 3u);
  EXPECT_TRUE(drain.draining());
  EXPECT_FALSE(drain.accepting_new_calls());
  EXPECT_EQ(drain.get().since_ms, 1700000000123);
  EXPECT_TRUE(registry.is_out_of_service(admin_object::data_link, "dl-backup"));
  auto gw = registry.get(admin_object::gateway, "tgw-l1.local.example");
  EXPECT_TRUE(gw.out_of_service);
  EXPECT_EQ(gw.since_ms, 1700000000300);
  EXPECT_EQ(gw.reason, "card swap");
  EXPECT_FALSE(registry.is_out_of_service(admin_object::gateway, "tgw-l2.local.example"));

  admin_state_store{db}.save_drain({false, 1700000000600, "done"});
  EXPECT_FALSE(admin_state_store{db}.load().drain);
}

TEST(admin_state_store, a_store_without_saved_states_restores_nothing) {
  test::temp_dir dir;
  auto db = persistence::database::open(dir.path() / "cms.db");
  admission drain;
  admin_state_registry registry;
  EXPECT_TRUE(restore_admin_states(admin_state_store{db}.load(), drain, registry).empty());
  EXPECT_TRUE(drain.accepting_new_calls());
}

} // namespace
} // namespace cms
