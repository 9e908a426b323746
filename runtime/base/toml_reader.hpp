#pragma once
// Strict, located access to one TOML table. Shared by the node config and the provisioning import:
// both must refuse unknown keys and wrong types and say where (file, line, key) the problem is.

#include <toml.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

namespace cms::config {

/// A problem with one key of a TOML file. Callers translate it into their own error type.
class toml_field_error : public std::runtime_error {
public:
  toml_field_error(std::string file, std::uint32_t line, std::string key, std::string problem);

  const std::string& file() const noexcept { return file_; }
  std::uint32_t line() const noexcept { return line_; }
  const std::string& key() const noexcept { return key_; }
  const std::string& problem() const noexcept { return problem_; }

  /// "FILE:LINE: KEY: PROBLEM", leaving out the parts that are empty/zero.
  static std::string format(const std::string& file, std::uint32_t line, const std::string& key,
                            const std::string& problem);

private:
  std::string file_;
  std::uint32_t line_;
  std::string key_;
  std::string problem_;
};

/// Parses a whole TOML file. Missing/unreadable files and syntax errors become toml_field_error
/// (syntax errors carry toml11's line and its underlined explanation).
toml::value parse_toml_file(const std::string& path);

/// Reads the keys of one table, remembering which were used so that finish() can refuse the rest.
/// `prefix` is the dotted name the keys are reported under ("mgcp", "subscriber[3]").
class table_reader {
public:
  /// `table` may be null (section absent): every optional read then yields its default.
  table_reader(const toml::value* table, std::string file, std::string prefix);

  std::optional<std::string> string(const std::string& key);
  std::string required_string(const std::string& key);
  std::optional<std::int64_t> integer(const std::string& key, std::int64_t min, std::int64_t max);
  std::int64_t required_integer(const std::string& key, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(const std::string& key);
  /// The raw value (any type), marked as used; null when absent.
  const toml::value* raw(const std::string& key);

  /// Throws for the first key (in file order) that no read asked for.
  void finish() const;

  /// Throws a toml_field_error located at `key`'s value, or at the table when the key is absent.
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  /// Throws a toml_field_error located at `v`.
  [[noreturn]] void fail_at(const toml::value& v, const std::string& key,
                            const std::string& problem) const;

  /// Line of the table's header (or inline table); 0 when the table is absent.
  std::uint32_t line() const;
  const std::string& file() const noexcept { return file_; }
  std::string qualified(const std::string& key) const;
  bool present() const noexcept { return table_ != nullptr; }

private:
  const toml::value* find(const std::string& key);

  const toml::value* table_;
  std::string file_;
  std::string prefix_;
  std::set<std::string> used_;
};

/// The TOML type name of a value, for "expected X, got Y" messages.
std::string type_name(const toml::value& v);

} // namespace cms::config
