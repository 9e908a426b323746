// CMS-SOFTSWITCH-MIB must pass `smilint -l 3` with no message at all (errors and level-3
// warnings), and the check itself must be able to fail.

#include "unit/snmp/snmp_harness.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace cms::snmp::test {
namespace {

const std::string config_dir = std::string(CMS_SOURCE_DIR) + "/config/snmp";

/// smilint at level 3 with the repo's MIB directory (and base/ stand-ins) on its path.
command_result lint(const std::string& mib_file) {
  return run_command({"smilint", "-s", "-l", "3", mib_file}, std::chrono::seconds(30),
                     {"SMIPATH=" + config_dir + ":" + config_dir + "/base"});
}

TEST(mib_lint, cms_softswitch_mib_passes_smilint_level_3) {
  if (find_program("smilint").empty())
    GTEST_SKIP() << "smilint (smitools) not installed";
  const auto result = lint(config_dir + "/CMS-SOFTSWITCH-MIB.txt");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out + result.err, "") << "smilint reported problems";
}

TEST(mib_lint, a_broken_mib_is_reported) {
  if (find_program("smilint").empty())
    GTEST_SKIP() << "smilint (smitools) not installed";
  temp_dir dir;
  auto text = read_file(config_dir + "/CMS-SOFTSWITCH-MIB.txt");
  // Misspell a conformance macro: smilint must complain.
  const auto at = text.find("cmsNodeGroup OBJECT-GROUP");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("cmsNodeGroup OBJECT-GROUP").size(), "cmsNodeGroup OBJECT-GRUOP");
  write_file(dir.path() + "/CMS-SOFTSWITCH-MIB.txt", text);
  const auto result = lint(dir.path() + "/CMS-SOFTSWITCH-MIB.txt");
  EXPECT_NE(result.out + result.err, "");
}

} // namespace
} // namespace cms::snmp::test
