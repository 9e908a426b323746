#include "runtime/http/session.hpp"

#include "runtime/http/server_state.hpp"
#include "runtime/http/uri.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <exception>

namespace cms::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

/// Drained bytes and time after an error answer: enough for the client to read the answer before
/// the close (closing with unread input makes the kernel send RST, which can destroy the answer in
/// flight), bounded so that a hostile client cannot hold the connection.
constexpr std::size_t max_drain_bytes = 1 << 20;
constexpr std::chrono::milliseconds max_drain_time{2000};

bool is_parse_error(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

} // namespace

session::session(asio::ip::tcp::socket socket, std::shared_ptr<server_state> state)
  : stream_(std::move(socket)),
    state_(std::move(state)),
    handler_timer_(stream_.get_executor()),
    pace_timer_(stream_.get_executor()) {
  boost::system::error_code ec;
  auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    remote_address_ = remote.address().to_string();
    remote_port_ = remote.port();
  }
  if (state_->tls)
    tls_.emplace(stream_, *state_->tls);
  state_->active_connections.add(1);
  state_->connections_total.inc();
}

session::~session() {
  state_->active_connections.add(-1);
  state_->remove_session(this);
}

void session::run() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->tls_)
      self->handshake();
    else
      self->read_header();
  });
}

void session::reject_over_limit() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->tls_) {
      // No TLS handshake is spent on a connection that is refused anyway.
      self->state_->count_error("connection_limit");
      self->close_now();
      return;
    }
    self->fail(503, "too many connections", "connection_limit");
  });
}

void session::reject_over_address_limit() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->tls_) {
      self->state_->count_error("address_connection_limit");
      self->close_now();
      return;
    }
    self->fail(429, "too many connections from this address", "address_connection_limit");
  });
}

void session::handshake() {
  stream_.expires_after(state_->cfg.idle_timeout);
  tls_->async_handshake(
    asio::ssl::stream_base::server,
    [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
}

void session::on_handshake(beast::error_code ec) {
  if (closed_)
    return;
  if (!ec) {
    read_header();
    return;
  }
  state_->count_error("tls_handshake");
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST) {
    // Plain HTTP sent to the HTTPS port: say so in clear text instead of a silent close.
    static const char answer[] =
      "HTTP/1.1 400 Bad Request\r\nServer: cmsd\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nContent-Length: 79\r\n\r\n"
      "{\"error\":{\"status\":400,\"message\":\"this port speaks HTTPS: use https:// URLs\"}}\n";
    stream_.expires_after(max_drain_time);
    asio::async_write(
      stream_, asio::buffer(answer, sizeof(answer) - 1),
      [self = shared_from_this()](beast::error_code, std::size_t) { self->close_now(); });
    return;
  }
  state_->log->debug("tls handshake with {}:{} failed: {}", remote_address_, remote_port_,
                     ec.message());
  close_now();
}

void session::shutdown() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void session::read_header() {
  if (closed_)
    return;
  if (state_->stopping) {
    close_now();
    return;
  }
  parser_.emplace();
  // The body limit is set to the whole budget here so that a Content-Length beyond it is refused
  // while parsing the header; it is narrowed to what the header left once the header is known.
  parser_->header_limit(
    static_cast<std::uint32_t>(std::min<std::size_t>(state_->cfg.max_request_bytes, UINT32_MAX)));
  parser_->body_limit(state_->cfg.max_request_bytes);
  stream_.expires_after(state_->cfg.idle_timeout);
  on_stream([this](auto& stream) {
    bhttp::async_read_header(
      stream, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_header(ec, n); });
  });
}

void session::on_header(beast::error_code ec, std::size_t bytes) {
  if (closed_)
    return;
  if (ec) {
    on_read_error(ec);
    return;
  }
  const auto& req = parser_->get();
  version_ = req.version() == 10 ? 10 : 11;
  std::size_t budget = state_->cfg.max_request_bytes;
  std::size_t left = bytes < budget ? budget - bytes : 0;
  auto length = parser_->content_length();
  if (length && *length > left) {
    fail(413, "request body too large (limit " + std::to_string(budget) + " bytes with header)",
         "body_too_large");
    return;
  }
  parser_->body_limit(left);
  if (parser_->is_done()) {
    dispatch_request();
    return;
  }
  auto expect = req[bhttp::field::expect];
  if (beast::iequals(expect, "100-continue") && version_ == 11) {
    static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(state_->cfg.idle_timeout);
    on_stream([this](auto& stream) {
      asio::async_write(stream, asio::buffer(interim, sizeof(interim) - 1),
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (self->closed_)
                            return;
                          if (wec) {
                            self->close_now();
                            return;
                          }
                          self->read_body();
                        });
    });
    return;
  }
  read_body();
}

