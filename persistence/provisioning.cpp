#include "persistence/provisioning.hpp"

#include "persistence/database.hpp"

#include <tuple>

namespace cms::persistence {

bool subscriber::operator==(const subscriber& o) const {
  return std::tie(directory_number, endpoint_name, mta_fqdn, mta_address, mta_port, display_name,
                  status) == std::tie(o.directory_number, o.endpoint_name, o.mta_fqdn,
                                      o.mta_address, o.mta_port, o.display_name, o.status);
}

bool gateway::operator==(const gateway& o) const {
  return std::tie(name, address, port, role, spare_for, segment) ==
         std::tie(o.name, o.address, o.port, o.role, o.spare_for, o.segment);
}

bool facility::operator==(const facility& o) const {
  return std::tie(id, gateway, kind, carrier, span, channels, backup_facility) ==
         std::tie(o.id, o.gateway, o.kind, o.carrier, o.span, o.channels, o.backup_facility);
}

bool trunk_group::operator==(const trunk_group& o) const {
  return std::tie(id, name, segment, members) == std::tie(o.id, o.name, o.segment, o.members);
}

bool data_link::operator==(const data_link& o) const {
  return std::tie(name, kind, local_address, remote_address, remote_port) ==
         std::tie(o.name, o.kind, o.local_address, o.remote_address, o.remote_port);
}

namespace {

subscriber read_subscriber(const statement& st) {
  subscriber s;
  s.directory_number = st.column_text(0);
  s.endpoint_name = st.column_text(1);
  s.mta_fqdn = st.column_text(2);
  s.mta_address = st.column_text(3);
  s.mta_port = static_cast<std::uint16_t>(st.column_int(4));
  s.display_name = st.column_text(5);
  s.status = st.column_text(6);
  return s;
}

constexpr const char* subscriber_columns =
  "SELECT directory_number, endpoint_name, mta_fqdn, mta_address, mta_port, display_name, status "
  "FROM subscribers";

} // namespace

provisioning provisioning_store::load_all() {
  provisioning p;
  p.subscribers = subscribers();
  p.carriers = carriers();
  p.gateways = gateways();
  p.facilities = facilities();
  p.trunk_groups = trunk_groups();
  p.routes = routes();
  p.data_links = data_links();
  p.cmtses = cmtses();
  return p;
}

std::vector<subscriber> provisioning_store::subscribers() {
  std::vector<subscriber> out;
  auto st = db_.prepare(std::string(subscriber_columns) + " ORDER BY directory_number");
  while (st.step())
    out.push_back(read_subscriber(st));
  return out;
}

std::optional<subscriber> provisioning_store::subscriber_by_number(const std::string& dn) {
  auto st = db_.prepare(std::string(subscriber_columns) + " WHERE directory_number = ?");
  st.bind(1, dn);
  if (!st.step())
    return std::nullopt;
  return read_subscriber(st);
}

std::vector<carrier> provisioning_store::carriers() {
  std::vector<carrier> out;
  auto st = db_.prepare("SELECT id, name FROM carriers ORDER BY id");
  while (st.step())
    out.push_back({st.column_text(0), st.column_text(1)});
  return out;
}

std::vector<gateway> provisioning_store::gateways() {
  std::vector<gateway> out;
  auto st =
    db_.prepare("SELECT name, address, port, role, spare_for, segment FROM gateways ORDER BY name");
  while (st.step()) {
    gateway g;
    g.name = st.column_text(0);
    g.address = st.column_text(1);
    g.port = static_cast<std::uint16_t>(st.column_int(2));
    g.role = st.column_text(3);
    g.spare_for = st.column_optional_text(4);
    g.segment = st.column_text(5);
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<facility> provisioning_store::facilities() {
  std::vector<facility> out;
  auto st = db_.prepare("SELECT id, gateway, kind, carrier, span, channels, backup_facility "
                        "FROM facilities ORDER BY id");
  while (st.step()) {
    facility f;
    f.id = st.column_text(0);
    f.gateway = st.column_text(1);
    f.kind = st.column_text(2);
    f.carrier = st.column_text(3);
    f.span = st.column_int(4);
    f.channels = st.column_int(5);
    f.backup_facility = st.column_optional_text(6);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<trunk_group> provisioning_store::trunk_groups() {
  std::vector<trunk_group> out;
  auto groups = db_.prepare("SELECT id, name, segment FROM trunk_groups ORDER BY id");
  auto members = db_.prepare("SELECT facility, priority FROM trunk_group_members "
                             "WHERE trunk_group = ? ORDER BY priority, facility");
  while (groups.step()) {
    trunk_group g;
    g.id = groups.column_text(0);
    g.name = groups.column_text(1);
    g.segment = groups.column_text(2);
    members.reset();
    members.bind(1, g.id);
    while (members.step())
      g.members.push_back({members.column_text(0), members.column_int(1)});
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<route> provisioning_store::routes() {
  std::vector<route> out;
  // Longest prefix first, so a consumer can take the first match.
  auto st = db_.prepare("SELECT prefix, trunk_group, priority FROM routes "
                        "ORDER BY length(prefix) DESC, prefix, priority, trunk_group");
  while (st.step())
    out.push_back({st.column_text(0), st.column_text(1), st.column_int(2)});
  return out;
}

std::vector<data_link> provisioning_store::data_links() {
  std::vector<data_link> out;
  auto st = db_.prepare("SELECT name, kind, local_address, remote_address, remote_port "
                        "FROM data_links ORDER BY name");
  while (st.step()) {
    data_link d;
    d.name = st.column_text(0);
    d.kind = st.column_text(1);
    d.local_address = st.column_text(2);
    d.remote_address = st.column_text(3);
    d.remote_port = static_cast<std::uint16_t>(st.column_int(4));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<cmts> provisioning_store::cmtses() {
  std::vector<cmts> out;
  auto st = db_.prepare("SELECT name, address, port, dqos, subnets FROM cmts ORDER BY name");
  while (st.step()) {
    cmts c;
    c.name = st.column_text(0);
    c.address = st.column_text(1);
    c.port = static_cast<std::uint16_t>(st.column_int(2));
    c.dqos = st.column_int(3) != 0;
    // Stored as one space-separated column: the list is read and written whole.
    auto text = st.column_text(4);
    std::size_t at = 0;
    while (at < text.size()) {
      auto end = text.find(' ', at);
      if (end == std::string::npos)
        end = text.size();
      if (end > at)
        c.subnets.push_back(text.substr(at, end - at));
      at = end + 1;
    }
    out.push_back(std::move(c));
  }
  return out;
}

} // namespace cms::persistence
