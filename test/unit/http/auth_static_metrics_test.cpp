// Bearer-protected admin routes, static files for the dashboard, and the /metrics route.

#include "http_test_support.hpp"

#include "runtime/http/auth.hpp"
#include "runtime/http/server.hpp"

#include <filesystem>
#include <fstream>
#include <random>

namespace cms::http::test {
namespace {

namespace fs = std::filesystem;

class server_auth : public server_fixture {
protected:
  void SetUp() override {
    start_server({}, [](server& s) {
      auto admin = require_bearer("s3cret-token");
      s.add_route(verb::post, "/admin/switchover", admin([](const request&, respond_fn respond) {
                    respond(json_response(202, boost::json::object{{"accepted", true}}));
                  }));
      s.add_route(verb::post, "/admin/disabled",
                  require_bearer("", [](const request&, respond_fn respond) {
                    respond(text_response(200, "must not run"));
                  }));
    });
  }
};

TEST_F(server_auth, missing_credentials_get_401_with_challenge) {
  client c(endpoint());
  auto res = c.request(bhttp::verb::post, "/admin/switchover");
  expect_json_error(res, 401);
  EXPECT_EQ(res[bhttp::field::www_authenticate].substr(0, 13), "Bearer realm=");
  auto basic = c.request(bhttp::verb::post, "/admin/switchover", {},
                         {{"Authorization", "Basic dXNlcjpwYXNz"}});
  expect_json_error(basic, 401);
  EXPECT_NE(basic[bhttp::field::www_authenticate].find("invalid_request"), std::string::npos);
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "auth_missing"), 2);
}

TEST_F(server_auth, wrong_token_gets_403_and_right_token_passes) {
  client c(endpoint());
  auto wrong = c.request(bhttp::verb::post, "/admin/switchover", {},
                         {{"Authorization", "Bearer s3cret-tokeN"}});
  expect_json_error(wrong, 403);
  auto prefix =
    c.request(bhttp::verb::post, "/admin/switchover", {}, {{"Authorization", "Bearer s3cret"}});
  expect_json_error(prefix, 403);
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "auth_rejected"), 2);

  auto ok = c.request(bhttp::verb::post, "/admin/switchover", {},
                      {{"authorization", "bearer s3cret-token"}});
  EXPECT_EQ(ok.result_int(), 202u);
  EXPECT_TRUE(parse_json(ok).at("accepted").as_bool());
}

TEST_F(server_auth, empty_configured_token_refuses_everyone) {
  client c(endpoint());
  auto res = c.request(bhttp::verb::post, "/admin/disabled", {}, {{"Authorization", "Bearer "}});
  expect_json_error(res, 401);
  auto any = c.request(bhttp::verb::post, "/admin/disabled", {}, {{"Authorization", "Bearer x"}});
  expect_json_error(any, 403);
}

/// A temporary dashboard directory with one file per served type, and a secret beside it.
class server_static : public server_fixture {
protected:
  void SetUp() override {
    std::random_device rd;
    base_ = fs::temp_directory_path() / ("cms-http-static-" + std::to_string(rd()));
    root_ = base_ / "www";
    fs::create_directories(root_ / "js");
    write(root_ / "index.html", "<html><body>cms</body></html>");
    write(root_ / "js" / "app.js", "console.log('cms');");
    write(root_ / "style.css", "body{}");
    write(root_ / "logo.png", std::string("\x89PNG\r\n\x1a\n", 8));
    write(root_ / "chart.svg", "<svg/>");
    write(root_ / "status.json", "{\"ok\":true}");
    write(base_ / "secret.txt", "TOPSECRET");
    fs::create_symlink(base_ / "secret.txt", root_ / "link.txt");
    start_server({}, [this](server& s) {
      s.add_static_dir("/ui", root_.string());
      s.add_route(verb::get, "/ui/api",
                  [](const request&, respond_fn respond) { respond(text_response(200, "api")); });
    });
  }
  void TearDown() override {
    server_fixture::TearDown();
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  static void write(const fs::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary) << content;
  }
  fs::path base_;
  fs::path root_;
};

