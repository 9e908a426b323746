#include "actors/calls/call_context.hpp"

#include "actors/calls/services/emergency.hpp"

#include <chrono>
#include <stdexcept>

namespace cms::actors {

call_metrics::call_metrics(metrics::registry& r)
  : registry(r),
    calls_active(r.get_gauge("cms_calls_active", "Calls in progress (any phase)")),
    call_attempts(r.get_counter("cms_call_attempts_total", "Calls started (line off hook)")),
    call_completions(r.get_counter("cms_call_completions_total", "Calls answered")),
    calls_crashed(r.get_counter("cms_calls_crashed_total",
                                "Call actors that died abnormally (their lines were cleaned up)")),
    setup_latency_ms(r.get_histogram(
      "cms_call_setup_latency_ms",
      "Dial complete (digits received) to ringback applied on the caller, milliseconds",
      {5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000})),
    endpoints_registered(
      r.get_gauge("cms_endpoints_registered", "Lines registered (RSIP, audited)")),
    endpoints_total(r.get_gauge("cms_endpoints_total", "Lines provisioned")),
    spoofed(r.get_counter("cms_mgcp_spoofed_total",
                          "Commands for a line refused because they came from another address")),
    stale_notifies(r.get_counter("cms_mgcp_stale_notify_total",
                                 "NTFYs ignored because their request id was not the armed one")),
    audits_spared(r.get_counter("cms_endpoint_audits_spared_total",
                                "In-call audits not sent: the MTA was heard within the interval")),
    billing_records(r.get_counter("cms_billing_records_written_total",
                                  "Billing records committed to the outbox")),
    billing_batches(
      r.get_counter("cms_billing_batches_total", "Outbox transactions (group commits)")),
    billing_errors(r.get_counter("cms_billing_write_errors_total",
                                 "Outbox writes that failed and were retried")),
    emergency_calls(r.get_counter("cms_emergency_calls_total",
                                  "Calls to an emergency code, admitted whatever the load")) {}

metrics::counter& call_metrics::emergency_window(const char* reason) {
  return registry.get_counter(
    "cms_emergency_window_total",
    "Attempts refused by the overload gate or a drain that got the emergency dial-tone window",
    {{"reason", reason}});
}

metrics::counter& call_metrics::emergency_past_gate(const char* reason) {
  return registry.get_counter(
    "cms_emergency_calls_past_gate_total",
    "Emergency calls dialled in the window of an attempt the overload gate or a drain refused",
    {{"reason", reason}});
}

metrics::counter& call_metrics::failures(int cause) {
  return registry.get_counter("cms_call_failures_total", "Calls ended without answer, by cause",
                              {{"cause", std::to_string(cause)}});
}

namespace {
mgcp::digit_map compile_map(const std::string& text) {
  std::string why;
  auto map = mgcp::digit_map::compile(text, &why);
  if (!map)
    throw std::invalid_argument("digit map \"" + text + "\": " + why);
  return *map;
}

/// The configured map, completed with the emergency codes it does not dial yet.
call_settings with_emergency_codes(call_settings s) {
  s.digit_map = services::digit_map_with_codes(s.digit_map, s.emergency_codes);
  return s;
}
} // namespace

call_context::call_context(call_settings s, metrics::registry& registry, dial_plan p)
  : settings(with_emergency_codes(std::move(s))),
    metrics(registry),
    plan(std::move(p)),
    digit_map(compile_map(settings.digit_map)),
    emergency_digit_map(settings.emergency_window.count() > 0
                          ? services::emergency_digit_map(settings.emergency_codes)
                          : std::string{}),
    admission(settings.max_call_rate, settings.call_rate_burst, registry) {}

void call_context::save(const endpoint_state& st) {
  std::lock_guard guard{snapshots_mutex_};
  snapshots_[st.name] = st;
}

std::optional<endpoint_state> call_context::snapshot(const std::string& name) const {
  std::lock_guard guard{snapshots_mutex_};
  auto it = snapshots_.find(name);
  if (it == snapshots_.end())
    return std::nullopt;
  return it->second;
}

std::vector<endpoint_state> call_context::snapshots() const {
  std::lock_guard guard{snapshots_mutex_};
  std::vector<endpoint_state> out;
  out.reserve(snapshots_.size());
  for (auto& [k, v] : snapshots_)
    out.push_back(v);
  return out;
}

void call_context::clear() {
  {
    std::lock_guard guard{mutex_};
    edge_ = manager_ = catalog_ = outbox_ = nullptr;
  }
  directory.clear();
}

} // namespace cms::actors
