#pragma once
// GET /metrics: the registry in Prometheus text exposition format 0.0.4.

#include "runtime/http/message.hpp"
#include "runtime/base/metrics.hpp"

namespace cms::http {

inline constexpr const char* prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// The registry must outlive the route.
handler metrics_handler(metrics::registry& registry);

} // namespace cms::http
