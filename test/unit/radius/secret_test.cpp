#include "runtime/radius/secret.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

using cms::radius::load_secret;

namespace {

std::filesystem::path secret_dir() {
  return std::filesystem::temp_directory_path() /
         ("cms-radius-secret-" + std::to_string(::getpid()));
}

/// Removes the files this test wrote.
struct cleanup {
  ~cleanup() {
    std::error_code ignored;
    std::filesystem::remove_all(secret_dir(), ignored);
  }
} const remove_at_exit;

std::string write_secret(const std::string& name, const std::string& content, mode_t mode) {
  auto dir = secret_dir();
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream{path, std::ios::binary | std::ios::trunc} << content;
  ::chmod(path.c_str(), mode);
  return path;
}

} // namespace

TEST(Secret, TrimsOneTrailingNewline) {
  EXPECT_EQ(load_secret(write_secret("a", "s3cret\n", 0600)), "s3cret");
  EXPECT_EQ(load_secret(write_secret("b", "s3cret\r\n", 0600)), "s3cret");
  EXPECT_EQ(load_secret(write_secret("c", "s3 cret", 0640)), "s3 cret");
}

TEST(Secret, RefusesEmptyMissingAndWorldReadable) {
  EXPECT_THROW(load_secret(write_secret("d", "", 0600)), std::runtime_error);
  EXPECT_THROW(load_secret(write_secret("e", "\n", 0600)), std::runtime_error);
  EXPECT_THROW(load_secret(write_secret("f", "s3cret\n", 0644)), std::runtime_error);
  EXPECT_THROW(load_secret("/nonexistent/cms/secret"), std::runtime_error);
}
