#pragma once
// The RKS's own SQLite file. record_id is UNIQUE and inserts are INSERT OR IGNORE, so a batch
// re-sent after a lost ack (or by the other node after a failover) is stored exactly once.

#include "persistence/billing_record.hpp"

#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;

namespace cms::billing {

/// A record as the RKS keeps it: what was sent, plus which node sent it and when it arrived.
struct stored_record {
  billing_record record;
  std::string node;
  std::int64_t received_ms = 0;
};

class record_store {
public:
  /// create=false refuses a missing file (read commands must not invent an empty database).
  /// Throws std::runtime_error with SQLite's message on failure.
  record_store(const std::string& path, bool create);
  ~record_store();
  record_store(const record_store&) = delete;
  record_store& operator=(const record_store&) = delete;

  struct insert_result {
    std::uint64_t accepted = 0;
    std::uint64_t duplicates = 0;
  };
  /// One transaction: either every record is stored (or found already stored) or none is.
  insert_result insert(const std::string& node, const std::vector<billing_record>& records);

  std::uint64_t count() const;
  /// Every record, in sequence order.
  std::vector<stored_record> list() const;

private:
  void exec(const char* sql) const;
  sqlite3* db_ = nullptr;
};

} // namespace cms::billing
