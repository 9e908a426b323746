#include "persistence/database.hpp"

#include "store_fixture.hpp"

#include <sqlite3.h>

#include <gtest/gtest.h>

using namespace cms::persistence;
using cms::test::read_bytes;
using cms::test::write_bytes;

namespace {

class database_test : public cms::test::store_fixture {
protected:
  /// Opens `db_path_` and expects a store_error of `code`; returns its message.
  std::string refused(store_errc code, const open_options& options = {}) {
    try {
      database::open(db_path_, options);
    } catch (const store_error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "database was accepted";
    return {};
  }

  /// A raw SQLite connection, as another process would hold it.
  struct raw {
    sqlite3* db = nullptr;
    explicit raw(const std::filesystem::path& p) {
      EXPECT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
    }
    ~raw() { sqlite3_close(db); }
    int exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }
  };

  std::vector<migration> two_steps = {
    {1, "first", "CREATE TABLE a (x INTEGER);"},
    {2, "second", "CREATE TABLE b (y TEXT); INSERT INTO b VALUES ('two');"},
  };
};

TEST_F(database_test, fresh_database_is_created_in_wal_mode_at_latest_version) {
  auto db = database::open(db_path_);
  EXPECT_TRUE(std::filesystem::exists(db_path_));
  EXPECT_EQ(db.schema_version(), latest_schema_version());
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.column_text(0), "wal");
  auto fk = db.prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.step());
  EXPECT_EQ(fk.column_int(0), 1);
  auto sync = db.prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.step());
  EXPECT_EQ(sync.column_int(0), 1); // NORMAL
  auto app = db.prepare("PRAGMA application_id");
  ASSERT_TRUE(app.step());
  EXPECT_EQ(app.column_int(0), cms_application_id);
  for (const char* table :
       {"subscribers", "carriers", "gateways", "facilities", "trunk_groups", "trunk_group_members",
        "routes", "data_links", "billing_outbox", "ha_meta", "actor_state"}) {
    auto st = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?");
    st.bind(1, table);
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.column_int(0), 1) << table;
  }
}

TEST_F(database_test, reopen_keeps_data_and_applies_nothing) {
  {
    auto db = database::open(db_path_);
    db.exec("INSERT INTO carriers VALUES ('c1', 'Carrier One')");
  }
  auto db = database::open(db_path_);
  EXPECT_EQ(db.schema_version(), latest_schema_version());
  auto st = db.prepare("SELECT name FROM carriers WHERE id = 'c1'");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_text(0), "Carrier One");
}

TEST_F(database_test, migrations_apply_incrementally) {
  std::vector<migration> one = {two_steps[0]};
  {
    auto db = database::open(db_path_, {std::chrono::milliseconds(500), &one});
    EXPECT_EQ(db.schema_version(), 1);
    db.exec("INSERT INTO a VALUES (42)");
  }
  auto db = database::open(db_path_, {std::chrono::milliseconds(500), &two_steps});
  EXPECT_EQ(db.schema_version(), 2);
  auto st = db.prepare("SELECT (SELECT x FROM a), (SELECT y FROM b)");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_int(0), 42);
  EXPECT_EQ(st.column_text(1), "two");
  EXPECT_EQ(apply_migrations(db, two_steps), 0);
}

