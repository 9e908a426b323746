#include "persistence/provisioning_import.hpp"

#include "persistence/database.hpp"
#include "runtime/base/toml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <variant>

namespace cms::persistence {

using config::table_reader;
using config::toml_field_error;

namespace {

// --- reading the file -------------------------------------------------------------------------

template <class T>
struct located {
  T value;
  const toml::value* row; ///< the [[table]] it came from, for error locations
};

struct parsed_file {
  std::string file;
  std::vector<located<subscriber>> subscribers;
  std::vector<located<carrier>> carriers;
  std::vector<located<gateway>> gateways;
  std::vector<located<facility>> facilities;
  std::vector<located<trunk_group>> trunk_groups;
  std::vector<located<route>> routes;
  std::vector<located<data_link>> data_links;
  std::vector<located<cmts>> cmtses;
};

std::uint32_t line_of(const toml::value& v) { return v.location().line(); }

/// Throws a located error for `field` of `row` (at the field's value, or the row's header).
[[noreturn]] void fail_row(const parsed_file& p, const toml::value& row, const std::string& kind,
                           const std::string& field, const std::string& problem) {
  table_reader(&row, p.file, kind).fail(field, problem);
}

std::string one_of(table_reader& r, const std::string& key,
                   std::initializer_list<const char*> allowed,
                   std::optional<std::string> def = std::nullopt) {
  auto v = def ? r.string(key).value_or(*def) : r.required_string(key);
  std::string list;
  for (auto a : allowed) {
    if (v == a)
      return v;
    list += (list.empty() ? "" : ", ") + std::string("\"") + a + "\"";
  }
  r.fail(key, "\"" + v + "\" is not one of " + list);
}

std::optional<std::string> optional_non_empty(table_reader& r, const std::string& key) {
  auto v = r.string(key);
  if (v && v->empty())
    r.fail(key, "must not be empty (leave the key out instead)");
  return v;
}

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// Calls `f(row)` for each table of the array of tables `key` ([[key]] in the file).
template <class F>
void for_each_row(table_reader& root, const std::string& key, F f) {
  auto v = root.raw(key);
  if (!v)
    return;
  if (!v->is_array())
    root.fail_at(*v, key,
                 "expected an array of tables [[" + key + "]], got " + config::type_name(*v));
  for (const auto& row : v->as_array()) {
    if (!row.is_table())
      root.fail_at(row, key, "expected a table [[" + key + "]], got " + config::type_name(row));
    f(row);
  }
}

subscriber read_subscriber(table_reader& r) {
  subscriber s;
  s.directory_number = r.required_string("directory_number");
  if (s.directory_number.size() > 15 ||
      s.directory_number.find_first_not_of("0123456789") != std::string::npos)
    r.fail("directory_number", "\"" + s.directory_number + "\" is not 1 to 15 digits");
  s.endpoint_name = r.required_string("endpoint_name");
  s.mta_fqdn = r.required_string("mta_fqdn");
  auto at = s.endpoint_name.find('@');
  if (at == std::string::npos || at == 0)
    r.fail("endpoint_name",
           "\"" + s.endpoint_name + "\" is not \"local@domain\" (e.g. aaln/1@mta.example)");
  // The endpoint lives on the MTA: a different domain is a typo that would misroute calls.
  if (!iequals(s.endpoint_name.substr(at + 1), s.mta_fqdn))
    r.fail("endpoint_name",
           "domain of \"" + s.endpoint_name + "\" does not match mta_fqdn \"" + s.mta_fqdn + "\"");
  s.mta_address = r.required_string("mta_address");
  s.mta_port = static_cast<std::uint16_t>(r.integer("mta_port", 1, 65535).value_or(s.mta_port));
  s.display_name = r.string("display_name").value_or("");
  s.status = one_of(r, "status", {"active", "suspended"}, std::string("active"));
  return s;
}

carrier read_carrier(table_reader& r) {
  carrier c;
  c.id = r.required_string("id");
  c.name = r.required_string("name");
  return c;
}

gateway read_gateway(table_reader& r) {
  gateway g;
  g.name = r.required_string("name");
  g.address = r.required_string("address");
  g.port = static_cast<std::uint16_t>(r.integer("port", 1, 65535).value_or(g.port));
  g.role = one_of(r, "role", {"active", "cold_spare"}, std::string("active"));
  g.spare_for = optional_non_empty(r, "spare_for");
  if (g.spare_for && g.role != "cold_spare")
    r.fail("spare_for", "only a gateway with role = \"cold_spare\" can stand in for another");
  g.segment = one_of(r, "segment", {"partner", "local"});
  return g;
}

facility read_facility(table_reader& r) {
  facility f;
  f.id = r.required_string("id");
  f.gateway = r.required_string("gateway");
  f.kind = one_of(r, "kind", {"pri", "ss7"});
  f.carrier = r.required_string("carrier");
  f.span = static_cast<int>(r.required_integer("span", 1, 4096));
  // A T1 PRI carries 23 bearer channels (the 24th is the D channel); an SS7 span all 24.
  f.channels = static_cast<int>(r.integer("channels", 1, 31).value_or(f.kind == "pri" ? 23 : 24));
  f.backup_facility = optional_non_empty(r, "backup_facility");
  if (f.backup_facility && *f.backup_facility == f.id)
    r.fail("backup_facility", "a facility cannot be its own backup");
  return f;
}

trunk_group read_trunk_group(table_reader& r) {
  trunk_group g;
  g.id = r.required_string("id");
  g.name = r.required_string("name");
  g.segment = one_of(r, "segment", {"partner", "local"});
  auto members = r.raw("members");
  if (!members)
    r.fail("members", "required key is missing");
  if (!members->is_array())
    r.fail_at(*members, "members",
              "expected an array of { facility = ..., priority = ... }, got " +
                config::type_name(*members));
  if (members->as_array().empty())
    r.fail("members", "a trunk group needs at least one facility");
  int position = 0;
  for (const auto& m : members->as_array()) {
    ++position;
    if (!m.is_table())
      r.fail_at(m, "members",
                "expected { facility = ..., priority = ... }, got " + config::type_name(m));
    table_reader mr(&m, r.file(), r.qualified("members"));
    trunk_group_member member;
    member.facility = mr.required_string("facility");
    member.priority = static_cast<int>(mr.integer("priority", 0, 1000).value_or(position));
    mr.finish();
    g.members.push_back(member);
  }
  return g;
}

route read_route(table_reader& r) {
  route rt;
  auto prefix = r.string("prefix");
  if (!prefix)
    r.fail("prefix", "required key is missing (use \"\" for the default route)");
  if (prefix->find_first_not_of("0123456789*#") != std::string::npos)
    r.fail("prefix", "\"" + *prefix + "\" may contain only digits, '*' and '#'");
  rt.prefix = *prefix;
  rt.trunk_group = r.required_string("trunk_group");
  rt.priority = static_cast<int>(r.integer("priority", 0, 1000).value_or(1));
  return rt;
}

data_link read_data_link(table_reader& r) {
  data_link d;
  d.name = r.required_string("name");
  d.kind = one_of(r, "kind", {"primary", "backup"});
  d.local_address = r.required_string("local_address");
  d.remote_address = r.required_string("remote_address");
  d.remote_port = static_cast<std::uint16_t>(r.required_integer("remote_port", 1, 65535));
  return d;
}

/// "a.b.c.d" with each part 0..255; the length of a "/len" suffix when `prefix_len` is given.
bool is_ipv4(const std::string& text, int* prefix_len = nullptr) {
  auto slash = text.find('/');
  auto addr = text.substr(0, slash);
  if (slash != std::string::npos) {
    auto len = text.substr(slash + 1);
    if (!prefix_len || len.empty() || len.size() > 2 ||
        len.find_first_not_of("0123456789") != std::string::npos || std::stoi(len) > 32)
      return false;
    *prefix_len = std::stoi(len);
  }
  int parts = 0;
  std::size_t at = 0;
  while (at <= addr.size()) {
    auto end = addr.find('.', at);
    if (end == std::string::npos)
      end = addr.size();
    auto part = addr.substr(at, end - at);
    if (part.empty() || part.size() > 3 ||
        part.find_first_not_of("0123456789") != std::string::npos || std::stoi(part) > 255)
      return false;
    ++parts;
    at = end + 1;
  }
  return parts == 4;
}

cmts read_cmts(table_reader& r) {
  cmts c;
  c.name = r.required_string("name");
  if (c.name.empty() || c.name.find_first_of(" \t") != std::string::npos)
    r.fail("name", "must be a non-empty name without spaces");
  c.address = r.required_string("address");
  if (!is_ipv4(c.address))
    r.fail("address", "\"" + c.address + "\" is not an IPv4 address");
  c.port = static_cast<std::uint16_t>(r.integer("port", 1, 65535).value_or(2126));
  c.dqos = r.boolean("dqos").value_or(true);
  if (auto* list = r.raw("subnets")) {
    if (!list->is_array())
      r.fail_at(*list, "subnets", "expected an array of MTA addresses or subnets");
    for (auto& item : list->as_array()) {
      int len = 32;
      if (!item.is_string() || !is_ipv4(item.as_string().str, &len))
        r.fail_at(item, "subnets", "expected \"a.b.c.d\" or \"a.b.c.d/len\" strings");
      c.subnets.push_back(item.as_string().str);
    }
  }
  return c;
}

/// Refuses a second row with the same key, naming the line of the first.
template <class Key>
class unique_keys {
public:
  unique_keys(const parsed_file& p, std::string kind, std::string field)
    : p_(p),
      kind_(std::move(kind)),
      field_(std::move(field)) {}
  void add(const Key& key, const std::string& shown, const toml::value& row) {
    // The first row is kept, its line looked up only for the error: toml11 counts lines from
    // the start of the file on every call, so an eager line_of() made imports quadratic
    // (200,000 subscribers took hours; docs/performance.md).
    auto [it, fresh] = seen_.emplace(key, &row);
    if (!fresh)
      fail_row(p_, row, kind_, field_,
               "duplicate " + shown + " (first defined on line " +
                 std::to_string(line_of(*it->second)) + ")");
  }
  bool contains(const Key& key) const { return seen_.count(key) > 0; }

private:
  const parsed_file& p_;
  std::string kind_;
  std::string field_;
  std::map<Key, const toml::value*> seen_;
};

void check_references(const parsed_file& p) {
  unique_keys<std::string> dns(p, "subscriber", "directory_number");
  unique_keys<std::string> endpoints(p, "subscriber", "endpoint_name");
  for (const auto& [s, row] : p.subscribers) {
    dns.add(s.directory_number, "directory_number \"" + s.directory_number + "\"", *row);
    std::string lower = s.endpoint_name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    endpoints.add(lower, "endpoint_name \"" + s.endpoint_name + "\"", *row);
  }

  unique_keys<std::string> carriers(p, "carrier", "id");
  for (const auto& [c, row] : p.carriers)
    carriers.add(c.id, "carrier id \"" + c.id + "\"", *row);

  unique_keys<std::string> gateways(p, "gateway", "name");
  std::map<std::string, const gateway*> gateway_by_name;
  for (const auto& [g, row] : p.gateways) {
    gateways.add(g.name, "gateway name \"" + g.name + "\"", *row);
    gateway_by_name[g.name] = &g;
  }
  for (const auto& [g, row] : p.gateways) {
    if (!g.spare_for)
      continue;
    auto it = gateway_by_name.find(*g.spare_for);
    if (it == gateway_by_name.end())
      fail_row(p, *row, "gateway", "spare_for", "gateway \"" + *g.spare_for + "\" is not defined");
    if (it->second->role != "active" || it->second->segment != g.segment)
      fail_row(p, *row, "gateway", "spare_for",
               "gateway \"" + *g.spare_for + "\" is not an active gateway of segment \"" +
                 g.segment + "\"");
  }

  unique_keys<std::string> facilities(p, "facility", "id");
  unique_keys<std::pair<std::string, int>> spans(p, "facility", "span");
  std::map<std::string, std::string> facility_segment;
  for (const auto& [f, row] : p.facilities) {
    facilities.add(f.id, "facility id \"" + f.id + "\"", *row);
    auto gw = gateway_by_name.find(f.gateway);
    if (gw == gateway_by_name.end())
      fail_row(p, *row, "facility", "gateway", "gateway \"" + f.gateway + "\" is not defined");
    if (gw->second->role != "active")
      fail_row(p, *row, "facility", "gateway",
               "gateway \"" + f.gateway +
                 "\" is a cold spare; facilities belong to active gateways");
    if (!carriers.contains(f.carrier))
      fail_row(p, *row, "facility", "carrier", "carrier \"" + f.carrier + "\" is not defined");
    spans.add({f.gateway, f.span},
              "span " + std::to_string(f.span) + " on gateway \"" + f.gateway + "\"", *row);
    facility_segment[f.id] = gw->second->segment;
  }
  for (const auto& [f, row] : p.facilities)
    if (f.backup_facility && !facilities.contains(*f.backup_facility))
      fail_row(p, *row, "facility", "backup_facility",
               "facility \"" + *f.backup_facility + "\" is not defined");

  unique_keys<std::string> groups(p, "trunk_group", "id");
  for (const auto& [g, row] : p.trunk_groups) {
    groups.add(g.id, "trunk group id \"" + g.id + "\"", *row);
    std::set<std::string> in_group;
    const auto& rows = row->as_table().at("members").as_array();
    for (std::size_t i = 0; i < g.members.size(); ++i) {
      const auto& m = g.members[i];
      const auto& mrow = rows[i];
      auto seg = facility_segment.find(m.facility);
      if (seg == facility_segment.end())
        fail_row(p, mrow, "trunk_group.members", "facility",
                 "facility \"" + m.facility + "\" is not defined");
      if (seg->second != g.segment)
        fail_row(p, mrow, "trunk_group.members", "facility",
                 "facility \"" + m.facility + "\" is on a " + seg->second +
                   " segment gateway, but the trunk group is " + g.segment);
      if (!in_group.insert(m.facility).second)
        fail_row(p, mrow, "trunk_group.members", "facility",
                 "facility \"" + m.facility + "\" is listed twice in trunk group \"" + g.id + "\"");
    }
  }

  unique_keys<std::pair<std::string, std::string>> routes(p, "route", "trunk_group");
  for (const auto& [r, row] : p.routes) {
    if (!groups.contains(r.trunk_group))
      fail_row(p, *row, "route", "trunk_group",
               "trunk group \"" + r.trunk_group + "\" is not defined");
    routes.add({r.prefix, r.trunk_group},
               "route for prefix \"" + r.prefix + "\" via \"" + r.trunk_group + "\"", *row);
  }

  unique_keys<std::string> links(p, "data_link", "name");
  for (const auto& [d, row] : p.data_links)
    links.add(d.name, "data link name \"" + d.name + "\"", *row);

  unique_keys<std::string> cmts_names(p, "cmts", "name");
  for (const auto& [c, row] : p.cmtses)
    cmts_names.add(c.name, "CMTS name \"" + c.name + "\"", *row);
}

parsed_file read_file(const std::filesystem::path& path, const toml::value& doc) {
  parsed_file p;
  p.file = path.string();
  table_reader root(&doc, p.file, "");
  // Each row kind: read the fields strictly, refuse unknown ones.
  auto rows = [&](const char* key, auto read, auto& out) {
    for_each_row(root, key, [&](const toml::value& row) {
      table_reader r(&row, p.file, key);
      auto value = read(r);
      r.finish();
      out.push_back({std::move(value), &row});
    });
  };
  rows("carrier", read_carrier, p.carriers);
  rows("gateway", read_gateway, p.gateways);
  rows("facility", read_facility, p.facilities);
  rows("trunk_group", read_trunk_group, p.trunk_groups);
  rows("route", read_route, p.routes);
  rows("data_link", read_data_link, p.data_links);
  rows("cmts", read_cmts, p.cmtses);
  rows("subscriber", read_subscriber, p.subscribers);
  root.finish();
  check_references(p);
  return p;
}

template <class T>
std::vector<T> values(const std::vector<located<T>>& rows) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const auto& r : rows)
    out.push_back(r.value);
  return out;
}

