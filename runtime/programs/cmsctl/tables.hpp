#pragma once
// cmsctl's human output: aligned text tables and "key: value" blocks from the API's JSON.

#include <boost/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace cms::cmsctl {

/// A JSON scalar as text ("-" for null/absent, numbers without trailing zeros).
std::string cell(const boost::json::value* v);

struct column {
  std::string header;
  std::string field; ///< dotted path into each row ("heartbeat_paths.udp")
};

/// One row per element of `rows` (objects), columns aligned.
void print_table(std::ostream& out, const boost::json::array& rows,
                 const std::vector<column>& columns);

/// "label: value" lines for the given fields of one object.
void print_fields(std::ostream& out, const boost::json::object& o,
                  const std::vector<column>& fields);

/// Value at a dotted path, or null.
const boost::json::value* at_path(const boost::json::object& o, const std::string& path);

} // namespace cms::cmsctl
