#include "persistence/provisioning_import.hpp"

#include "persistence/database.hpp"
#include "store_fixture.hpp"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

using namespace cms::persistence;
using cms::test::read_bytes;
using cms::test::write_bytes;

namespace {

const std::filesystem::path repo_file =
  std::filesystem::path(CMS_SOURCE_DIR) / "config" / "provisioning.toml";

/// Every provisioning row as text, to prove "nothing changed" beyond what the structs show.
std::string dump(database& db) {
  std::string out;
  for (const char* t : {"carriers", "gateways", "facilities", "trunk_groups", "trunk_group_members",
                        "routes", "data_links", "subscribers"}) {
    auto st = db.prepare(std::string("SELECT * FROM ") + t + " ORDER BY 1, 2");
    while (st.step()) {
      out += t;
      for (int i = 0; i < st.column_count(); ++i)
        out += "|" + (st.is_null(i) ? std::string("NULL") : st.column_text(i));
      out += "\n";
    }
  }
  return out;
}

class provisioning_import_test : public cms::test::store_fixture {
protected:
  /// The repository's file with `from` replaced by `to` (which must occur).
  std::filesystem::path variant(const std::string& from, const std::string& to) {
    auto text = read_bytes(repo_file);
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
      text.replace(at, from.size(), to);
    auto p = dir_ / "provisioning.toml";
    write_bytes(p, text);
    return p;
  }

  /// Line (1-based) of the first occurrence of `needle` in `file`.
  static std::uint32_t line_of(const std::filesystem::path& file, const std::string& needle) {
    auto text = read_bytes(file);
    auto at = text.find(needle);
    EXPECT_NE(at, std::string::npos) << needle;
    return static_cast<std::uint32_t>(std::count(text.begin(), text.begin() + at, '\n') + 1);
  }