// --- writing the tables -----------------------------------------------------------------------

/// A column value; monostate is SQL NULL (nullptr_t is not ordered, and rows are map keys).
using cell = std::variant<std::monostate, std::int64_t, std::string>;
using row = std::vector<cell>;

struct table_spec {
  const char* name;
  std::vector<const char*> columns;
  std::size_t key_columns; ///< the first N columns form the primary key
};

cell opt(const std::optional<std::string>& s) { return s ? cell(*s) : cell(std::monostate{}); }

cell read_cell(const statement& st, int i) {
  switch (st.kind(i)) {
  case statement::column_kind::null:
    return std::monostate{};
  case statement::column_kind::integer:
    return st.column_int64(i);
  default:
    return st.column_text(i);
  }
}

void bind_cell(statement& st, int index, const cell& c) {
  std::visit(
    [&](const auto& v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>)
        st.bind(index, nullptr);
      else
        st.bind(index, v);
    },
    c);
}

/// Makes `spec.name` hold exactly `desired`, counting what changed.
import_report::counts sync_table(database& db, const table_spec& spec,
                                 const std::vector<row>& desired) {
  import_report::counts counts;
  const auto ncols = spec.columns.size();
  auto key_of = [&](const row& r) { return row(r.begin(), r.begin() + spec.key_columns); };

  std::string cols, placeholders, key_match, assignments;
  for (std::size_t i = 0; i < ncols; ++i) {
    std::string c = spec.columns[i];
    std::string n = "?" + std::to_string(i + 1);
    cols += (i ? ", " : "") + c;
    placeholders += (i ? ", " : "") + n;
    if (i < spec.key_columns)
      key_match += (i ? " AND " : "") + c + " = " + n;
    else
      assignments += (assignments.empty() ? "" : ", ") + c + " = " + n;
  }

  std::map<row, row> existing;
  auto sel = db.prepare("SELECT " + cols + " FROM " + spec.name);
  while (sel.step()) {
    row r;
    for (std::size_t i = 0; i < ncols; ++i)
      r.push_back(read_cell(sel, static_cast<int>(i)));
    existing.emplace(key_of(r), std::move(r));
  }

  auto ins = db.prepare(std::string("INSERT INTO ") + spec.name + " (" + cols + ") VALUES (" +
                        placeholders + ")");
  std::optional<statement> upd;
  if (!assignments.empty())
    upd.emplace(db,
                std::string("UPDATE ") + spec.name + " SET " + assignments + " WHERE " + key_match);
  auto del = db.prepare(std::string("DELETE FROM ") + spec.name + " WHERE " + key_match);

  std::set<row> wanted;
  for (const auto& r : desired) {
    auto key = key_of(r);
    wanted.insert(key);
    auto it = existing.find(key);
    statement* st = nullptr;
    if (it == existing.end()) {
      st = &ins;
      ++counts.inserted;
    } else if (it->second != r) {
      st = &*upd;
      ++counts.updated;
    } else {
      ++counts.unchanged;
      continue;
    }
    st->reset();
    for (std::size_t i = 0; i < ncols; ++i)
      bind_cell(*st, static_cast<int>(i + 1), r[i]);
    st->run();
  }
  for (const auto& [key, r] : existing) {
    if (wanted.count(key))
      continue;
    del.reset();
    for (std::size_t i = 0; i < spec.key_columns; ++i)
      bind_cell(del, static_cast<int>(i + 1), r[i]);
    del.run();
    ++counts.deleted;
  }
  return counts;
}

