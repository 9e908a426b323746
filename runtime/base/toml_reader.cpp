#include "runtime/base/toml_reader.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace cms::config {

namespace {

std::uint32_t line_of(const toml::value& v) {
  // toml11 reports line 1 with file "unknown file" for values it did not read from a file.
  auto loc = v.location();
  return loc.file_name() == "unknown file" ? 0 : loc.line();
}

} // namespace

toml_field_error::toml_field_error(std::string file, std::uint32_t line, std::string key,
                                   std::string problem)
  : std::runtime_error(format(file, line, key, problem)),
    file_(std::move(file)),
    line_(line),
    key_(std::move(key)),
    problem_(std::move(problem)) {}

std::string toml_field_error::format(const std::string& file, std::uint32_t line,
                                     const std::string& key, const std::string& problem) {
  std::string out = file;
  if (line > 0)
    out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty())
    out += key + ": ";
  out += problem;
  return out;
}

toml::value parse_toml_file(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    throw toml_field_error(path, 0, "", "cannot read file: no such file");
  if (std::filesystem::is_directory(status))
    throw toml_field_error(path, 0, "", "cannot read file: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw toml_field_error(path, 0, "", std::string("cannot read file: ") + std::strerror(errno));
  try {
    return toml::parse(in, path);
  } catch (const toml::syntax_error& e) {
    // toml11's text already underlines the spot; keep it, prefixed with our file:line.
    throw toml_field_error(path, e.location().line(), "", std::string("syntax error: ") + e.what());
  } catch (const std::exception& e) {
    throw toml_field_error(path, 0, "", std::string("cannot parse: ") + e.what());
  }
}

std::string type_name(const toml::value& v) {
  std::ostringstream os;
  os << v.type();
  return os.str();
}

table_reader::table_reader(const toml::value* table, std::string file, std::string prefix)
  : table_(table),
    file_(std::move(file)),
    prefix_(std::move(prefix)) {}

std::string table_reader::qualified(const std::string& key) const {
  return prefix_.empty() ? key : prefix_ + "." + key;
}

std::uint32_t table_reader::line() const { return table_ ? line_of(*table_) : 0; }

const toml::value* table_reader::find(const std::string& key) {
  used_.insert(key);
  if (!table_)
    return nullptr;
  const auto& t = table_->as_table();
  auto i = t.find(key);
  return i == t.end() ? nullptr : &i->second;
}

const toml::value* table_reader::raw(const std::string& key) { return find(key); }

void table_reader::fail(const std::string& key, const std::string& problem) const {
  if (table_) {
    const auto& t = table_->as_table();
    if (auto i = t.find(key); i != t.end())
      fail_at(i->second, key, problem);
  }
  throw toml_field_error(file_, line(), qualified(key), problem);
}

void table_reader::fail_at(const toml::value& v, const std::string& key,
                           const std::string& problem) const {
  throw toml_field_error(file_, line_of(v), qualified(key), problem);
}

std::optional<std::string> table_reader::string(const std::string& key) {
  auto v = find(key);
  if (!v)
    return std::nullopt;
  if (!v->is_string())
    fail_at(*v, key, "expected a string, got " + type_name(*v));
  return v->as_string().str;
}

std::string table_reader::required_string(const std::string& key) {
  auto s = string(key);
  if (!s)
    fail(key, "required key is missing");
  if (s->empty())
    fail(key, "must not be empty");
  return *s;
}

std::optional<std::int64_t> table_reader::integer(const std::string& key, std::int64_t min,
                                                  std::int64_t max) {
  auto v = find(key);
  if (!v)
    return std::nullopt;
  if (!v->is_integer())
    fail_at(*v, key, "expected an integer, got " + type_name(*v));
  auto n = v->as_integer();
  if (n < min || n > max)
    fail_at(*v, key,
            std::to_string(n) + " is out of range " + std::to_string(min) + ".." +
              std::to_string(max));
  return n;
}

std::int64_t table_reader::required_integer(const std::string& key, std::int64_t min,
                                            std::int64_t max) {
  auto n = integer(key, min, max);
  if (!n)
    fail(key, "required key is missing");
  return *n;
}

std::optional<bool> table_reader::boolean(const std::string& key) {
  auto v = find(key);
  if (!v)
    return std::nullopt;
  if (!v->is_boolean())
    fail_at(*v, key, "expected a boolean, got " + type_name(*v));
  return v->as_boolean();
}

void table_reader::finish() const {
  if (!table_)
    return;
  const toml::value* first = nullptr;
  std::string first_key;
  for (const auto& [k, v] : table_->as_table()) {
    if (used_.count(k))
      continue;
    // Tables are unordered: report the earliest unknown key so the message is deterministic.
    if (!first || line_of(v) < line_of(*first) ||
        (line_of(v) == line_of(*first) && k < first_key)) {
      first = &v;
      first_key = k;
    }
  }
  if (first)
    fail_at(*first, first_key, "unknown key");
}

} // namespace cms::config