void session::read_body() {
  stream_.expires_after(state_->cfg.idle_timeout);
  on_stream([this](auto& stream) {
    bhttp::async_read(
      stream, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  });
}

void session::on_body(beast::error_code ec) {
  if (closed_)
    return;
  if (ec) {
    on_read_error(ec);
    return;
  }
  dispatch_request();
}

void session::on_read_error(beast::error_code ec) {
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == asio::error::eof) {
    // The client closed; mid-request that is a truncated request nobody can be told about.
    if (buffer_.size() > 0 || (parser_ && parser_->got_some()))
      state_->count_error("truncated_request");
    close_now();
  } else if (ec == beast::error::timeout) {
    // tcp_stream closed the socket already; a half-sent request is counted, an idle
    // keep-alive connection simply ends.
    if (buffer_.size() > 0 || (parser_ && parser_->got_some()))
      state_->count_error("request_timeout");
    close_now();
  } else if (ec == asio::error::operation_aborted) {
    close_now();
  } else if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    fail(431,
         "request header fields too large (limit " + std::to_string(state_->cfg.max_request_bytes) +
           " bytes)",
         "header_too_large");
  } else if (ec == bhttp::error::body_limit) {
    fail(413,
         "request body too large (limit " + std::to_string(state_->cfg.max_request_bytes) +
           " bytes with header)",
         "body_too_large");
  } else if (is_parse_error(ec)) {
    fail(400, "malformed request: " + ec.message(), "bad_request");
  } else {
    state_->count_error("io");
    close_now();
  }
}

void session::dispatch_request() {
  auto slot = state_->pacer.admit(std::chrono::steady_clock::now());
  if (!slot.admitted) {
    auto r = json_error(429, "too many requests: the management request rate bound is reached");
    auto seconds = std::chrono::ceil<std::chrono::seconds>(slot.delay).count();
    r.headers.emplace_back("Retry-After", std::to_string(std::max<long long>(1, seconds)));
    r.error_reason = "rate_limited";
    head_ = parser_->get().method() == verb::head;
    keep_alive_ = parser_->get().keep_alive() && !state_->stopping;
    send(std::move(r));
    return;
  }
  if (slot.delay <= std::chrono::steady_clock::duration::zero()) {
    route_request();
    return;
  }
  state_->paced_total.inc();
  stream_.expires_never();
  pace_timer_.expires_after(slot.delay);
  pace_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_)
      return;
    self->route_request();
  });
}

void session::route_request() {
  auto& wire = parser_->get();
  head_ = wire.method() == verb::head;
  keep_alive_ = wire.keep_alive() && !state_->stopping;

  auto target = parse_target(std::string_view(wire.target().data(), wire.target().size()));
  if (!target) {
    fail(400, "malformed request target", "bad_request");
    return;
  }

  request req;
  req.method = wire.method();
  req.method_name = std::string(wire.method_string());
  req.target = std::string(wire.target());
  req.path = std::move(target->path);
  req.query = std::move(target->query);
  for (const auto& field : wire) {
    auto name = std::string(field.name_string());
    auto value = std::string(field.value());
    auto [it, inserted] = req.headers.try_emplace(name, value);
    if (!inserted)
      it->second += ", " + value;
  }
  req.body = std::move(wire.body());
  req.remote_address = remote_address_;
  req.remote_port = remote_port_;
  req.version = version_;

  auto match = state_->routes.match(req.method, req.path);
  if (match.result == router::outcome::not_found) {
    auto r = json_error(404, "no resource at " + req.path);
    r.error_reason = "not_found";
    send(std::move(r));
    return;
  }
  if (match.result == router::outcome::method_not_allowed) {
    auto r = json_error(405, "method " + req.method_name + " not allowed on " + req.path);
    r.headers.emplace_back("Allow", match.allow);
    r.error_reason = "method_not_allowed";
    send(std::move(r));
    return;
  }
  req.params = std::move(match.params);

  auto generation = ++generation_;
  // Whichever of the handler and the timeout answers first wins; the other is dropped.
  auto answered = std::make_shared<std::atomic<bool>>(false);

  stream_.expires_never();
  handler_timer_.expires_after(state_->cfg.handler_timeout);
  handler_timer_.async_wait([self = shared_from_this(), answered](beast::error_code ec) {
    if (ec || self->closed_)
      return;
    if (!answered->exchange(true)) {
      auto r = json_error(503, "the node did not answer in time");
      r.error_reason = "handler_timeout";
      self->send(std::move(r));
    }
  });

  std::weak_ptr<session> weak = shared_from_this();
  auto executor = stream_.get_executor();
  auto state = state_;
  respond_fn respond = [weak, executor, state, answered, generation](response r) {
    if (answered->exchange(true)) {
      // After the 503 of a timeout, or a second answer: the handler broke its contract.
      state->count_error("late_or_duplicate_answer");
      return;
    }
    asio::post(executor, [weak, generation, r = std::move(r)]() mutable {
      if (auto self = weak.lock())
        self->on_handler_answer(generation, std::move(r));
    });
  };

  try {
    match.target(req, std::move(respond));
  } catch (const std::exception& e) {
    if (!answered->exchange(true)) {
      state_->log->error("handler for {} {} threw: {}", req.method_name, req.path, e.what());
      handler_timer_.cancel();
      auto r = json_error(500, "internal error");
      r.error_reason = "handler_exception";
      send(std::move(r));
    }
  } catch (...) {
    if (!answered->exchange(true)) {
      state_->log->error("handler for {} {} threw a non-standard exception", req.method_name,
                         req.path);
      handler_timer_.cancel();
      auto r = json_error(500, "internal error");
      r.error_reason = "handler_exception";
      send(std::move(r));
    }
  }
}