import_report write_tables(database& db, const provisioning& p) {
  import_report report;
  std::vector<row> rows;
  auto sync = [&](const table_spec& spec) {
    report.tables[spec.name] = sync_table(db, spec, rows);
    rows.clear();
  };

  for (const auto& c : p.carriers)
    rows.push_back({c.id, c.name});
  sync({"carriers", {"id", "name"}, 1});

  for (const auto& g : p.gateways)
    rows.push_back({g.name, g.address, std::int64_t{g.port}, g.role, opt(g.spare_for), g.segment});
  sync({"gateways", {"name", "address", "port", "role", "spare_for", "segment"}, 1});

  for (const auto& f : p.facilities)
    rows.push_back({f.id, f.gateway, f.kind, f.carrier, std::int64_t{f.span},
                    std::int64_t{f.channels}, opt(f.backup_facility)});
  sync(
    {"facilities", {"id", "gateway", "kind", "carrier", "span", "channels", "backup_facility"}, 1});

  for (const auto& g : p.trunk_groups)
    rows.push_back({g.id, g.name, g.segment});
  sync({"trunk_groups", {"id", "name", "segment"}, 1});

  for (const auto& g : p.trunk_groups)
    for (const auto& m : g.members)
      rows.push_back({g.id, m.facility, std::int64_t{m.priority}});
  sync({"trunk_group_members", {"trunk_group", "facility", "priority"}, 2});

  for (const auto& r : p.routes)
    rows.push_back({r.prefix, r.trunk_group, std::int64_t{r.priority}});
  sync({"routes", {"prefix", "trunk_group", "priority"}, 2});

  for (const auto& d : p.data_links)
    rows.push_back(
      {d.name, d.kind, d.local_address, d.remote_address, std::int64_t{d.remote_port}});
  sync({"data_links", {"name", "kind", "local_address", "remote_address", "remote_port"}, 1});

  for (const auto& c : p.cmtses) {
    std::string subnets;
    for (const auto& n : c.subnets)
      subnets += (subnets.empty() ? "" : " ") + n;
    rows.push_back(
      {c.name, c.address, std::int64_t{c.port}, std::int64_t{c.dqos ? 1 : 0}, subnets});
  }
  sync({"cmts", {"name", "address", "port", "dqos", "subnets"}, 1});

  for (const auto& s : p.subscribers)
    rows.push_back({s.directory_number, s.endpoint_name, s.mta_fqdn, s.mta_address,
                    std::int64_t{s.mta_port}, s.display_name, s.status});
  sync({"subscribers",
        {"directory_number", "endpoint_name", "mta_fqdn", "mta_address", "mta_port", "display_name",
         "status"},
        1});
  return report;
}

} // namespace

