#include "actors/billing/event_messages.hpp"

#include <chrono>

namespace cms::billing {

namespace {

namespace r = cms::radius;

/// CableLabs string attributes hold at most 247 octets (one VSA); longer values are cut rather
/// than letting one odd record block the outbox.
std::string clip(const std::string& s) { return s.size() > 247 ? s.substr(0, 247) : s; }

/// One half of the call as the EMs see it.
struct half_call {
  bool terminating = false;
  std::string endpoint;
  r::bcid id;
  r::bcid other; ///< the other half's BCID (Related-Call-Billing-Correlation-ID)
  bool trunk() const { return is_trunk_endpoint(endpoint); }
};

/// The trunk group of an off-net route "offnet:<prefix>:<trunk group>/<facility>"; empty
/// otherwise.
std::string trunk_group_of(const std::string& route) {
  if (route.rfind("offnet:", 0) != 0)
    return {};
  auto second = route.find(':', 7);
  if (second == std::string::npos)
    return {};
  auto slash = route.find('/', second + 1);
  return route.substr(second + 1,
                      slash == std::string::npos ? std::string::npos : slash - second - 1);
}

/// Trunk-Group-ID carries a number: the trailing digits of the trunk group's name (at most 9),
/// 0 when it has none.
std::uint32_t trunk_number_of(const std::string& group) {
  auto end = group.size();
  auto begin = end;
  while (begin > 0 && end - begin < 9 && group[begin - 1] >= '0' && group[begin - 1] <= '9')
    --begin;
  return begin == end ? 0 : static_cast<std::uint32_t>(std::stoul(group.substr(begin)));
}

class builder {
public:
  builder(const billing_record& rec, const em_identity& id) : rec_(rec), id_(id) {
    event_time_ = r::format_event_time(
      std::chrono::system_clock::time_point{std::chrono::milliseconds{rec.timestamp_ms}});
  }

  void add(std::uint32_t slot, const half_call& h, r::em_type type,
           std::vector<r::cl_attribute> attrs) {
    r::event_message em;
    em.header.billing_correlation_id = h.id;
    em.header.type = type;
    em.header.element_id = id_.element_id;
    em.header.time_zone = id_.time_zone;
    em.header.sequence =
      static_cast<std::uint32_t>(rec_.sequence * em_slots_per_record + slot); // mod 2^32
    em.header.event_time = event_time_;
    em.attributes = std::move(attrs);
    out.push_back(std::move(em));
  }

  /// Signaling_Start of an MTA half, Interconnect_Signaling_Start of a trunk half.
  void half_start(std::uint32_t slot, const half_call& h) {
    std::vector<r::cl_attribute> a;
    a.push_back(r::attr::direction_indicator(h.terminating ? r::direction::terminating
                                                           : r::direction::originating));
    if (!h.trunk() && !h.endpoint.empty())
      a.push_back(r::attr::mta_endpoint_name(clip(h.endpoint)));
    if (!rec_.calling_number.empty())
      a.push_back(r::attr::calling_party_number(clip(rec_.calling_number)));
    if (!rec_.called_number.empty()) {
      a.push_back(r::attr::called_party_number(clip(rec_.called_number)));
      a.push_back(r::attr::routing_number(clip(rec_.called_number)));
    }
    if (h.trunk()) {
      a.push_back(r::attr::trunk_group({9, trunk_number_of(trunk_group_of(rec_.route))}));
      if (!rec_.carrier.empty())
        a.push_back(r::attr::carrier_identification_code(clip(rec_.carrier)));
    }
    if (!id_.financial_entity_id.empty())
      a.push_back(r::attr::financial_entity_id(clip(id_.financial_entity_id)));
    if (h.terminating)
      a.push_back(r::attr::related_call_bcid(h.other));
    add(slot, h, h.trunk() ? r::em_type::interconnect_signaling_start : r::em_type::signaling_start,
        std::move(a));
  }

