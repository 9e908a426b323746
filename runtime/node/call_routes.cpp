#include "runtime/node/call_routes.hpp"

#include "actors/calls/state_catalog.hpp"
#include "runtime/http/message.hpp"

#include <caf/all.hpp>

#include <charconv>
#include <optional>
#include <string>

namespace cms {

namespace {

std::optional<std::size_t> parse_size(const std::string& s) {
  std::size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size())
    return std::nullopt;
  return v;
}

bool valid_state(const std::string& kind, const std::string& s) {
  if (s.empty())
    return true;
  if (kind == "calls") {
    for (int i = 0; i <= static_cast<int>(actors::call_phase::ended); ++i)
      if (s == actors::to_string(static_cast<actors::call_phase>(i)))
        return true;
    return false;
  }
  for (int i = 0; i <= static_cast<int>(actors::line_state::disconnected); ++i)
    if (s == actors::to_string(static_cast<actors::line_state>(i)))
      return true;
  return false;
}

http::handler listing(std::shared_ptr<actors::call_context> ctx, caf::actor_system* sys,
                      std::string kind) {
  return [ctx, sys, kind](const http::request& req, http::respond_fn respond) {
    actors::list_query q;
    q.kind = kind;
    q.state = req.query_param("state");
    q.mta = req.query_param("mta");
    auto offset = parse_size(req.query_param("offset", "0"));
    auto limit = parse_size(req.query_param("limit", "100"));
    if (!offset || !limit || *limit == 0 || *limit > 1000) {
      respond(http::json_error(400, "offset must be >= 0 and limit 1..1000"));
      return;
    }
    if (!valid_state(kind, q.state)) {
      respond(http::json_error(400, "unknown state \"" + q.state + "\""));
      return;
    }
    q.offset = *offset;
    q.limit = *limit;
    auto catalog = ctx->catalog();
    if (!catalog) {
      respond(http::json_error(503, "call control not running"));
      return;
    }
    // A short-lived actor asks the catalogue; the connection's thread never waits.
    // The unused int: CAF 0.17 dereferences a null argument tuple (UBSan) when a lambda actor
    // is spawned without arguments.
    sys->spawn(
      [catalog, q, respond](caf::event_based_actor* self, int) {
        self->request(catalog, std::chrono::seconds{3}, q)
          .then(
            [respond](std::string& body) {
              respond(http::text_response(200, std::move(body), "application/json"));
            },
            [respond](caf::error&) {
              respond(http::json_error(503, "state catalogue did not answer"));
            });
      },
      0);
  };
}

} // namespace

void add_call_routes(http::server& server, caf::actor_system& sys,
                     std::shared_ptr<actors::call_context> calls) {
  server.add_route(http::verb::get, "/endpoints", listing(calls, &sys, "endpoints"));
  server.add_route(http::verb::get, "/calls", listing(calls, &sys, "calls"));
}

} // namespace cms