provisioning_error::provisioning_error(std::string file, std::uint32_t line, std::string field,
                                       const std::string& problem)
  : std::runtime_error(toml_field_error::format(file, line, field, problem)),
    file_(std::move(file)),
    line_(line),
    field_(std::move(field)) {}

bool import_report::changed() const {
  for (const auto& [name, c] : tables)
    if (c.inserted || c.updated || c.deleted)
      return true;
  return false;
}

import_report::counts import_report::totals() const {
  counts sum;
  for (const auto& [name, c] : tables) {
    sum.inserted += c.inserted;
    sum.updated += c.updated;
    sum.deleted += c.deleted;
    sum.unchanged += c.unchanged;
  }
  return sum;
}

std::ostream& operator<<(std::ostream& os, const import_report& r) {
  auto t = r.totals();
  return os << t.inserted << " inserted, " << t.updated << " updated, " << t.deleted << " deleted, "
            << t.unchanged << " unchanged rows";
}

std::string import_report::to_string() const {
  std::string out;
  for (const auto& [name, c] : tables)
    out += name + ": " + std::to_string(c.inserted) + " inserted, " + std::to_string(c.updated) +
           " updated, " + std::to_string(c.deleted) + " deleted, " + std::to_string(c.unchanged) +
           " unchanged\n";
  return out;
}