  void answer(std::uint32_t slot, const half_call& h) {
    std::vector<r::cl_attribute> a;
    if (!rec_.calling_number.empty())
      a.push_back(r::attr::charge_number(clip(rec_.calling_number)));
    a.push_back(r::attr::related_call_bcid(h.other));
    add(slot, h, r::em_type::call_answer, std::move(a));
  }

  void disconnect(std::uint32_t slot, const half_call& h) {
    add(slot, h, r::em_type::call_disconnect, {r::attr::termination_cause(cause())});
  }

  /// Signaling_Stop of an MTA half, Interconnect_Signaling_Stop of a trunk half.
  void half_stop(std::uint32_t slot, const half_call& h) {
    std::vector<r::cl_attribute> a{r::attr::termination_cause(cause())};
    if (h.trunk())
      a.push_back(r::attr::trunk_group({9, trunk_number_of(trunk_group_of(rec_.route))}));
    add(slot, h, h.trunk() ? r::em_type::interconnect_signaling_stop : r::em_type::signaling_stop,
        std::move(a));
  }

  /// Time_Change: the element's wall clock was stepped while this half-call was up.
  void time_change(std::uint32_t slot, const half_call& h) {
    add(slot, h, r::em_type::time_change, {r::attr::time_adjustment(rec_.time_adjustment_ms)});
  }

  std::vector<r::event_message> out;

private:
  /// Source document 1 (BAF) with the Q.850 cause value of the release.
  r::call_termination_cause cause() const {
    return {1, static_cast<std::uint32_t>(rec_.release_cause < 0 ? 0 : rec_.release_cause)};
  }

  const billing_record& rec_;
  const em_identity& id_;
  std::string event_time_;
};

} // namespace

std::string default_element_id(const std::string& cluster_id) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : cluster_id) {
    h ^= c;
    h *= 16777619u;
  }
  auto digits = std::to_string(h % 100000);
  return std::string(5 - digits.size(), '0') + digits;
}

bool is_trunk_endpoint(const std::string& endpoint) { return endpoint.rfind("ds/", 0) == 0; }

radius::bcid half_call_bcid(const em_identity& id, std::uint64_t start_sequence,
                            std::int64_t start_ms, bool terminating) {
  radius::bcid b;
  b.timestamp = static_cast<std::uint32_t>((start_ms < 0 ? 0 : start_ms) / 1000);
  b.element_id = id.element_id;
  b.time_zone = id.time_zone;
  b.event_counter = static_cast<std::uint32_t>(start_sequence * 2 + (terminating ? 1 : 0));
  return b;
}

std::vector<radius::event_message>
event_messages_for(const billing_record& rec, const em_call_context& call, const em_identity& id) {
  const auto start_sequence = call.start ? call.start->sequence : rec.sequence;
  const auto start_ms = call.start ? call.start->timestamp_ms : rec.timestamp_ms;
  half_call orig{false, rec.originating, half_call_bcid(id, start_sequence, start_ms, false), {}};
  half_call term{true, rec.terminating, half_call_bcid(id, start_sequence, start_ms, true), {}};
  orig.other = term.id;
  term.other = orig.id;
  // A terminating half exists once the call reached a line or a trunk channel.
  const bool has_term = !rec.terminating.empty();

  builder b{rec, id};
  if (rec.event == "time_change") {
    b.time_change(0, orig);
    if (has_term)
      b.time_change(1, term);
  } else if (rec.event == "signaling_start") {
    b.half_start(0, orig);
  } else if (rec.event == "call_answer") {
    if (has_term)
      b.half_start(0, term);
    b.answer(1, orig);
    if (has_term)
      b.answer(2, term);
  } else if (rec.event == "signaling_stop") {
    if (call.answered) {
      b.disconnect(0, orig);
      if (has_term)
        b.disconnect(1, term);
    } else if (has_term) {
      b.half_start(0, term); // busy, no answer: the terminating half opens and closes here
    }
    b.half_stop(2, orig);
    if (has_term)
      b.half_stop(3, term);
  }
  return std::move(b.out);
}

} // namespace cms::billing
