#pragma once
// `cmsd --provision FILE DB`: imports the human-editable provisioning file (config/
// provisioning.toml) into the store. The file is the source of truth: rows are upserted, rows
// absent from the file are removed, and re-importing the same file changes nothing. The import is
// all-or-nothing: any bad row aborts it with the file, line and field, and the database is left
// exactly as it was.

#include "persistence/provisioning.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>

namespace cms::persistence {

class database;

/// A bad provisioning file. what() reads "FILE:LINE: FIELD: problem".
class provisioning_error : public std::runtime_error {
public:
  provisioning_error(std::string file, std::uint32_t line, std::string field,
                     const std::string& problem);

  const std::string& file() const noexcept { return file_; }
  std::uint32_t line() const noexcept { return line_; }
  /// "subscriber.mta_port", "trunk_group.members.facility"...
  const std::string& field() const noexcept { return field_; }

private:
  std::string file_;
  std::uint32_t line_;
  std::string field_;
};

/// What an import did, per table.
struct import_report {
  struct counts {
    int inserted = 0;
    int updated = 0;
    int deleted = 0;
    int unchanged = 0;
  };
  std::map<std::string, counts> tables; ///< keyed by SQL table name
  bool changed() const;
  /// Sums over all tables.
  counts totals() const;
  /// One line per table, for the operator.
  std::string to_string() const;
};

/// One line: "57 inserted, 0 updated, 0 deleted, 0 unchanged rows".
std::ostream& operator<<(std::ostream& os, const import_report& r);

/// Parses and validates a provisioning file without touching any database (a dry run). Throws
/// provisioning_error.
provisioning parse_provisioning_file(const std::filesystem::path& file);

/// Validates `file` and makes the provisioning tables of `db` equal to it, in one transaction.
/// Throws provisioning_error (bad file) or store_error (database trouble); either way nothing is
/// changed.
import_report import_provisioning(database& db, const std::filesystem::path& file);

/// Opens (and migrates) the store at `db_file`, then imports `file` into it.
import_report provision_database(const std::filesystem::path& file,
                                 const std::filesystem::path& db_file);

} // namespace cms::persistence
