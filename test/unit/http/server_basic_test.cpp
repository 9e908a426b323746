// The server over real TCP on 127.0.0.1: routing answers, keep-alive and closing, HEAD, errors.

#include "http_test_support.hpp"

#include "runtime/http/server.hpp"

#include <boost/json/object.hpp>

namespace cms::http::test {
namespace {

class server_basic : public server_fixture {
protected:
  void SetUp() override {
    start_server({}, [](server& s) {
      s.add_route(verb::get, "/status", [](const request&, respond_fn respond) {
        boost::json::object o;
        o["node"] = "cms-a";
        o["role"] = "active";
        o["epoch"] = 7;
        respond(json_response(200, o));
      });
      s.add_route(verb::get, "/calls/{id}", [](const request& req, respond_fn respond) {
        boost::json::object o;
        o["id"] = req.param("id");
        o["limit"] = req.query_param("limit", "none");
        o["who"] = req.header("x-CMS-Operator").value_or("");
        o["remote"] = req.remote_address;
        respond(json_response(200, o));
      });
      s.add_route(verb::post, "/echo", [](const request& req, respond_fn respond) {
        respond(text_response(201, req.body));
      });
      s.add_route(verb::get, "/links",
                  [](const request&, respond_fn respond) { respond(text_response(200, "links")); });
      s.add_route(verb::post, "/links", [](const request&, respond_fn respond) {
        respond(text_response(200, "posted"));
      });
    });
  }
};

TEST_F(server_basic, get_answers_json_that_parses) {
  client c(endpoint());
  auto res = c.get("/status");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res[bhttp::field::server], "cmsd");
  auto body = parse_json(res);
  EXPECT_EQ(body.at("node").as_string(), "cms-a");
  EXPECT_EQ(body.at("epoch").as_int64(), 7);
  EXPECT_EQ(counter("cms_http_requests_total", "code", "200"), 1);
}

TEST_F(server_basic, route_parameters_query_and_case_insensitive_headers) {
  client c(endpoint());
  auto res = c.get("/calls/c-17?limit=5", {{"X-Cms-Operator", "noc"}});
  ASSERT_EQ(res.result_int(), 200u);
  auto body = parse_json(res);
  EXPECT_EQ(body.at("id").as_string(), "c-17");
  EXPECT_EQ(body.at("limit").as_string(), "5");
  EXPECT_EQ(body.at("who").as_string(), "noc");
  EXPECT_EQ(body.at("remote").as_string(), "127.0.0.1");
}

TEST_F(server_basic, keep_alive_serves_two_requests_on_one_connection) {
  client c(endpoint());
  auto first = c.get("/status");
  EXPECT_EQ(first.result_int(), 200u);
  EXPECT_TRUE(first.keep_alive());
  auto second = c.request(bhttp::verb::post, "/echo", "hello");
  EXPECT_EQ(second.result_int(), 201u);
  EXPECT_EQ(second.body(), "hello");
  EXPECT_EQ(registry_.value("cms_http_connections_total"), 1);
  EXPECT_EQ(registry_.value("cms_http_connections_active"), 1);
}

TEST_F(server_basic, pipelined_requests_are_answered_in_order) {
  client c(endpoint());
  c.send_raw("GET /links HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(c.read_response().body(), "links");
  EXPECT_EQ(c.read_response().body(), "abc");
}

TEST_F(server_basic, connection_close_is_honoured) {
  client c(endpoint());
  auto res = c.get("/status", {{"Connection", "close"}});
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_TRUE(eventually([&] { return registry_.value("cms_http_connections_active") == 0; }));
}

TEST_F(server_basic, http10_without_keep_alive_closes_and_with_it_stays) {
  {
    client c(endpoint());
    auto res = c.request(bhttp::verb::get, "/status", {}, {}, 10);
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.version(), 10u);
    EXPECT_TRUE(c.closed_by_server());
  }
  client c(endpoint());
  auto res = c.request(bhttp::verb::get, "/status", {}, {{"Connection", "keep-alive"}}, 10);
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(c.request(bhttp::verb::get, "/links", {}, {{"Connection", "keep-alive"}}, 10).body(),
            "links");
}

TEST_F(server_basic, unknown_path_is_404_json) {
  client c(endpoint());
  auto res = c.get("/nowhere");
  expect_json_error(res, 404);
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "not_found"), 1);
  EXPECT_EQ(counter("cms_http_requests_total", "code", "404"), 1);
}

TEST_F(server_basic, wrong_method_is_405_with_allow) {
  client c(endpoint());
  auto res = c.request(bhttp::verb::delete_, "/links");
  expect_json_error(res, 405);
  EXPECT_EQ(res[bhttp::field::allow], "GET, HEAD, POST");
  auto put = c.request(bhttp::verb::put, "/status", "x");
  expect_json_error(put, 405);
  EXPECT_EQ(put[bhttp::field::allow], "GET, HEAD");
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "method_not_allowed"), 2);
}

TEST_F(server_basic, unknown_method_on_a_known_path_is_405) {
  client c(endpoint());
  c.send_raw("BREW /status HTTP/1.1\r\nHost: x\r\n\r\n");
  auto res = c.read_response();
  expect_json_error(res, 405);
  EXPECT_EQ(res[bhttp::field::allow], "GET, HEAD");
  EXPECT_EQ(c.get("/status").result_int(), 200u);
}

TEST_F(server_basic, head_on_get_route_sends_header_only) {
  client c(endpoint());
  auto full = c.get("/status");
  auto head = c.request(bhttp::verb::head, "/status");
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_EQ(head[bhttp::field::content_length], std::to_string(full.body().size()));
  EXPECT_TRUE(head.body().empty());
  // Had the server sent a body after the HEAD header, it would be read as the next response.
  auto after = c.get("/links");
  EXPECT_EQ(after.result_int(), 200u);
  EXPECT_EQ(after.body(), "links");
}

TEST_F(server_basic, garbage_bytes_get_400_json_then_close) {
  client c(endpoint());
  c.send_raw(std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n", 16));
  auto res = c.read_response();
  expect_json_error(res, 400);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "bad_request"), 1);
}

TEST_F(server_basic, malformed_request_lines_and_headers_get_400) {
  for (const std::string bad : {
         "GET /status HTTP/9.9\r\n\r\n",
         "GET /status\r\n\r\n",
         "GET /status HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
         "POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
         "POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
         "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n",
         "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
       }) {
    client c(endpoint());
    c.send_raw(bad);
    auto res = c.read_response();
    expect_json_error(res, 400);
    EXPECT_TRUE(c.closed_by_server()) << bad;
  }
}

TEST_F(server_basic, expect_100_continue_gets_interim_answer) {
  client c(endpoint());
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read_response(true);
  EXPECT_EQ(interim.result_int(), 100u);
  c.send_raw("ping");
  auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 201u);
  EXPECT_EQ(res.body(), "ping");
}

TEST_F(server_basic, client_that_vanishes_mid_request_is_counted) {
  {
    client c(endpoint());
    c.send_raw("GET /status HTTP/1.1\r\nHost: x\r\n");
    c.socket().shutdown(tcp::socket::shutdown_send);
    EXPECT_TRUE(c.closed_by_server());
  }
  EXPECT_TRUE(eventually(
    [&] { return counter("cms_http_errors_total", "reason", "truncated_request") == 1; }));
}

} // namespace
} // namespace cms::http::test