  /// Imports `file` into `db` and expects a provisioning_error on `field` at `line`.
  provisioning_error refused(database& db, const std::filesystem::path& file,
                             const std::string& field, std::uint32_t line) {
    try {
      import_provisioning(db, file);
    } catch (const provisioning_error& e) {
      EXPECT_EQ(e.field(), field) << e.what();
      EXPECT_EQ(e.line(), line) << e.what();
      EXPECT_EQ(e.file(), file.string());
      std::string prefix = file.string() + ":" + std::to_string(line) + ": " + field + ": ";
      EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what();
      return e;
    }
    ADD_FAILURE() << "import accepted";
    return provisioning_error("", 0, "", "");
  }
};

TEST_F(provisioning_import_test, repository_file_imports_completely) {
  auto db = database::open(db_path_);
  auto report = import_provisioning(db, repo_file);
  EXPECT_EQ(report.tables.at("subscribers").inserted, 20);
  EXPECT_EQ(report.tables.at("carriers").inserted, 2);
  EXPECT_EQ(report.tables.at("gateways").inserted, 5);
  EXPECT_TRUE(report.changed());

  auto p = provisioning_store(db).load_all();
  ASSERT_EQ(p.subscribers.size(), 20u);
  EXPECT_EQ(p.subscribers.front().directory_number, "5551001");
  EXPECT_EQ(p.subscribers.front().endpoint_name, "aaln/1@mta-0001.cable.example");
  EXPECT_EQ(p.subscribers[1].endpoint_name, "aaln/2@mta-0001.cable.example");
  EXPECT_EQ(p.subscribers.back().endpoint_name, "aaln/2@mta-0010.cable.example");
  EXPECT_EQ(p.carriers.size(), 2u);

  int spares = 0;
  for (const auto& g : p.gateways)
    spares += g.role == "cold_spare";
  EXPECT_EQ(spares, 1);

  // Every facility's backup exists and is on the other carrier.
  std::map<std::string, std::string> carrier_of;
  for (const auto& f : p.facilities)
    carrier_of[f.id] = f.carrier;
  for (const auto& f : p.facilities) {
    ASSERT_TRUE(f.backup_facility) << f.id;
    EXPECT_NE(carrier_of.at(*f.backup_facility), f.carrier) << f.id;
  }
  // Routes come longest prefix first; the default route is last.
  ASSERT_FALSE(p.routes.empty());
  EXPECT_EQ(p.routes.front().prefix, "011");
  EXPECT_EQ(p.routes.back().prefix, "");
  auto local = std::find_if(p.trunk_groups.begin(), p.trunk_groups.end(),
                            [](const trunk_group& g) { return g.id == "tg-local"; });
  ASSERT_NE(local, p.trunk_groups.end());
  ASSERT_EQ(local->members.size(), 3u);
  EXPECT_EQ(local->members[0].facility, "l1-pri-1");
  EXPECT_EQ(p.data_links.size(), 2u);
  EXPECT_EQ(provisioning_store(db).subscriber_by_number("5551020")->display_name, "Tina Tran");
}

TEST_F(provisioning_import_test, reimport_changes_nothing) {
  auto db = database::open(db_path_);
  import_provisioning(db, repo_file);
  const auto before = dump(db);
  const auto changes_before = sqlite3_total_changes(db.handle());
  auto report = import_provisioning(db, repo_file);
  EXPECT_FALSE(report.changed()) << report.to_string();
  EXPECT_EQ(report.tables.at("subscribers").unchanged, 20);
  EXPECT_EQ(sqlite3_total_changes(db.handle()), changes_before);
  EXPECT_EQ(dump(db), before);
  std::ostringstream os;
  os << report;
  EXPECT_EQ(os.str(), "0 inserted, 0 updated, 0 deleted, 56 unchanged rows");
}

TEST_F(provisioning_import_test, file_is_the_source_of_truth) {
  auto db = database::open(db_path_);
  import_provisioning(db, repo_file);
  // Rename a subscriber, drop the cold spare.
  auto text = read_bytes(repo_file);
  text = std::regex_replace(text, std::regex("Tina Tran"), "Tina Tran-Smith");
  auto spare = text.find("# N+1 cold spare");
  auto facilities = text.find("# --- facilities");
  text.erase(spare, facilities - spare);
  auto edited = dir_ / "edited.toml";
  write_bytes(edited, text);

  auto report = import_provisioning(db, edited);
  EXPECT_EQ(report.tables.at("subscribers").updated, 1);
  EXPECT_EQ(report.tables.at("subscribers").unchanged, 19);
  EXPECT_EQ(report.tables.at("gateways").deleted, 1);
  EXPECT_EQ(report.tables.at("gateways").unchanged, 4);
  auto p = provisioning_store(db).load_all();
  EXPECT_EQ(p.gateways.size(), 4u);
  EXPECT_EQ(provisioning_store(db).subscriber_by_number("5551020")->display_name,
            "Tina Tran-Smith");

  // An empty file empties every provisioning table.
  auto empty = dir_ / "empty.toml";
  write_bytes(empty, "# nothing provisioned\n");
  report = import_provisioning(db, empty);
  EXPECT_EQ(report.tables.at("subscribers").deleted, 20);
  EXPECT_TRUE(provisioning_store(db).load_all().facilities.empty());
}

TEST_F(provisioning_import_test, bad_rows_are_refused_with_line_and_field) {
  auto db = database::open(db_path_);
  import_provisioning(db, repo_file);
  const auto before = dump(db);

  struct bad_case {
    std::string from, to, field, line_marker;
  };
  const std::vector<bad_case> cases = {
    // missing required field: reported at the row's [[header]]
    {"[[subscriber]]\ndirectory_number = \"5551003\"\n", "[[subscriber]]\n#MARK\n",
     "subscriber.directory_number", "#MARK"},
    // wrong type
    {"mta_port = 2427\ndisplay_name = \"Carol Chen\"",
     "mta_port = \"2427\"\ndisplay_name = \"Carol Chen\"", "subscriber.mta_port",
     "mta_port = \"2427\""},
    // unknown field (typo)
    {"display_name = \"Dan Diaz\"", "dispaly_name = \"Dan Diaz\"", "subscriber.dispaly_name",
     "dispaly_name"},
    // duplicate key
    {"directory_number = \"5551005\"", "directory_number = \"5551004\"",
     "subscriber.directory_number",
     "directory_number = \"5551004\"\nendpoint_name = \"aaln/1@mta-0003"},
    // dangling references
    {"backup_facility = \"p2-pri-2\"", "backup_facility = \"p9-pri-9\"", "facility.backup_facility",
     "p9-pri-9"},
    {"trunk_group = \"tg-intl\"", "trunk_group = \"tg-nowhere\"", "route.trunk_group",
     "tg-nowhere"},
    {"{ facility = \"l2-ss7-2\", priority = 2 }", "{ facility = \"l2-ss7-9\", priority = 2 }",
     "trunk_group.members.facility", "l2-ss7-9"},
    {"carrier = \"bluewave\"\nspan = 1\nchannels = 24",
     "carrier = \"redline\"\nspan = 1\nchannels = 24", "facility.carrier", "redline"},
    // bad values
    {"role = \"cold_spare\"", "role = \"hot_spare\"", "gateway.role", "hot_spare"},
    {"endpoint_name = \"aaln/2@mta-0004.cable.example\"",
     "endpoint_name = \"aaln/2@mta-0005.cable.example\"", "subscriber.endpoint_name",
     "aaln/2@mta-0005.cable.example\"\nmta_fqdn = \"mta-0004"},
    {"prefix = \"911\"", "prefix = \"9-1-1\"", "route.prefix", "9-1-1"},
    {"segment = \"local\"\nmembers = [ { facility = \"l1-pri-1\"",
     "segment = \"partner\"\nmembers = [ { facility = \"l1-pri-1\"", "trunk_group.members.facility",
     "members = [ { facility = \"l1-pri-1\""},
    {"remote_port = 5010", "remote_port = 70000", "data_link.remote_port", "70000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.to);
    auto file = variant(c.from, c.to);
    auto text = read_bytes(file);
    auto line = line_of(file, c.line_marker);
    if (c.line_marker == "#MARK")
      --line; // the [[subscriber]] header above the marker
    refused(db, file, c.field, line);
    EXPECT_EQ(dump(db), before) << "database changed by a refused import";
  }
}

TEST_F(provisioning_import_test, refused_import_applies_none_of_the_good_rows) {
  auto db = database::open(db_path_);
  import_provisioning(db, repo_file);
  const auto before = dump(db);
  // A good new subscriber first, then a broken route at the end of the file.
  auto text = read_bytes(repo_file);
  text = std::regex_replace(text, std::regex("Alice Archer"), "Alice Archer-Ng");
  text += "\n[[route]]\nprefix = \"1\"\ntrunk_group = \"tg-ld-northtel\"\npriority = 3\n";
  auto file = dir_ / "dup-route.toml";
  write_bytes(file, text);
  auto e = refused(db, file, "route.trunk_group",
                   static_cast<std::uint32_t>(std::count(text.begin(), text.end(), '\n') - 1));
  EXPECT_NE(std::string(e.what()).find("duplicate route"), std::string::npos) << e.what();
  EXPECT_EQ(dump(db), before);
}

TEST_F(provisioning_import_test, syntax_error_and_missing_file) {
  auto db = database::open(db_path_);
  auto file = variant("[[carrier]]\nid = \"bluewave\"", "[[carrier]]\nid = bluewave");
  try {
    import_provisioning(db, file);
    FAIL() << "syntax error accepted";
  } catch (const provisioning_error& e) {
    EXPECT_EQ(e.line(), line_of(file, "id = bluewave"));
    EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
  }
  EXPECT_THROW(import_provisioning(db, dir_ / "missing.toml"), provisioning_error);
  auto single = dir_ / "single.toml";
  write_bytes(single, "[carrier]\nid = \"x\"\nname = \"X\"\n");
  try {
    import_provisioning(db, single);
    FAIL() << "[carrier] accepted";
  } catch (const provisioning_error& e) {
    EXPECT_EQ(e.field(), "carrier");
    EXPECT_NE(std::string(e.what()).find("array of tables [[carrier]]"), std::string::npos)
      << e.what();
  }
  auto unknown = dir_ / "unknown.toml";
  write_bytes(unknown, "[[carier]]\nid = \"x\"\n");
  EXPECT_THROW(import_provisioning(db, unknown), provisioning_error);
}

TEST_F(provisioning_import_test, locked_database_fails_cleanly_and_unchanged) {
  {
    auto db = database::open(db_path_);
    import_provisioning(db, repo_file);
  }
  auto db = database::open(db_path_, {std::chrono::milliseconds(100), nullptr});
  const auto before = dump(db);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto file = variant("Alice Archer", "Alice Archer-Ng");
  try {
    import_provisioning(db, file);
    ADD_FAILURE() << "import into a locked database succeeded";
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::locked) << e.what();
  }
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_EQ(dump(db), before);
  EXPECT_TRUE(import_provisioning(db, file).changed()); // and works once the lock is gone
}

TEST_F(provisioning_import_test, provision_database_refuses_bad_file_before_creating_db) {
  auto bad = dir_ / "bad.toml";
  write_bytes(bad, "[[carrier]]\nid = \"x\"\n");
  EXPECT_THROW(provision_database(bad, db_path_), provisioning_error);
  EXPECT_FALSE(std::filesystem::exists(db_path_));
  auto report = provision_database(repo_file, db_path_);
  EXPECT_EQ(report.tables.at("subscribers").inserted, 20);
  EXPECT_EQ(parse_provisioning_file(repo_file).subscribers.size(), 20u);
}

} // namespace
