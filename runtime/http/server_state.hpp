#pragma once
// Internal: what the acceptor and every connection share. Held by shared_ptr from each pending
// asynchronous operation, so a server object may be destroyed while its io_context still holds
// handlers that refer to this state.

#include "runtime/http/router.hpp"
#include "runtime/http/server.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <spdlog/logger.h>

#include <atomic>
#include <string>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace cms::http::detail {

class session;

struct server_state : std::enable_shared_from_this<server_state> {
  server_state(boost::asio::io_context& ioc, server_config cfg, metrics::registry& reg);

  /// Counts an answered request by status code, and its error reason when there is one.
  void count_response(unsigned status, const std::string& error_reason);
  void count_error(const std::string& reason);

  void do_accept();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void remove_session(session* s);
  std::vector<std::shared_ptr<session>> live_sessions();

  boost::asio::io_context& ioc;
  const server_config cfg;
  metrics::registry& registry;
  metrics::gauge& active_connections;
  metrics::counter& connections_total;
  metrics::counter& paced_total;
  request_pacer pacer;
  std::shared_ptr<spdlog::logger> log;
  router routes;
  /// HTTPS: the TLS context every session shares; null for plain HTTP. Set by start().
  std::shared_ptr<boost::asio::ssl::context> tls;

  boost::asio::strand<boost::asio::io_context::executor_type> acceptor_strand;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer accept_retry;
  boost::asio::ip::tcp::endpoint local;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};

  mutable std::mutex sessions_mutex;
  std::unordered_map<session*, std::weak_ptr<session>> sessions;
  /// Open connections per client address, and each session's address (guarded as above).
  std::unordered_map<std::string, std::size_t> per_address;
  std::unordered_map<session*, std::string> address_of;
};

} // namespace cms::http::detail
