// scapy's MGCP layer (python3-scapy) parses the datagrams our codec emits, and our codec parses
// the commands scapy builds. The python side is test/conformance/scapy_parse.py.

#include "conformance_support.hpp"

#include "runtime/mgcp/codec.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace cms::mgcp {
namespace {

using namespace std::chrono_literals;
using cms::test::child_process;
using cms::test::temp_dir;

/// A python3 that can import scapy's MGCP layer (the Debian package installs it for /usr/bin).
std::string python_with_scapy(const std::filesystem::path& scratch) {
  std::vector<std::string> candidates{"/usr/bin/python3", test::find_program("python3")};
  for (auto& py : candidates) {
    if (py.empty() || !std::filesystem::exists(py))
      continue;
    child_process probe{{py, "-c", "import scapy.layers.mgcp"}, scratch / "probe.log"};
    if (probe.wait_exit(60s) == 0)
      return py;
  }
  return {};
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Scapy, ParsesWhatWeEmitAndWeParseWhatItBuilds) {
  temp_dir dir;
  const auto python = python_with_scapy(dir.path());
  ASSERT_FALSE(python.empty()) << "no python3 with scapy's MGCP layer: install the Debian package "
                                  "'python3-scapy' (scripts/install-deps.sh does)";

  std::ofstream manifest{dir.path() / "manifest.txt"};
  int n = 0;
  auto write = [&](const std::string& wire) {
    std::string name = "ours-" + std::to_string(n++) + ".bin";
    std::ofstream{dir.path() / name, std::ios::binary} << wire;
    return name;
  };
  std::uint32_t tid = 1000;
  for (auto cmd : test::every_command()) {
    cmd.transaction_id = ++tid;
    if (tid > 1001)
      cmd.params.push_back({"K", std::to_string(tid - 2) + "-" + std::to_string(tid - 1)});
    auto name = write(encode(cmd));
    manifest << name << "|command|" << to_string(cmd.kind) << '|' << tid << '|' << cmd.endpoint
             << '|' << cmd.version << '\n';
    auto rsp = test::answer_for(cmd);
    rsp.comment = std::string(default_comment(rsp.code));
    name = write(encode(rsp));
    manifest << name << "|response|" << rsp.code << '|' << tid << '\n';
  }
  for (int code : {0, 100, 500, 504, 510, 528, 539}) {
    response r;
    r.code = code;
    r.transaction_id = ++tid;
    r.comment = std::string(default_comment(code));
    char text[8];
    std::snprintf(text, sizeof text, "%03d", code);
    manifest << write(encode(r)) << "|response|" << text << '|' << tid << '\n';
  }
  manifest.close();

  child_process script{
    {python, std::string(CMS_SOURCE_DIR) + "/test/conformance/scapy_parse.py", dir.path().string()},
    dir.path() / "scapy.log"};
  auto rc = script.wait_exit(120s);
  ASSERT_TRUE(rc) << "scapy_parse.py hung";
  EXPECT_EQ(*rc, 0) << script.output();
  EXPECT_NE(script.output().find("checked " + std::to_string(n) + " datagrams, 0 mismatches"),
            std::string::npos)
    << script.output();

  // The other direction: scapy-built commands through our codec.
  std::ifstream built{dir.path() / "scapy-manifest.txt"};
  std::string line;
  int decoded = 0;
  while (std::getline(built, line)) {
    std::stringstream ss{line};
    std::string file, verb_name, tid_text, endpoint;
    std::getline(ss, file, '|');
    std::getline(ss, verb_name, '|');
    std::getline(ss, tid_text, '|');
    std::getline(ss, endpoint, '|');
    auto result = decode(read_file(dir.path() / file));
    ASSERT_TRUE(result.errors.empty()) << file << ": " << result.errors.front().reason;
    ASSERT_EQ(result.messages.size(), 1u) << file;
    auto* cmd = std::get_if<command>(&result.messages.front());
    ASSERT_NE(cmd, nullptr) << file;
    EXPECT_EQ(to_string(cmd->kind), verb_name);
    EXPECT_EQ(cmd->transaction_id, std::stoul(tid_text));
    EXPECT_EQ(cmd->endpoint, endpoint);
    ++decoded;
  }
  EXPECT_EQ(decoded, 9);
}

} // namespace
} // namespace cms::mgcp
