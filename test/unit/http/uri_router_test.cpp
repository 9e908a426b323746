// Target parsing and routing without sockets: the hostile-input edge cases are cheaper to pin here.

#include "runtime/http/auth.hpp"
#include "runtime/http/router.hpp"
#include "runtime/http/static_files.hpp"
#include "runtime/http/uri.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cms::http {
namespace {

handler tagged(std::string tag) {
  return [tag](const request&, respond_fn respond) { respond(text_response(200, tag)); };
}

std::string run(const router::match_result& m) {
  std::string out;
  request req;
  m.target(req, [&](response r) { out = r.body; });
  return out;
}

TEST(uri, splits_path_and_decodes_query) {
  auto t = parse_target("/calls/a%20b?limit=10&q=x+y&flag&empty=&enc=%41%2F");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/calls/a b");
  EXPECT_EQ(t->query.at("limit"), "10");
  EXPECT_EQ(t->query.at("q"), "x y");
  EXPECT_EQ(t->query.at("flag"), "");
  EXPECT_EQ(t->query.at("empty"), "");
  EXPECT_EQ(t->query.at("enc"), "A/");
}

TEST(uri, accepts_absolute_form) {
  auto t = parse_target("http://node-a:8080/status?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/status");
  EXPECT_EQ(t->query.at("x"), "1");
  auto bare = parse_target("http://node-a:8080");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
}

TEST(uri, refuses_malformed_targets) {
  EXPECT_FALSE(parse_target(""));
  EXPECT_FALSE(parse_target("status"));
  EXPECT_FALSE(parse_target("*"));
  EXPECT_FALSE(parse_target("/a%2"));
  EXPECT_FALSE(parse_target("/a%zz"));
  EXPECT_FALSE(parse_target("/a%00b"));
  EXPECT_FALSE(parse_target("/a?x=%G1"));
  EXPECT_FALSE(percent_decode("%", false));
}

TEST(router, exact_param_and_prefix_with_specificity) {
  router r;
  r.add(verb::get, "/calls", tagged("list"));
  r.add(verb::get, "/calls/{id}", tagged("one"));
  r.add(verb::get, "/calls/active", tagged("active"));
  r.add(verb::get, "/ui/*", tagged("static"));

  auto m = r.match(verb::get, "/calls/42");
  ASSERT_EQ(m.result, router::outcome::found);
  EXPECT_EQ(run(m), "one");
  EXPECT_EQ(m.params.at("id"), "42");

  EXPECT_EQ(run(r.match(verb::get, "/calls/active")), "active");
  EXPECT_EQ(run(r.match(verb::get, "/calls")), "list");
  EXPECT_EQ(r.match(verb::get, "/calls/").result, router::outcome::not_found);
  EXPECT_EQ(r.match(verb::get, "/calls/1/2").result, router::outcome::not_found);

  auto s = r.match(verb::get, "/ui/js/app.js");
  ASSERT_EQ(s.result, router::outcome::found);
  EXPECT_EQ(s.params.at("*"), "js/app.js");
  auto root = r.match(verb::get, "/ui");
  ASSERT_EQ(root.result, router::outcome::found);
  EXPECT_EQ(root.params.at("*"), "");
}

TEST(router, root_prefix_serves_everything_below_more_specific_routes) {
  router r;
  r.add(verb::get, "/*", tagged("dashboard"));
  r.add(verb::get, "/status", tagged("status"));
  auto root = r.match(verb::get, "/");
  ASSERT_EQ(root.result, router::outcome::found);
  EXPECT_EQ(run(root), "dashboard");
  EXPECT_EQ(root.params.at("*"), "");
  auto deep = r.match(verb::get, "/js/app.js");
  EXPECT_EQ(deep.params.at("*"), "js/app.js");
  EXPECT_EQ(run(r.match(verb::get, "/status")), "status");
}

TEST(router, wrong_method_lists_allowed_ones_and_head_follows_get) {
  router r;
  r.add(verb::get, "/links", tagged("get"));
  r.add(verb::post, "/links", tagged("post"));
  auto m = r.match(verb::delete_, "/links");
  EXPECT_EQ(m.result, router::outcome::method_not_allowed);
  EXPECT_EQ(m.allow, "GET, HEAD, POST");
  EXPECT_EQ(run(r.match(verb::head, "/links")), "get");

  r.add(verb::head, "/links", tagged("head"));
  EXPECT_EQ(run(r.match(verb::head, "/links")), "head");
}

TEST(router, refuses_bad_and_duplicate_patterns) {
  router r;
  EXPECT_THROW(r.add(verb::get, "status", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add(verb::get, "/a/*/b", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add(verb::get, "/a/{}", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add(verb::get, "/a", handler{}), std::invalid_argument);
  r.add(verb::get, "/a", tagged("x"));
  EXPECT_THROW(r.add(verb::get, "/a", tagged("y")), std::invalid_argument);
  EXPECT_NO_THROW(r.add(verb::post, "/a", tagged("y")));
}

TEST(auth, constant_time_equal_compares_content_and_length) {
  EXPECT_TRUE(constant_time_equal("s3cret", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cres"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cret "));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(static_files, content_types_by_extension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.png"), "image/png");
  EXPECT_EQ(content_type_for("chart.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("x.json"), "application/json");
  EXPECT_EQ(content_type_for("blob"), "application/octet-stream");
  EXPECT_THROW(static_dir_handler("/nonexistent/cms-dashboard"), std::invalid_argument);
}

} // namespace
} // namespace cms::http
