// GET /status over a real HTTP connection: its body (counters included) is built at most once per
// counters_max_age, so a poller hammering /status does not turn into traffic
// on the registry lock that call signalling takes.

#include "unit/http/http_test_support.hpp"
#include "runtime/node/status_routes.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include <cctype>

namespace cms::http::test {
namespace {

class status_counters : public server_fixture {
protected:
  caf::actor_system_config caf_cfg_;
  caf::actor_system sys_{caf_cfg_};
  cluster_view cluster_;

  void start(std::chrono::milliseconds max_age) {
    start_server({}, [this, max_age](server& s) {
      status_context ctx{sys_,     caf::actor{}, registry_,
                         cluster_, "node-t",     std::chrono::steady_clock::now(),
                         0,        max_age};
      add_status_routes(s, std::move(ctx));
    });
  }

  double calls_in_status(client& c) {
    auto res = c.get("/status");
    EXPECT_EQ(res.result_int(), 200u);
    auto body = boost::json::parse(res.body()).as_object();
    return body.at("counters").as_object().at("cms_calls_attempted_total").to_number<double>();
  }
};

TEST_F(status_counters, are_reused_within_their_maximum_age) {
  auto& calls = registry_.get_counter("cms_calls_attempted_total", "Call attempts");
  start(std::chrono::hours{1});
  client c(endpoint());
  calls.inc(3);
  EXPECT_EQ(calls_in_status(c), 3);
  calls.inc(4);
  EXPECT_EQ(calls_in_status(c), 3) << "taken again within the hour";
}

TEST_F(status_counters, are_fresh_when_the_maximum_age_is_zero) {
  auto& calls = registry_.get_counter("cms_calls_attempted_total", "Call attempts");
  start(std::chrono::milliseconds{0});
  client c(endpoint());
  calls.inc(3);
  EXPECT_EQ(calls_in_status(c), 3);
  calls.inc(4);
  EXPECT_EQ(calls_in_status(c), 7);
}

// Counters and gauges that hold integers are written as integers: Boost.JSON writes every double
// in exponent form ("0E0", "1.6461965477E1"), which neither people nor `jq -r`/awk read as a count.
TEST_F(status_counters, integer_counters_and_gauges_are_written_without_an_exponent) {
  registry_.get_counter("cms_calls_attempted_total", "Call attempts").inc(12);
  registry_.get_counter("cms_zero_total", "Never counted");
  registry_.get_gauge("cms_calls_active", "Calls").set(7);
  registry_.get_gauge("cms_negative", "Below zero").set(-3);
  start(std::chrono::milliseconds{0});
  client c(endpoint());
  auto res = c.get("/status");
  ASSERT_EQ(res.result_int(), 200u);
  const std::string body = res.body();
  auto doc = boost::json::parse(body).as_object();
  auto& counters = doc.at("counters").as_object();
  ASSERT_FALSE(counters.empty());
  for (auto& [name, v] : counters)
    EXPECT_TRUE(v.is_int64() || v.is_uint64()) << name << " = " << boost::json::serialize(v);
  EXPECT_NE(body.find("\"cms_calls_attempted_total\":12"), std::string::npos) << body;
  EXPECT_NE(body.find("\"cms_zero_total\":0"), std::string::npos) << body;
  EXPECT_NE(body.find("\"cms_negative\":-3"), std::string::npos) << body;
  EXPECT_TRUE(doc.at("uptime_s").is_int64()) << boost::json::serialize(doc.at("uptime_s"));
  // No number anywhere in the document is written with an exponent.
  for (std::size_t i = 1; i < body.size(); ++i)
    if (body[i] == 'E' && std::isdigit(static_cast<unsigned char>(body[i - 1])))
      ADD_FAILURE() << "exponent at " << i << ": " << body.substr(i > 20 ? i - 20 : 0, 40);
}

TEST(json_number, keeps_fractions_and_huge_values_as_doubles) {
  EXPECT_TRUE(json_number(0.0).is_uint64());
  EXPECT_TRUE(json_number(-1.0).is_int64());
  EXPECT_TRUE(json_number(1.5).is_double());
  EXPECT_TRUE(json_number(1e300).is_double());
  EXPECT_EQ(boost::json::serialize(json_number(16.0)), "16");
}

} // namespace
} // namespace cms::http::test
