// The management API's request handling under hostile bytes: the steps of http::detail::session
// (read_header/on_header/read_body/dispatch_request) without the socket. Beast's parser gets the
// server's limits, then the request is taken apart, routed and answered as the session does it.
#include "node_checks.hpp"

#include "runtime/http/auth.hpp"
#include "runtime/http/message.hpp"
#include "runtime/http/router.hpp"
#include "runtime/http/server.hpp"
#include "runtime/http/uri.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

namespace cms::fuzz {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

[[noreturn]] void violated(const char* what, std::string_view input) {
  std::fprintf(stderr, "http fuzz invariant violated: %s\ninput (%zu bytes): %.*s\n", what,
               input.size(), static_cast<int>(std::min<std::size_t>(input.size(), 2000)),
               input.data());
  std::abort();
}

void require(bool ok, const char* what, std::string_view input) {
  if (!ok)
    violated(what, input);
}

/// The node's route shapes (literal, named segments, admin routes behind the bearer guard, a
/// prefix wildcard); handlers answer from what the request carried, as the real ones do.
const http::router& node_routes() {
  static const auto routes = [] {
    auto r = std::make_unique<http::router>();
    auto echo = [](const http::request& req, http::respond_fn respond) {
      std::string text = req.method_name + " " + req.path;
      for (const auto& [k, v] : req.query)
        text += " q:" + k + "=" + v;
      for (const auto& [k, v] : req.params)
        text += " p:" + k + "=" + v;
      respond(http::text_response(200, text));
    };
    for (const char* path :
         {"/healthz", "/status", "/cluster", "/billing", "/events", "/endpoints", "/calls",
          "/calls/{id}", "/trunks", "/routes", "/metrics", "/static/*"})
      r->add(http::verb::get, path, echo);
    auto admin = http::require_bearer("s3cret-token");
    for (const char* path : {"/admin/switchover", "/admin/drain", "/admin/provision",
                             "/admin/links/{name}/out-of-service", "/admin/gateways/{name}/return"})
      r->add(http::verb::post, path, admin(echo));
    return r;
  }();
  return *routes;
}

/// What session::send puts on the wire; rendering must work for every answer.
void render(const http::response& r, bool head, std::string_view input) {
  require(http::reason_phrase(r.status) != "Unknown", "response with an unknown status", input);
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
  res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers)
    res.insert(name, value);
  if (!head) {
    res.body() = r.body;
    res.prepare_payload();
  }
  std::ostringstream wire;
  wire << res;
}

/// session::dispatch_request.
void dispatch(bhttp::request<bhttp::string_body>& wire, std::string_view input) {
  bool head = wire.method() == http::verb::head;
  auto target = http::parse_target(std::string_view(wire.target().data(), wire.target().size()));
  if (!target) {
    render(http::json_error(400, "malformed request target"), false, input);
    return;
  }
  require(!target->path.empty() && target->path.front() == '/', "path without leading '/'", input);

  http::request req;
  req.method = wire.method();
  req.method_name = std::string(wire.method_string());
  req.target = std::string(wire.target());
  req.path = std::move(target->path);
  req.query = std::move(target->query);
  for (const auto& field : wire) {
    auto [it, inserted] =
      req.headers.try_emplace(std::string(field.name_string()), std::string(field.value()));
    if (!inserted)
      it->second += ", " + std::string(field.value());
  }
  req.body = std::move(wire.body());

  auto match = node_routes().match(req.method, req.path);
  if (match.result == http::router::outcome::not_found) {
    render(http::json_error(404, "no resource at " + req.path), head, input);
    return;
  }
  if (match.result == http::router::outcome::method_not_allowed) {
    require(!match.allow.empty(), "405 without an Allow list", input);
    render(http::json_error(405, "method " + req.method_name + " not allowed on " + req.path), head,
           input);
    return;
  }
  req.params = std::move(match.params);
  int answers = 0;
  http::response answer;
  match.target(req, [&](http::response r) {
    ++answers;
    answer = std::move(r);
  });
  require(answers == 1, "a routed request was not answered exactly once", input);
  render(answer, head, input);
}

/// Feeds bytes to the parser as Beast's read loop does; false when the request is refused or
/// incomplete (every such case ends in a 4xx or a close in the session).
bool feed(bhttp::request_parser<bhttp::string_body>& parser, std::string_view& rest,
          bool header_only) {
  beast::error_code ec;
  while (header_only ? !parser.is_header_done() : !parser.is_done()) {
    if (rest.empty()) {
      parser.put_eof(ec);
      return !ec && (header_only ? parser.is_header_done() : parser.is_done());
    }
    auto used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
    if (ec == bhttp::error::need_more) {
      // Beast needs more than is there: the next read would wait for the client, which here has
      // nothing more to say.
      if (used == 0) {
        rest = {};
        parser.put_eof(ec);
        return !ec && (header_only ? parser.is_header_done() : parser.is_done());
      }
      ec = {};
    }
    if (ec)
      return false;
    rest.remove_prefix(used);
  }
  return true;
}

} // namespace

void check_http(std::string_view input) {
  const std::size_t budget = http::server_config{}.max_request_bytes;
  // Keep-alive: the bytes may hold several requests; each is handled like the first.
  std::string_view rest = input;
  for (int requests = 0; requests < 8 && !rest.empty(); ++requests) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(budget));
    parser.body_limit(budget);
    auto before = rest.size();
    if (!feed(parser, rest, true))
      return;
    std::size_t header_bytes = before - rest.size();
    std::size_t left = header_bytes < budget ? budget - header_bytes : 0;
    auto length = parser.content_length();
    if (length && *length > left) {
      render(http::json_error(413, "request body too large"), false, input);
      return;
    }
    parser.body_limit(left);
    parser.eager(true);
    if (!feed(parser, rest, false))
      return;
    auto message = parser.release();
    bool keep_alive = message.keep_alive();
    dispatch(message, input);
    if (!keep_alive)
      return;
  }
}

} // namespace cms::fuzz
