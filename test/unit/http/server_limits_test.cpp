// Size limits, connection limit, idle timeout and start-up failures.

#include "http_test_support.hpp"

#include "runtime/http/server.hpp"

#include <system_error>

namespace cms::http::test {
namespace {

server_config small_limits() {
  server_config cfg;
  cfg.max_request_bytes = 1024;
  return cfg;
}

void add_echo(server& s) {
  s.add_route(verb::post, "/echo", [](const request& req, respond_fn respond) {
    respond(text_response(200, std::to_string(req.body.size())));
  });
}

class server_limits : public server_fixture {};

TEST_F(server_limits, body_within_the_limit_is_accepted) {
  start_server(small_limits(), add_echo);
  client c(endpoint());
  auto res = c.request(bhttp::verb::post, "/echo", std::string(800, 'b'));
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "800");
}

TEST_F(server_limits, declared_body_over_the_limit_is_413) {
  start_server(small_limits(), add_echo);
  client c(endpoint());
  auto res = c.request(bhttp::verb::post, "/echo", std::string(5000, 'b'));
  expect_json_error(res, 413);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "body_too_large"), 1);
}

TEST_F(server_limits, header_plus_body_over_the_limit_is_413) {
  start_server(small_limits(), add_echo);
  client c(endpoint());
  // Each part fits alone; together they exceed the 1024-byte budget.
  auto res = c.request(bhttp::verb::post, "/echo", std::string(700, 'b'),
                       {{"X-Padding", std::string(500, 'p')}});
  expect_json_error(res, 413);
}

TEST_F(server_limits, chunked_body_over_the_limit_is_413) {
  start_server(small_limits(), add_echo);
  client c(endpoint());
  std::string chunk(600, 'c');
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "258\r\n" +
             chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
  auto res = c.read_response();
  expect_json_error(res, 413);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(server_limits, oversized_header_is_431) {
  start_server(small_limits(), add_echo);
  client c(endpoint());
  c.send_raw("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n");
  auto res = c.read_response();
  expect_json_error(res, 431);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "header_too_large"), 1);
}

TEST_F(server_limits, connections_beyond_the_limit_get_503) {
  server_config cfg;
  cfg.max_connections = 2;
  start_server(cfg, add_echo);
  client a(endpoint());
  client b(endpoint());
  EXPECT_EQ(a.request(bhttp::verb::post, "/echo", "x").result_int(), 200u);
  EXPECT_EQ(b.request(bhttp::verb::post, "/echo", "x").result_int(), 200u);
  client extra(endpoint());
  auto res = extra.read_response();
  expect_json_error(res, 503);
  EXPECT_TRUE(extra.closed_by_server());
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "connection_limit"), 1);
  // The first two are unaffected.
  EXPECT_EQ(a.request(bhttp::verb::post, "/echo", "yy").body(), "2");
}

TEST_F(server_limits, connections_beyond_the_per_address_limit_get_429) {
  server_config cfg;
  cfg.max_connections = 100;
  cfg.max_connections_per_address = 2;
  start_server(cfg, add_echo);
  client a(endpoint());
  auto b = std::make_unique<client>(endpoint());
  EXPECT_EQ(a.request(bhttp::verb::post, "/echo", "x").result_int(), 200u);
  EXPECT_EQ(b->request(bhttp::verb::post, "/echo", "x").result_int(), 200u);
  {
    client extra(endpoint());
    auto res = extra.read_response();
    expect_json_error(res, 429);
    EXPECT_TRUE(extra.closed_by_server());
  }
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "address_connection_limit"), 1);
  EXPECT_EQ(a.request(bhttp::verb::post, "/echo", "yy").body(), "2");
  // A slot is given back when a connection closes.
  b.reset();
  EXPECT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
  client again(endpoint());
  EXPECT_EQ(again.request(bhttp::verb::post, "/echo", "zzz").body(), "3");
}

TEST_F(server_limits, idle_connection_is_closed_after_the_idle_timeout) {
  server_config cfg;
  cfg.idle_timeout = 200ms;
  start_server(cfg, add_echo);
  client c(endpoint());
  EXPECT_EQ(c.request(bhttp::verb::post, "/echo", "x").result_int(), 200u);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(server_limits, start_fails_clearly_when_the_port_is_taken) {
  start_server({}, add_echo);
  metrics::registry other_registry;
  server_config cfg;
  cfg.port = endpoint().port();
  server second(ioc_, cfg, other_registry);
  try {
    second.start();
    FAIL() << "second bind on the same port succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(cfg.port)),
              std::string::npos)
      << e.what();
  }
}

TEST_F(server_limits, start_refuses_a_malformed_bind_address) {
  server_config cfg;
  cfg.bind = "not-an-address";
  server s(ioc_, cfg, registry_);
  try {
    s.start();
    FAIL() << "malformed address accepted";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("not-an-address"), std::string::npos) << e.what();
  }
  EXPECT_THROW(
    {
      server_config ok;
      server twice(ioc_, ok, registry_);
      twice.start();
      twice.start();
    },
    std::logic_error);
}

} // namespace
} // namespace cms::http::test
