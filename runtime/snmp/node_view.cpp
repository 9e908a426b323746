#include "runtime/snmp/node_view.hpp"

#include <set>
#include <sstream>

namespace cms::snmp {
namespace {

template <class Enum>
bool in_range(Enum value, int low, int high) {
  const int v = static_cast<int>(value);
  return v >= low && v <= high;
}

/// Index and DisplayString checks shared by the tables; `what` names the table in the message.
class table_checker {
public:
  explicit table_checker(const char* what) : what_(what) {}

  std::string index(std::uint32_t index) {
    if (index == 0 || index > max_table_index)
      return message(index, "index out of range 1..65535");
    if (!seen_.insert(index).second)
      return message(index, "duplicate index");
    return {};
  }

  std::string text(std::uint32_t index, const char* field, const std::string& value) const {
    if (value.size() > max_name_length)
      return message(index, std::string(field) + " longer than 64 octets");
    return {};
  }

  std::string enumeration(std::uint32_t index, const char* field, bool ok) const {
    return ok ? std::string{} : message(index, std::string(field) + " has no MIB value");
  }

private:
  std::string message(std::uint32_t index, const std::string& problem) const {
    std::ostringstream out;
    out << what_ << " row " << index << ": " << problem;
    return out.str();
  }

  const char* what_;
  std::set<std::uint32_t> seen_;
};

/// Returns the first non-empty message of the list.
template <class... Messages>
std::string first_of(Messages&&... messages) {
  std::string result;
  ((result.empty() ? (void)(result = std::forward<Messages>(messages)) : (void)0), ...);
  return result;
}

} // namespace

std::string validate(const node_view& view) {
  if (view.node_id.size() > max_name_length)
    return "node_id longer than 64 octets";
  if (!in_range(view.role, 1, 4))
    return "role has no MIB value";
  if (!in_range(view.peer, 1, 3) || !in_range(view.heartbeat_peer_link, 1, 3) ||
      !in_range(view.heartbeat_second_path, 1, 3))
    return "peer or heartbeat path state has no MIB value";
  if (!in_range(view.billing_backlog_alarm, 1, 2))
    return "billing_backlog_alarm has no MIB value";

  table_checker causes("call_failures_by_cause");
  for (const auto& row : view.call_failures_by_cause) {
    auto problem = first_of(causes.index(row.cause), causes.text(row.cause, "name", row.name));
    if (!problem.empty())
      return problem;
  }
  table_checker gateways("gateways");
  for (const auto& row : view.gateways) {
    auto problem = first_of(gateways.index(row.index), gateways.text(row.index, "name", row.name),
                            gateways.text(row.index, "address", row.address),
                            gateways.text(row.index, "segment", row.segment),
                            gateways.text(row.index, "facility", row.facility),
                            gateways.text(row.index, "carrier", row.carrier),
                            gateways.enumeration(row.index, "role", in_range(row.role, 1, 3)),
                            gateways.enumeration(row.index, "state", in_range(row.state, 1, 5)));
    if (!problem.empty())
      return problem;
  }
  table_checker facilities("facilities");
  for (const auto& row : view.facilities) {
    auto problem = first_of(facilities.index(row.index), facilities.text(row.index, "id", row.id),
                            facilities.text(row.index, "gateway", row.gateway),
                            facilities.text(row.index, "carrier", row.carrier),
                            facilities.enumeration(row.index, "kind", in_range(row.kind, 1, 2)),
                            facilities.enumeration(row.index, "state", in_range(row.state, 1, 5)));
    if (!problem.empty())
      return problem;
  }
  table_checker links("data_links");
  for (const auto& row : view.data_links) {
    auto problem = first_of(links.index(row.index), links.text(row.index, "name", row.name),
                            links.enumeration(row.index, "kind", in_range(row.kind, 1, 2)),
                            links.enumeration(row.index, "state", in_range(row.state, 1, 3)));
    if (!problem.empty())
      return problem;
  }
  return {};
}

} // namespace cms::snmp