TEST_F(server_static, serves_files_with_their_content_types) {
  client c(endpoint());
  struct expectation {
    const char* target;
    const char* type;
    const char* body;
  };
  for (auto e : std::initializer_list<expectation>{
         {"/ui/", "text/html; charset=utf-8", "<html><body>cms</body></html>"},
         {"/ui", "text/html; charset=utf-8", "<html><body>cms</body></html>"},
         {"/ui/index.html", "text/html; charset=utf-8", "<html><body>cms</body></html>"},
         {"/ui/js/app.js", "text/javascript; charset=utf-8", "console.log('cms');"},
         {"/ui/style.css", "text/css; charset=utf-8", "body{}"},
         {"/ui/chart.svg", "image/svg+xml", "<svg/>"},
         {"/ui/status.json", "application/json", "{\"ok\":true}"},
       }) {
    auto res = c.get(e.target);
    EXPECT_EQ(res.result_int(), 200u) << e.target;
    EXPECT_EQ(res[bhttp::field::content_type], e.type) << e.target;
    EXPECT_EQ(res.body(), e.body) << e.target;
  }
  auto png = c.get("/ui/logo.png");
  EXPECT_EQ(png[bhttp::field::content_type], "image/png");
  EXPECT_EQ(png.body(), std::string("\x89PNG\r\n\x1a\n", 8));
  // A route registered beside the static directory takes precedence.
  EXPECT_EQ(c.get("/ui/api").body(), "api");
  expect_json_error(c.get("/ui/missing.js"), 404);
  auto head = c.request(bhttp::verb::head, "/ui/style.css");
  EXPECT_EQ(head[bhttp::field::content_length], "6");
}

TEST_F(server_static, refuses_traversal_out_of_the_directory) {
  for (const std::string target :
       {"/ui/../secret.txt", "/ui/js/../../secret.txt", "/ui/%2e%2e/secret.txt",
        "/ui/%2E%2E%2Fsecret.txt", "/ui/..%5csecret.txt", "/ui//", "/ui/link.txt",
        "/ui///etc/passwd"}) {
    client c(endpoint());
    c.send_raw("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto res = c.read_response();
    EXPECT_EQ(res.body().find("TOPSECRET"), std::string::npos) << target;
    EXPECT_EQ(res.body().find("root:"), std::string::npos) << target;
    if (target == "/ui//") {
      EXPECT_EQ(res.result_int(), 200u) << target; // index.html, inside the directory
    } else if (target == "/ui///etc/passwd") {
      expect_json_error(res, 404); // looked up as <root>/etc/passwd, which does not exist
    } else {
      expect_json_error(res, 400);
    }
  }
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "path_traversal"), 6);
}

TEST_F(server_static, missing_directory_is_refused_at_registration) {
  EXPECT_THROW(server_->add_static_dir("/other", (base_ / "nope").string()), std::invalid_argument);
}

class server_metrics : public server_fixture {
protected:
  void SetUp() override {
    start_server({}, [](server& s) { s.add_metrics_route(); });
  }
};

TEST_F(server_metrics, renders_prometheus_text_with_request_counters) {
  registry_.get_counter("cms_calls_attempted_total", "Call attempts").inc(3);
  client c(endpoint());
  expect_json_error(c.get("/nowhere"), 404);
  auto res = c.get("/metrics");
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[bhttp::field::content_type].substr(0, 25), "text/plain; version=0.0.4");
  const auto& body = res.body();
  EXPECT_NE(body.find("# TYPE cms_http_requests_total counter"), std::string::npos) << body;
  EXPECT_NE(body.find("cms_http_requests_total{code=\"404\"} 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("cms_http_errors_total{reason=\"not_found\"} 1\n"), std::string::npos);
  EXPECT_NE(body.find("cms_http_connections_active 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("cms_calls_attempted_total 3\n"), std::string::npos) << body;
  expect_json_error(c.request(bhttp::verb::post, "/metrics", "x"), 405);
}

} // namespace
} // namespace cms::http::test
