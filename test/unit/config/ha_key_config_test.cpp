// The cluster key of the pair's UDP control plane ([peer] key_file, docs/security.md): a missing or
// short key stops the node at start with the file, the line and the key; witnesses need a key.

#include "runtime/base/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using cms::config::config_error;
using cms::config::load_node_config;
using cms::config::read_node_secrets;

namespace {

class ha_key_config : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cms-hakey-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  /// Line 5 sets key_file.
  fs::path config_with(const std::string& key_line, const std::string& more = {}) {
    return write("node.toml", "[node]\nid = \"cms-t\"\ndata_dir = \"data\"\n[peer]\n" + key_line +
                                "\naddress = \"127.0.0.2\"\n" + more);
  }
  fs::path dir_;
};

TEST_F(ha_key_config, a_missing_key_file_is_a_config_error_at_its_line) {
  auto cfg = load_node_config(config_with("key_file = \"absent.key\""));
  try {
    read_node_secrets(cfg);
    FAIL() << "a missing key file was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.line(), 5u) << e.what();
    EXPECT_EQ(e.key(), "peer.key_file") << e.what();
    EXPECT_NE(std::string(e.what()).find("absent.key"), std::string::npos) << e.what();
  }
}

TEST_F(ha_key_config, a_short_key_is_a_config_error) {
  write("short.key", "0123456789abcdef\n"); // 16 bytes
  auto cfg = load_node_config(config_with("key_file = \"short.key\""));
  try {
    read_node_secrets(cfg);
    FAIL() << "a 16-byte key was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.line(), 5u) << e.what();
    EXPECT_NE(std::string(e.what()).find("at least 32"), std::string::npos) << e.what();
  }
}

TEST_F(ha_key_config, a_key_file_is_read_relative_to_the_config_without_its_newline) {
  write("ha.key", std::string(64, 'a') + "\n");
  auto cfg = load_node_config(config_with("key_file = \"ha.key\""));
  read_node_secrets(cfg);
  EXPECT_EQ(cfg.peer.key, std::string(64, 'a'));
  EXPECT_EQ(cfg.peer.key_file, dir_ / "ha.key");
}

TEST_F(ha_key_config, witnesses_without_a_key_are_refused) {
  try {
    load_node_config(config_with("", "witnesses = [\"127.0.0.1:7701\"]\n"));
    FAIL() << "witnesses without a key were accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.key(), "peer.witnesses") << e.what();
    EXPECT_NE(std::string(e.what()).find("key_file"), std::string::npos) << e.what();
  }
}

TEST_F(ha_key_config, test_faults_are_read_and_checked) {
  auto cfg = load_node_config(
    config_with("", "[test_faults]\nfreeze_ha_actor_file = \"freeze\"\ncrash_ha_actor = true\n"));
  EXPECT_EQ(cfg.test_faults.freeze_ha_actor_file, dir_ / "freeze");
  EXPECT_TRUE(cfg.test_faults.crash_ha_actor);
  EXPECT_THROW(load_node_config(config_with("", "[test_faults]\nfreeze_ha_actor = 1\n")),
               config_error);
}

} // namespace
