#pragma once
// Renderings of the RKS's records for `rks list` and `rks export`: CSV for spreadsheets and billing
// mediation, JSON with the same field names as the wire protocol.

#include "test/tools/rks/record_store.hpp"

#include <string>
#include <vector>

namespace cms::billing {

/// RFC 4180 CSV with a header line; fields containing a comma, quote or line break are quoted.
std::string export_csv(const std::vector<stored_record>& records);

/// One JSON array of record objects (wire field names plus "node" and "received_ms").
std::string export_json(const std::vector<stored_record>& records);

/// One JSON object per line, for `rks list --json`.
std::string list_json_lines(const std::vector<stored_record>& records);

/// One human-readable line per record, for `rks list`.
std::string list_text(const std::vector<stored_record>& records);

} // namespace cms::billing
