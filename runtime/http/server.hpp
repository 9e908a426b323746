#pragma once
// The node's built-in HTTP/1.1 server (Boost.Beast). It runs on an io_context owned by the node and
// driven by the node's management thread(s), never on actor threads; every connection is served on
// its own strand, so the io_context may be run by several threads. Nothing here blocks: handlers are
// asynchronous and answer through respond_fn from any thread (typically an actor's reply).

#include "runtime/http/message.hpp"
#include "runtime/http/request_pacer.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace cms::http {

struct server_config {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;                         ///< 0: the kernel picks one (see local_endpoint)
  std::size_t max_request_bytes = 64 * 1024;      ///< header + body; beyond it 431/413
  std::chrono::milliseconds idle_timeout{30'000}; ///< between requests and for slow senders
  std::size_t max_connections = 256;              ///< beyond it new connections get 503
  /// Connections open from one client address; beyond it new ones get 429 and are closed (TLS:
  /// closed before the handshake), so one client cannot take every slot of max_connections.
  /// 0: no per-address bound.
  std::size_t max_connections_per_address = 16;
  std::chrono::milliseconds handler_timeout{5'000}; ///< a handler silent this long yields 503
  /// Request rate bound (request_pacer.hpp); unpaced by default, the node sets [http]'s.
  pacing_config pacing;
  /// HTTPS only (runtime/http/tls.hpp): PEM certificate chain and private key. Both empty: plain
  /// HTTP. A plain HTTP request on an HTTPS port is answered 400 in clear text and closed.
  std::string tls_certificate;
  std::string tls_key;
};

namespace detail {
struct server_state;
}

class server {
public:
  /// The registry must outlive every handler the io_context may still run (the node's registry
  /// lives for the process; tests declare it before the io_context).
  server(boost::asio::io_context& ioc, server_config config, metrics::registry& registry);
  /// Calls stop().
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Registers a handler; see router.hpp for the pattern syntax. Throws std::invalid_argument on a
  /// malformed or duplicate pattern. May be called before or after start().
  void add_route(verb method, const std::string& pattern, handler h);
  /// GET (and HEAD) url_prefix/... served from files under directory; "/" maps to index.html.
  void add_static_dir(const std::string& url_prefix, const std::string& directory);
  /// GET path renders the registry in Prometheus text format 0.0.4.
  void add_metrics_route(const std::string& path = "/metrics");

  /// Binds and listens. Throws std::system_error naming the address on failure (in use, not
  /// local, malformed), std::runtime_error when the HTTPS certificate or key cannot be loaded,
  /// and std::logic_error when called twice.
  void start();
  /// Closes the listening socket and every connection. Safe from any thread; takes effect as soon
  /// as the io_context runs the posted closes (at once when called on a thread running it).
  void stop();

  /// The bound address; with port 0, the port the kernel chose. Valid after start().
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  const server_config& config() const;
  /// Connections currently open.
  std::size_t connection_count() const;
  /// True when the server speaks HTTPS (tls_certificate set).
  bool secure() const;

private:
  std::shared_ptr<detail::server_state> state_;
};

} // namespace cms::http
