#include "runtime/http/metrics_route.hpp"

namespace cms::http {

handler metrics_handler(metrics::registry& registry) {
  return [&registry](const request&, respond_fn respond) {
    respond(text_response(200, registry.render_prometheus(), prometheus_content_type));
  };
}

} // namespace cms::http