namespace {

provisioning parse(const std::filesystem::path& file) {
  try {
    auto doc = config::parse_toml_file(file.string());
    auto p = read_file(file, doc);
    provisioning out;
    out.subscribers = values(p.subscribers);
    out.carriers = values(p.carriers);
    out.gateways = values(p.gateways);
    out.facilities = values(p.facilities);
    out.trunk_groups = values(p.trunk_groups);
    out.routes = values(p.routes);
    out.data_links = values(p.data_links);
    out.cmtses = values(p.cmtses);
    return out;
  } catch (const toml_field_error& e) {
    throw provisioning_error(e.file(), e.line(), e.key(), e.problem());
  }
}

} // namespace

provisioning parse_provisioning_file(const std::filesystem::path& file) { return parse(file); }

import_report import_provisioning(database& db, const std::filesystem::path& file) {
  // Validate everything before the first write: a bad row never reaches the database.
  auto p = parse(file);
  transaction tx(db, transaction::mode::immediate);
  // Rows reference each other (facility backups, spares); check references once, at commit.
  db.exec("PRAGMA defer_foreign_keys = ON");
  auto report = write_tables(db, p);
  tx.commit();
  return report;
}

import_report provision_database(const std::filesystem::path& file,
                                 const std::filesystem::path& db_file) {
  auto p = parse(file); // refuse a bad file before creating a database for it
  (void)p;
  auto db = database::open(db_file);
  return import_provisioning(db, file);
}

} // namespace cms::persistence
