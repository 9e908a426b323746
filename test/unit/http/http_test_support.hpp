#pragma once
// Shared by the HTTP server tests: a fixture running a real server on 127.0.0.1 port 0 with two
// io threads, and a small blocking client over a real TCP socket whose every wait is bounded, so
// that a misbehaving server fails a test instead of hanging it.

#include "runtime/http/server.hpp"
#include "support/eventually.hpp"
#include "runtime/base/metrics.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cms::http::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using wire_response = bhttp::response<bhttp::string_body>;
using namespace std::chrono_literals;

/// Upper bound for any single wait in a test; far above what a healthy server needs.
inline constexpr auto test_wait = std::chrono::seconds(10);

class client {
public:
  explicit client(const tcp::endpoint& server) : socket_(ioc_) {
    boost::system::error_code ec;
    run([&](auto done) { socket_.async_connect(server, [done](auto e) { done(e); }); }, ec);
    if (ec)
      throw std::runtime_error("connect failed: " + ec.message());
  }

  void send_raw(const std::string& bytes) {
    boost::system::error_code ec;
    run(
      [&](auto done) {
        asio::async_write(socket_, asio::buffer(bytes), [done](auto e, std::size_t) { done(e); });
      },
      ec);
    if (ec)
      throw std::runtime_error("write failed: " + ec.message());
  }

  /// Reads one response; for a HEAD request pass head=true (no body follows the header).
  wire_response read_response(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    parser.skip(head);
    boost::system::error_code ec;
    run(
      [&](auto done) {
        bhttp::async_read(socket_, buffer_, parser, [done](auto e, std::size_t) { done(e); });
      },
      ec);
    if (ec)
      throw std::runtime_error("read failed: " + ec.message());
    return parser.release();
  }

  wire_response request(bhttp::verb method, const std::string& target, const std::string& body = {},
                        std::vector<std::pair<std::string, std::string>> headers = {},
                        unsigned version = 11) {
    bhttp::request<bhttp::string_body> req{method, target, version};
    req.set(bhttp::field::host, "127.0.0.1");
    for (auto& [k, v] : headers)
      req.set(k, v);
    if (!body.empty() || method == bhttp::verb::post) {
      req.body() = body;
      req.prepare_payload();
    }
    boost::system::error_code ec;
    run(
      [&](auto done) {
        bhttp::async_write(socket_, req, [done](auto e, std::size_t) { done(e); });
      },
      ec);
    if (ec)
      throw std::runtime_error("write failed: " + ec.message());
    return read_response(method == bhttp::verb::head);
  }

  wire_response get(const std::string& target,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    return request(bhttp::verb::get, target, {}, std::move(headers));
  }

  /// True when the server closed the connection (EOF or reset) within the wait; bytes that still
  /// arrive before the close are discarded.
  bool closed_by_server(std::chrono::milliseconds wait = test_wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    if (buffer_.size() > 0)
      return false;
    while (std::chrono::steady_clock::now() < deadline) {
      std::array<char, 1024> scratch;
      boost::system::error_code ec;
      bool done = false;
      socket_.async_read_some(asio::buffer(scratch), [&](auto e, std::size_t) {
        ec = e;
        done = true;
      });
      ioc_.restart();
      ioc_.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
      if (!done) {
        socket_.cancel();
        ioc_.restart();
        ioc_.run();
        return false;
      }
      if (ec)
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    }
    return false;
  }

  tcp::socket& socket() { return socket_; }

private:
  /// Runs one asynchronous operation to completion or the test_wait bound.
  template <class Start>
  void run(Start start, boost::system::error_code& ec) {
    bool done = false;
    start([&](boost::system::error_code e) {
      ec = e;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(test_wait);
    if (!done) {
      socket_.cancel();
      ioc_.restart();
      ioc_.run();
      ec = asio::error::timed_out;
    }
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

inline boost::json::value parse_json(const wire_response& res) {
  return boost::json::parse(res.body());
}

/// The error body every refusal carries: {"error": {"status": N, "message": "..."}}.
inline void expect_json_error(const wire_response& res, unsigned status) {
  EXPECT_EQ(res.result_int(), status);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  auto body = parse_json(res);
  ASSERT_TRUE(body.is_object()) << res.body();
  auto& err = body.at("error");
  EXPECT_EQ(err.at("status").as_int64(), static_cast<std::int64_t>(status)) << res.body();
  EXPECT_FALSE(err.at("message").as_string().empty()) << res.body();
}

/// The server updates its counters and closes sockets on its own threads.
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds wait = test_wait) {
  return cms::test::eventually(cond, wait);
}

class server_fixture : public ::testing::Test {
protected:
  /// Creates the server, lets the test add routes, starts it, runs the io_context on two threads.
  void start_server(server_config cfg = {}, const std::function<void(server&)>& routes = {}) {
    server_ = std::make_unique<server>(ioc_, std::move(cfg), registry_);
    if (routes)
      routes(*server_);
    server_->start();
    for (int i = 0; i < 2; ++i)
      io_threads_.emplace_back([this] { ioc_.run(); });
  }

  void TearDown() override {
    if (server_)
      server_->stop();
    work_.reset();
    for (auto& t : io_threads_)
      t.join();
    server_.reset();
  }

  tcp::endpoint endpoint() const { return server_->local_endpoint(); }

  double counter(const std::string& name, const std::string& label, const std::string& value) {
    return registry_.value(name, {{label, value}});
  }

  metrics::registry registry_; // before the io_context: handlers still queued may count into it
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::unique_ptr<server> server_;
  std::vector<std::thread> io_threads_;
};

} // namespace cms::http::test