void session::on_handler_answer(std::uint64_t generation, response r) {
  if (closed_ || generation != generation_)
    return;
  handler_timer_.cancel();
  send(std::move(r));
}

void session::fail(unsigned status, const std::string& message, const std::string& reason) {
  if (closed_)
    return;
  keep_alive_ = false;
  linger_ = true;
  head_ = false;
  auto r = json_error(status, message);
  r.error_reason = reason;
  send(std::move(r));
}

void session::send(response r) {
  state_->count_response(r.status, r.error_reason);
  if (state_->stopping)
    keep_alive_ = false;

  out_ = std::make_shared<wire_response>(static_cast<bhttp::status>(r.status), version_);
  auto& res = *out_;
  res.set(bhttp::field::server, "cmsd");
  bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
  if (!bodiless)
    res.set(bhttp::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers)
    res.insert(name, value);
  res.keep_alive(keep_alive_);
  if (bodiless) {
    // No payload and no Content-Length for these statuses (RFC 9110 section 8.6).
  } else if (head_) {
    // HEAD: the header a GET would have produced, without the payload.
    res.content_length(r.body.size());
  } else {
    res.body() = std::move(r.body);
    res.prepare_payload();
  }

  stream_.expires_after(state_->cfg.idle_timeout);
  on_stream([this, &res](auto& stream) {
    bhttp::async_write(stream, res, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    });
  });
}

void session::on_write(beast::error_code ec) {
  out_.reset();
  if (closed_)
    return;
  if (ec) {
    if (ec != asio::error::operation_aborted)
      state_->count_error("io");
    close_now();
    return;
  }
  if (!keep_alive_) {
    lingering_close();
    return;
  }
  read_header();
}

void session::lingering_close() {
  if (tls_) {
    // close_notify first, so the client sees a clean end of the TLS stream; bounded in time.
    stream_.expires_after(
      std::min<std::chrono::milliseconds>(state_->cfg.idle_timeout, max_drain_time));
    tls_->async_shutdown([self = shared_from_this()](beast::error_code) { self->close_now(); });
    return;
  }
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  if (!linger_ || state_->stopping) {
    close_now();
    return;
  }
  stream_.expires_after(
    std::min<std::chrono::milliseconds>(state_->cfg.idle_timeout, max_drain_time));
  stream_.async_read_some(
    asio::buffer(drain_buffer_),
    [self = shared_from_this()](beast::error_code dec, std::size_t n) { self->on_drain(dec, n); });
}

void session::on_drain(beast::error_code ec, std::size_t bytes) {
  if (closed_)
    return;
  drained_ += bytes;
  if (ec || drained_ >= max_drain_bytes) {
    close_now();
    return;
  }
  stream_.async_read_some(
    asio::buffer(drain_buffer_),
    [self = shared_from_this()](beast::error_code dec, std::size_t n) { self->on_drain(dec, n); });
}

void session::close_now() {
  if (closed_)
    return;
  closed_ = true;
  handler_timer_.cancel();
  pace_timer_.cancel();
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

} // namespace cms::http::detail
