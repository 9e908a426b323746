#include "persistence/ha_store.hpp"

#include "store_fixture.hpp"

#include <gtest/gtest.h>

using namespace cms::persistence;

namespace {

using ha_store_test = cms::test::store_fixture;

TEST_F(ha_store_test, epoch_starts_at_zero_and_survives_reopen) {
  {
    auto db = database::open(db_path_);
    ha_store ha(db);
    EXPECT_EQ(ha.epoch(), 0u);
    EXPECT_EQ(ha.increment_epoch(), 1u);
    ha.set_epoch(7);
    EXPECT_EQ(ha.epoch(), 7u);
  }
  auto db = database::open(db_path_);
  ha_store ha(db);
  EXPECT_EQ(ha.epoch(), 7u);
  EXPECT_EQ(ha.increment_epoch(), 8u);
}

TEST_F(ha_store_test, epoch_never_goes_backwards) {
  auto db = database::open(db_path_);
  ha_store ha(db);
  ha.set_epoch(5);
  ha.set_epoch(5); // adopting the same epoch again is fine
  try {
    ha.set_epoch(4);
    FAIL() << "epoch went backwards";
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::constraint);
  }
  EXPECT_EQ(ha.epoch(), 5u);
}

TEST_F(ha_store_test, epoch_change_rolls_back_with_callers_transaction) {
  auto db = database::open(db_path_);
  ha_store ha(db);
  {
    transaction tx(db);
    ha.increment_epoch();
  }
  EXPECT_EQ(ha.epoch(), 0u);
}

TEST_F(ha_store_test, actor_state_keeps_the_newest_snapshot) {
  auto db = database::open(db_path_);
  ha_store ha(db);
  EXPECT_TRUE(ha.save_state({"call", "c1", {1, 2, 3}, 1, 1}));
  EXPECT_TRUE(ha.save_state({"call", "c1", {4}, 1, 2}));
  EXPECT_FALSE(ha.save_state({"call", "c1", {9}, 1, 1}));  // stale: older seq
  EXPECT_FALSE(ha.save_state({"call", "c1", {9}, 0, 50})); // stale: older epoch
  EXPECT_TRUE(ha.save_state({"call", "c2", {}, 1, 1}));
  EXPECT_TRUE(ha.save_state({"registration", "aaln/1@mta-0001.cable.example", {7}, 1, 1}));

  auto c1 = ha.load_state("call", "c1");
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->data, blob({4}));
  EXPECT_EQ(c1->seq, 2u);
  EXPECT_TRUE(ha.save_state({"call", "c1", {5}, 2, 1})); // a new epoch wins even with seq 1
  EXPECT_EQ(ha.load_state("call", "c1")->data, blob({5}));

  auto calls = ha.load_states("call");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].key, "c1");
  EXPECT_TRUE(calls[1].data.empty());
  EXPECT_TRUE(ha.erase_state("call", "c2"));
  EXPECT_FALSE(ha.erase_state("call", "c2"));
  EXPECT_FALSE(ha.load_state("call", "c2"));
  EXPECT_EQ(ha.load_states("registration").size(), 1u);
}

} // namespace
