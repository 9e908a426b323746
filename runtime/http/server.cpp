#include "runtime/http/server.hpp"

#include "runtime/http/metrics_route.hpp"
#include "runtime/http/server_state.hpp"
#include "runtime/http/session.hpp"
#include "runtime/http/static_files.hpp"
#include "runtime/http/tls.hpp"
#include "runtime/base/logging.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>

#include <stdexcept>
#include <system_error>

namespace cms::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace detail {

server_state::server_state(asio::io_context& ctx, server_config config, metrics::registry& reg)
  : ioc(ctx),
    cfg(std::move(config)),
    registry(reg),
    active_connections(
      reg.get_gauge("cms_http_connections_active", "HTTP connections currently open")),
    connections_total(
      reg.get_counter("cms_http_connections_total", "HTTP connections accepted since start")),
    paced_total(
      reg.get_counter("cms_http_requests_paced_total",
                      "HTTP requests held back to the request rate bound before serving")),
    pacer(cfg.pacing),
    log(cms::log::get("http")),
    acceptor_strand(asio::make_strand(ctx)),
    acceptor(acceptor_strand),
    accept_retry(acceptor_strand) {}

void server_state::count_response(unsigned status, const std::string& error_reason) {
  registry
    .get_counter("cms_http_requests_total", "HTTP requests answered, by status code",
                 {{"code", std::to_string(status)}})
    .inc();
  if (!error_reason.empty())
    count_error(error_reason);
}

void server_state::count_error(const std::string& reason) {
  registry
    .get_counter("cms_http_errors_total",
                 "HTTP requests refused or failed, by reason (bad_request, not_found, ...)",
                 {{"reason", reason}})
    .inc();
}

void server_state::do_accept() {
  if (stopping)
    return;
  // Each connection gets its own strand so that several threads may run the io_context.
  acceptor.async_accept(asio::make_strand(ioc),
                        asio::bind_executor(acceptor_strand, [self = shared_from_this()](
                                                               const boost::system::error_code& ec,
                                                               tcp::socket socket) {
                          self->on_accept(ec, std::move(socket));
                        }));
}

void server_state::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (stopping || ec == asio::error::operation_aborted)
    return;
  if (ec) {
    // Typically EMFILE: wait a little instead of spinning on a failing accept.
    count_error("accept");
    log->warn("accept failed: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([self = shared_from_this()](const boost::system::error_code& wec) {
      if (!wec)
        self->do_accept();
    });
    return;
  }
  boost::system::error_code rec;
  auto remote = socket.remote_endpoint(rec);
  std::string address = rec ? std::string{} : remote.address().to_string();
  auto s = std::make_shared<session>(std::move(socket), shared_from_this());
  std::size_t open = 0;
  std::size_t from_address = 0;
  {
    std::lock_guard lock(sessions_mutex);
    sessions.emplace(s.get(), s);
    open = sessions.size();
    address_of.emplace(s.get(), address);
    from_address = ++per_address[address];
  }
  if (open > cfg.max_connections)
    s->reject_over_limit();
  else if (cfg.max_connections_per_address > 0 && from_address > cfg.max_connections_per_address)
    s->reject_over_address_limit();
  else
    s->run();
  do_accept();
}

void server_state::remove_session(session* s) {
  std::lock_guard lock(sessions_mutex);
  sessions.erase(s);
  if (auto it = address_of.find(s); it != address_of.end()) {
    if (auto n = per_address.find(it->second); n != per_address.end() && --n->second == 0)
      per_address.erase(n);
    address_of.erase(it);
  }
}

std::vector<std::shared_ptr<session>> server_state::live_sessions() {
  std::vector<std::shared_ptr<session>> out;
  std::lock_guard lock(sessions_mutex);
  out.reserve(sessions.size());
  for (auto& [ptr, weak] : sessions)
    if (auto s = weak.lock())
      out.push_back(std::move(s));
  return out;
}

} // namespace detail

server::server(asio::io_context& ioc, server_config config, metrics::registry& registry)
  : state_(std::make_shared<detail::server_state>(ioc, std::move(config), registry)) {}

server::~server() { stop(); }

void server::add_route(verb method, const std::string& pattern, handler h) {
  state_->routes.add(method, pattern, std::move(h));
}

void server::add_static_dir(const std::string& url_prefix, const std::string& directory) {
  std::string pattern = url_prefix;
  while (!pattern.empty() && pattern.back() == '/')
    pattern.pop_back();
  pattern += "/*";
  add_route(verb::get, pattern, static_dir_handler(directory));
}

void server::add_metrics_route(const std::string& path) {
  add_route(verb::get, path, metrics_handler(state_->registry));
}

void server::start() {
  if (state_->started.exchange(true))
    throw std::logic_error("http server started twice");
  const auto& cfg = state_->cfg;
  if (!cfg.tls_certificate.empty() || !cfg.tls_key.empty())
    state_->tls = make_server_tls(cfg.tls_certificate, cfg.tls_key);
  std::string where = cfg.bind + ":" + std::to_string(cfg.port);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(cfg.bind, ec);
  if (ec)
    throw std::system_error(ec, "http server: invalid bind address '" + cfg.bind + "'");
  tcp::endpoint endpoint(address, cfg.port);
  auto& acceptor = state_->acceptor;
  auto check = [&](const char* step) {
    if (ec) {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      throw std::system_error(ec, std::string("http server: cannot ") + step + " " + where);
    }
  };
  acceptor.open(endpoint.protocol(), ec);
  check("open a socket for");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  check("set SO_REUSEADDR on");
  acceptor.bind(endpoint, ec);
  check("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  check("listen on");
  state_->local = acceptor.local_endpoint(ec);
  check("read the local address of");
  state_->log->info("listening on {}:{} ({})", state_->local.address().to_string(),
                    state_->local.port(), state_->tls ? "https" : "http");
  asio::dispatch(state_->acceptor_strand, [s = state_] { s->do_accept(); });
}

void server::stop() {
  if (state_->stopping.exchange(true))
    return;
  asio::dispatch(state_->acceptor_strand, [s = state_] {
    boost::system::error_code ignored;
    s->accept_retry.cancel();
    s->acceptor.close(ignored);
  });
  for (auto& s : state_->live_sessions())
    s->shutdown();
}

tcp::endpoint server::local_endpoint() const { return state_->local; }

const server_config& server::config() const { return state_->cfg; }

bool server::secure() const { return state_->tls != nullptr; }

std::size_t server::connection_count() const {
  std::lock_guard lock(state_->sessions_mutex);
  return state_->sessions.size();
}

} // namespace cms::http