TEST_F(database_test, failed_migration_leaves_previous_version) {
  auto steps = two_steps;
  steps.push_back({3, "broken", "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);"});
  auto msg = refused(store_errc::migration_failed, {std::chrono::milliseconds(500), &steps});
  EXPECT_NE(msg.find("migration 3 (broken)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("left at version 2"), std::string::npos) << msg;
  auto db = database::open(db_path_, {std::chrono::milliseconds(500), &two_steps});
  EXPECT_EQ(db.schema_version(), 2);
  auto st = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'c'");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_int(0), 0); // step 3's first statement was rolled back too
}

TEST_F(database_test, newer_schema_is_refused_and_file_unchanged) {
  { database::open(db_path_, {std::chrono::milliseconds(500), &two_steps}); }
  const auto before = read_bytes(db_path_);
  std::vector<migration> one = {two_steps[0]};
  auto msg = refused(store_errc::newer_schema, {std::chrono::milliseconds(500), &one});
  EXPECT_NE(msg.find("schema version 2 is newer"), std::string::npos) << msg;
  EXPECT_NE(msg.find(db_path_.string()), std::string::npos) << msg;
  EXPECT_EQ(read_bytes(db_path_), before);
}

TEST_F(database_test, non_database_file_is_refused_and_unchanged) {
  const std::string text = "this is not an SQLite database, just an operator's notes\n";
  write_bytes(db_path_, std::string(8192, 'x') + text);
  const auto before = read_bytes(db_path_);
  auto msg = refused(store_errc::not_a_database);
  EXPECT_NE(msg.find(db_path_.string()), std::string::npos) << msg;
  EXPECT_EQ(read_bytes(db_path_), before);
}

TEST_F(database_test, corrupt_database_is_refused_and_unchanged) {
  {
    auto db = database::open(db_path_);
    transaction tx(db);
    auto st = db.prepare("INSERT INTO subscribers (directory_number, endpoint_name, mta_fqdn, "
                         "mta_address) VALUES (?, ?, 'mta.example', '127.0.0.9')");
    for (int i = 0; i < 2000; ++i) {
      st.reset();
      st.bind_all(std::to_string(5550000 + i), "aaln/1@mta-" + std::to_string(i) + ".example");
      st.run();
    }
    tx.commit();
  } // closing the last connection checkpoints the WAL into the main file
  auto bytes = read_bytes(db_path_);
  ASSERT_GT(bytes.size(), 16u * 4096u);
  // Smash the middle of the file: b-tree pages of the subscriber table and its indexes.
  for (std::size_t i = 8 * 4096; i < 12 * 4096; ++i)
    bytes[i] = static_cast<char>(0xA5);
  write_bytes(db_path_, bytes);
  auto msg = refused(store_errc::corrupt);
  EXPECT_NE(msg.find("corrupt"), std::string::npos) << msg;
  EXPECT_EQ(read_bytes(db_path_), bytes);
}

TEST_F(database_test, foreign_sqlite_database_is_refused) {
  {
    raw other(db_path_);
    ASSERT_EQ(other.exec("CREATE TABLE stuff (x); INSERT INTO stuff VALUES (1);"), SQLITE_OK);
  }
  const auto before = read_bytes(db_path_);
  auto msg = refused(store_errc::not_a_database);
  EXPECT_NE(msg.find("not created by cmsd"), std::string::npos) << msg;
  EXPECT_EQ(read_bytes(db_path_), before);
}

TEST_F(database_test, writer_lock_held_elsewhere_is_refused_after_busy_timeout) {
  { database::open(db_path_); }
  raw other(db_path_);
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE; INSERT INTO carriers VALUES ('x', 'X');"), SQLITE_OK);
  auto msg = refused(store_errc::locked, {std::chrono::milliseconds(100), nullptr});
  EXPECT_NE(msg.find("locked"), std::string::npos) << msg;
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
  auto db = database::open(db_path_); // usable once the other writer is gone
  EXPECT_EQ(db.schema_version(), latest_schema_version());
}

TEST_F(database_test, exclusive_lock_blocks_even_the_read_only_check) {
  { database::open(db_path_); }
  raw other(db_path_);
  ASSERT_EQ(other.exec("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; "
                       "INSERT INTO carriers VALUES ('x', 'X'); COMMIT;"),
            SQLITE_OK);
  auto msg = refused(store_errc::locked, {std::chrono::milliseconds(100), nullptr});
  EXPECT_NE(msg.find(db_path_.string()), std::string::npos) << msg;
}

TEST_F(database_test, missing_directory_is_an_io_error) {
  db_path_ = dir_ / "no-such-dir" / "cms.db";
  auto msg = refused(store_errc::io);
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_FALSE(std::filesystem::exists(db_path_.parent_path()));
}

TEST_F(database_test, statement_binds_and_reads_every_type) {
  auto db = database::open(db_path_);
  db.exec("CREATE TEMP TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)");
  auto ins = db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)");
  std::optional<std::string> none;
  ins.bind_all(std::int64_t{-7}, 2.5, std::string("text\0with nul", 13), blob{}, none);
  EXPECT_EQ(ins.run(), 1);
  auto sel = db.prepare("SELECT i, d, s, b, typeof(b), n FROM t");
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.column_int64(0), -7);
  EXPECT_DOUBLE_EQ(sel.column_double(1), 2.5);
  EXPECT_EQ(sel.column_text(2), std::string("text\0with nul", 13));
  EXPECT_TRUE(sel.column_blob(3).empty());
  EXPECT_EQ(sel.column_text(4), "blob");
  EXPECT_TRUE(sel.is_null(5));
  EXPECT_FALSE(sel.column_optional_text(5).has_value());
  EXPECT_FALSE(sel.step());

  auto big = db.prepare("SELECT ?");
  EXPECT_THROW(big.bind(1, std::uint64_t{1} << 63), store_error);
  EXPECT_THROW(db.prepare("SELECT FROM nowhere"), store_error);
}

TEST_F(database_test, transaction_rolls_back_unless_committed) {
  auto db = database::open(db_path_);
  try {
    transaction tx(db);
    db.exec("INSERT INTO carriers VALUES ('c1', 'One')");
    throw std::runtime_error("call setup failed");
  } catch (const std::runtime_error&) {}
  {
    transaction tx(db);
    db.exec("INSERT INTO carriers VALUES ('c2', 'Two')");
    {
      savepoint inner(db, "inner");
      db.exec("INSERT INTO carriers VALUES ('c3', 'Three')");
    } // not released: only c3 is undone
    tx.commit();
  }
  auto st = db.prepare("SELECT group_concat(id) FROM (SELECT id FROM carriers ORDER BY id)");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_text(0), "c2");
}

TEST_F(database_test, constraint_violation_is_classified) {
  auto db = database::open(db_path_);
  db.exec("INSERT INTO carriers VALUES ('c1', 'One')");
  try {
    db.exec("INSERT INTO carriers VALUES ('c1', 'Again')");
    FAIL() << "duplicate accepted";
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::constraint) << e.what();
  }
}

} // namespace
