#include "runtime/programs/cmsctl/tables.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace cms::cmsctl {

const boost::json::value* at_path(const boost::json::object& o, const std::string& path) {
  const boost::json::object* cur = &o;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    auto key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    auto* v = cur->if_contains(key);
    if (!v)
      return nullptr;
    if (dot == std::string::npos)
      return v;
    if (!v->is_object())
      return nullptr;
    cur = &v->as_object();
    start = dot + 1;
  }
}

std::string cell(const boost::json::value* v) {
  if (!v || v->is_null())
    return "-";
  if (v->is_string())
    return v->as_string().empty() ? "-" : std::string(v->as_string());
  if (v->is_bool())
    return v->as_bool() ? "yes" : "no";
  if (v->is_int64())
    return std::to_string(v->as_int64());
  if (v->is_uint64())
    return std::to_string(v->as_uint64());
  if (v->is_double()) {
    double d = v->as_double();
    if (std::floor(d) == d && std::fabs(d) < 1e15)
      return std::to_string(static_cast<long long>(d));
    std::ostringstream os;
    os.precision(3);
    os << std::fixed << d;
    return os.str();
  }
  if (v->is_array()) {
    std::string out;
    for (auto& e : v->as_array())
      out += (out.empty() ? "" : ",") + cell(&e);
    return out.empty() ? "-" : out;
  }
  return boost::json::serialize(*v);
}

void print_table(std::ostream& out, const boost::json::array& rows,
                 const std::vector<column>& columns) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width;
  for (auto& c : columns)
    width.push_back(c.header.size());
  for (auto& r : rows) {
    if (!r.is_object())
      continue;
    std::vector<std::string> line;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      line.push_back(cell(at_path(r.as_object(), columns[i].field)));
      width[i] = std::max(width[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      out << line[i];
      if (i + 1 < line.size())
        out << std::string(width[i] - line[i].size() + 2, ' ');
    }
    out << '\n';
  };
  std::vector<std::string> headers;
  for (auto& c : columns)
    headers.push_back(c.header);
  print_line(headers);
  for (auto& line : cells)
    print_line(line);
}

void print_fields(std::ostream& out, const boost::json::object& o,
                  const std::vector<column>& fields) {
  std::size_t w = 0;
  for (auto& f : fields)
    w = std::max(w, f.header.size());
  for (auto& f : fields)
    out << f.header << ':' << std::string(w - f.header.size() + 1, ' ') << cell(at_path(o, f.field))
        << '\n';
}

} // namespace cms::cmsctl
