#pragma once
// Internal: one client connection. Reads a request (header first, so that size limits are
// enforced before any body is buffered), hands it to the routed handler, waits for the answer
// (bounded by handler_timeout), writes it, and loops while the connection is kept alive. Every
// member function runs on the connection's strand. On an HTTPS server the same runs over a TLS
// stream layered on the TCP stream (whose timeouts still apply), after the TLS handshake.

#include "runtime/http/message.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace cms::http::detail {

struct server_state;

class session : public std::enable_shared_from_this<session> {
public:
  session(boost::asio::ip::tcp::socket socket, std::shared_ptr<server_state> state);
  ~session();

  /// Starts serving (posts onto the strand).
  void run();
  /// Answers 503 without reading a request and closes: the connection limit is reached.
  void reject_over_limit();
  /// Answers 429 without reading a request and closes: this client address has its share.
  void reject_over_address_limit();
  /// Closes the connection; callable from any thread.
  void shutdown();

private:
  using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
  using wire_response = boost::beast::http::response<boost::beast::http::string_body>;

  void handshake();
  void on_handshake(boost::system::error_code ec);
  /// Runs f(stream) on the TLS stream when there is one, else on the TCP stream.
  template <class F>
  void on_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(stream_);
  }
  void read_header();
  void on_header(boost::system::error_code ec, std::size_t bytes);
  void read_body();
  void on_body(boost::system::error_code ec);
  /// Maps a read failure to an answer (413/431/400/408) or a silent close.
  void on_read_error(boost::system::error_code ec);
  /// Takes the request's slot from the server's pacer: serves it now, after a delay, or 429.
  void dispatch_request();
  void route_request();
  void on_handler_answer(std::uint64_t generation, response r);
  /// Answers with a JSON error, then closes after draining what the client still sends.
  void fail(unsigned status, const std::string& message, const std::string& reason);
  void send(response r);
  void on_write(boost::system::error_code ec);
  void lingering_close();
  void on_drain(boost::system::error_code ec, std::size_t bytes);
  void close_now();

  boost::beast::tcp_stream stream_;
  std::shared_ptr<server_state> state_;
  /// HTTPS only: TLS over stream_ (declared after it, so destroyed before it).
  std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream&>> tls_;
  boost::beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  boost::asio::steady_timer handler_timer_;
  boost::asio::steady_timer pace_timer_;
  std::string remote_address_;
  std::uint16_t remote_port_ = 0;

  std::uint64_t generation_ = 0; ///< identifies the request being answered
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  bool linger_ = false; ///< unread input may remain: drain before closing
  bool closed_ = false;
  std::size_t drained_ = 0;
  std::shared_ptr<wire_response> out_;
  std::array<char, 4096> drain_buffer_{};
};

} // namespace cms::http::detail
