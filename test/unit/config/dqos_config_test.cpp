// [dqos]: the node-level gate parameters, with the file, line and key of a bad value.

#include "runtime/base/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using cms::config::config_error;
using cms::config::load_node_config;

namespace {

class dqos_config_test : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cms-dqos-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& text) {
    auto p = dir_ / "node.toml";
    std::ofstream(p) << base << text;
    return p;
  }
  static constexpr const char* base = "[node]\nid = \"cms-t\"\ndata_dir = \"data\"\n"
                                      "[peer]\naddress = \"127.0.0.2\"\n"; // 5 lines
  fs::path dir_;
};

TEST_F(dqos_config_test, defaults_are_pcmu_20_ms_ef_and_classes_1_and_2) {
  auto cfg = load_node_config(write(""));
  EXPECT_EQ(cfg.dqos.codec, "PCMU");
  EXPECT_EQ(cfg.dqos.packet_period_ms, 20);
  EXPECT_EQ(cfg.dqos.dscp, 46);
  EXPECT_EQ(cfg.dqos.session_class, 1);
  EXPECT_EQ(cfg.dqos.emergency_session_class, 2);
  EXPECT_EQ(cfg.dqos.t1_s, 200);
  EXPECT_EQ(cfg.dqos.keepalive_s, 30);
  EXPECT_EQ(cfg.dqos.command_timeout.count(), 2000);
}

TEST_F(dqos_config_test, every_key_is_read) {
  auto cfg = load_node_config(write("[dqos]\ncodec = \"G729\"\npacket_period_ms = 10\ndscp = 40\n"
                                    "session_class = 1\nemergency_session_class = 3\nt1_s = 180\n"
                                    "t7_s = 10\nt8_s = 30\nactivity_count = 8\nkeepalive_s = 10\n"
                                    "command_timeout_ms = 1500\nreconnect_max_ms = 5000\n"));
  EXPECT_EQ(cfg.dqos.codec, "G729");
  EXPECT_EQ(cfg.dqos.packet_period_ms, 10);
  EXPECT_EQ(cfg.dqos.dscp, 40);
  EXPECT_EQ(cfg.dqos.emergency_session_class, 3);
  EXPECT_EQ(cfg.dqos.t1_s, 180);
  EXPECT_EQ(cfg.dqos.t7_s, 10);
  EXPECT_EQ(cfg.dqos.t8_s, 30);
  EXPECT_EQ(cfg.dqos.activity_count, 8);
  EXPECT_EQ(cfg.dqos.keepalive_s, 10);
  EXPECT_EQ(cfg.dqos.command_timeout.count(), 1500);
  EXPECT_EQ(cfg.dqos.reconnect_max.count(), 5000);
}

TEST_F(dqos_config_test, bad_values_name_line_and_key) {
  struct bad {
    std::string text;
    std::string key;
    std::uint32_t line;
  };
  for (const auto& b : std::initializer_list<bad>{
         {"[dqos]\ncodec = \"OPUS\"\n", "dqos.codec", 7},
         {"[dqos]\ndscp = 1\npacket_period_ms = 22\n", "dqos.packet_period_ms", 8},
         {"[dqos]\npacket_period_ms = 90\n", "dqos.packet_period_ms", 7},
         {"[dqos]\ndscp = 64\n", "dqos.dscp", 7},
         {"[dqos]\nt1_s = -1\n", "dqos.t1_s", 7},
         {"[dqos]\ncodek = \"PCMU\"\n", "dqos.codek", 7},
       }) {
    SCOPED_TRACE(b.text);
    try {
      load_node_config(write(b.text));
      ADD_FAILURE() << "accepted";
    } catch (const config_error& e) {
      EXPECT_EQ(e.key(), b.key) << e.what();
      EXPECT_EQ(e.line(), b.line) << e.what();
    }
  }
}

} // namespace
