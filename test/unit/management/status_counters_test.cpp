// GET /status over a real HTTP connection: its body (counters included) is built at most once per
// counters_max_age, so a poller hammering /status does not turn into traffic
// on the registry lock that call signalling takes.

#include "unit/http/http_test_support.hpp"
#include "runtime/node/status_routes.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

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

} // namespace
} // namespace cms::http::test
