#include "test/tools/rks/record_export.hpp"

#include "persistence/rks_protocol.hpp"

#include <boost/json.hpp>

namespace cms::billing {

namespace {

boost::json::object to_json(const stored_record& s) {
  auto o = rks::record_to_json(s.record);
  o["node"] = s.node;
  o["received_ms"] = s.received_ms;
  return o;
}

void csv_field(std::string& out, const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
}

} // namespace

std::string export_csv(const std::vector<stored_record>& records) {
  std::string out = "record_id,sequence,event,call_id,calling_number,called_number,originating,"
                    "terminating,route,carrier,timestamp_ms,release_cause,connection_stats,node,"
                    "received_ms\r\n";
  for (const auto& s : records) {
    const auto& r = s.record;
    csv_field(out, r.record_id);
    out += ',' + std::to_string(r.sequence) + ',';
    for (const std::string* f : {&r.event, &r.call_id, &r.calling_number, &r.called_number,
                                 &r.originating, &r.terminating, &r.route, &r.carrier}) {
      csv_field(out, *f);
      out += ',';
    }
    out += std::to_string(r.timestamp_ms) + ',' + std::to_string(r.release_cause) + ',';
    csv_field(out, r.connection_stats);
    out += ',';
    csv_field(out, s.node);
    out += ',' + std::to_string(s.received_ms) + "\r\n";
  }
  return out;
}

std::string export_json(const std::vector<stored_record>& records) {
  boost::json::array a;
  a.reserve(records.size());
  for (const auto& s : records)
    a.push_back(to_json(s));
  return boost::json::serialize(a) + "\n";
}

std::string list_json_lines(const std::vector<stored_record>& records) {
  std::string out;
  for (const auto& s : records)
    out += boost::json::serialize(to_json(s)) + "\n";
  return out;
}

std::string list_text(const std::vector<stored_record>& records) {
  std::string out;
  for (const auto& s : records) {
    const auto& r = s.record;
    out += std::to_string(r.sequence) + " " + r.record_id + " " + r.event + " " + r.calling_number +
           "->" + r.called_number + " cause=" + std::to_string(r.release_cause) +
           " node=" + s.node + "\n";
  }
  return out;
}

} // namespace cms::billing
