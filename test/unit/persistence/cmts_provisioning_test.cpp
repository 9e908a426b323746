// [[cmts]] rows: imported into the cmts table (migration 4), read back, refused with the line and
// field of a bad value.

#include "persistence/database.hpp"
#include "persistence/provisioning.hpp"
#include "persistence/provisioning_import.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace cms::persistence;
namespace fs = std::filesystem;

namespace {

class cmts_provisioning_test : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cms-cmts-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& text) {
    auto p = dir_ / "prov.toml";
    std::ofstream(p) << text;
    return p;
  }
  fs::path dir_;
};

TEST_F(cmts_provisioning_test, rows_are_imported_and_read_back) {
  auto db = database::open(dir_ / "cms.db");
  auto report = import_provisioning(
    db, write("[[cmts]]\nname = \"north\"\naddress = \"10.0.0.1\"\nsubnets = [\"10.1.0.0/16\", "
              "\"10.2.0.7\"]\n\n[[cmts]]\nname = \"lab\"\naddress = \"10.0.0.2\"\nport = 3918\n"
              "dqos = false\n"));
  EXPECT_EQ(report.tables.at("cmts").inserted, 2);
  auto rows = provisioning_store{db}.cmtses();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (cmts{"lab", "10.0.0.2", 3918, false, {}}));
  EXPECT_EQ(rows[1], (cmts{"north", "10.0.0.1", 2126, true, {"10.1.0.0/16", "10.2.0.7"}}));
  // The same file again changes nothing.
  auto again = import_provisioning(db, dir_ / "prov.toml");
  EXPECT_FALSE(again.changed());
}

TEST_F(cmts_provisioning_test, bad_rows_name_line_and_field) {
  struct bad {
    std::string text;
    std::string field;
    std::uint32_t line;
  };
  for (const auto& b : std::initializer_list<bad>{
         {"[[cmts]]\nname = \"n\"\naddress = \"cmts.example\"\n", "cmts.address", 3},
         {"[[cmts]]\nname = \"n\"\naddress = \"10.0.0.1\"\nport = 0\n", "cmts.port", 4},
         {"[[cmts]]\nname = \"n\"\naddress = \"10.0.0.1\"\nsubnets = [\"10.1.0.0/33\"]\n",
          "cmts.subnets", 4},
         {"[[cmts]]\nname = \"n\"\naddress = \"10.0.0.1\"\ndqos = \"yes\"\n", "cmts.dqos", 4},
         {"[[cmts]]\nname = \"n\"\naddress = \"10.0.0.1\"\n[[cmts]]\nname = \"n\"\naddress = "
          "\"10.0.0.2\"\n",
          "cmts.name", 5},
       }) {
    SCOPED_TRACE(b.text);
    try {
      parse_provisioning_file(write(b.text));
      ADD_FAILURE() << "accepted";
    } catch (const provisioning_error& e) {
      EXPECT_EQ(e.field(), b.field) << e.what();
      EXPECT_EQ(e.line(), b.line) << e.what();
    }
  }
}

} // namespace
