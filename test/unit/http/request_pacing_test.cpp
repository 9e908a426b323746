// The management request budget: the GCRA pacer on explicit time points, then over real HTTP.

#include "http_test_support.hpp"

#include "runtime/http/request_pacer.hpp"
#include "runtime/http/server.hpp"

namespace cms::http::test {
namespace {

using clock = request_pacer::clock;

pacing_config pacing(double rate, std::size_t burst, std::chrono::milliseconds max_delay) {
  pacing_config p;
  p.requests_per_s = rate;
  p.burst = burst;
  p.max_delay = max_delay;
  return p;
}

TEST(request_pacer, unpaced_admits_everything_at_once) {
  request_pacer p{pacing_config{}};
  auto t = clock::now();
  for (int i = 0; i < 10'000; ++i) {
    auto d = p.admit(t);
    ASSERT_TRUE(d.admitted);
    ASSERT_EQ(d.delay, clock::duration::zero());
  }
}

TEST(request_pacer, a_burst_passes_then_each_request_waits_for_its_slot) {
  request_pacer p{pacing(100, 4, 10s)}; // one slot per 10 ms
  auto t = clock::now();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(p.admit(t).delay, clock::duration::zero()) << "request " << i;
  // The 6th arriving at the same instant waits one interval, the 7th two.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(p.admit(t).delay), 10ms);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(p.admit(t).delay), 20ms);
  // Quiet for a while: the budget is back, no wait.
  EXPECT_EQ(p.admit(t + 1s).delay, clock::duration::zero());
}

TEST(request_pacer, a_steady_client_at_the_rate_never_waits) {
  request_pacer p{pacing(50, 0, 1s)}; // 20 ms slots, no burst
  auto t = clock::now();
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(p.admit(t + i * 20ms).delay, clock::duration::zero()) << "request " << i;
}

TEST(request_pacer, a_slot_beyond_the_longest_delay_is_refused_and_takes_no_slot) {
  request_pacer p{pacing(10, 0, 250ms)}; // 100 ms slots
  auto t = clock::now();
  EXPECT_TRUE(p.admit(t).admitted);   // now
  EXPECT_EQ(p.admit(t).delay, 100ms); // +100
  EXPECT_EQ(p.admit(t).delay, 200ms); // +200
  auto refused = p.admit(t);          // +300 > 250
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.delay, 300ms);
  // The refusal did not push later requests back.
  auto later = p.admit(t + 100ms);
  EXPECT_TRUE(later.admitted);
  EXPECT_EQ(later.delay, 200ms);
}

void add_ping(server& s) {
  s.add_route(verb::get, "/ping",
              [](const request&, respond_fn respond) { respond(text_response(200, "pong")); });
}

class request_pacing : public server_fixture {};

TEST_F(request_pacing, a_closed_loop_client_is_slowed_to_the_rate_and_every_request_is_answered) {
  server_config cfg;
  cfg.pacing = pacing(50, 2, 5s); // 20 ms slots
  start_server(cfg, add_ping);
  client c(endpoint());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 13; ++i)
    ASSERT_EQ(c.request(bhttp::verb::get, "/ping").body(), "pong") << "request " << i;
  auto elapsed = std::chrono::steady_clock::now() - start;
  // 3 pass at once, the other 10 each wait for a 20 ms slot: at least 200 ms, whatever the machine.
  EXPECT_GE(elapsed, 195ms);
  EXPECT_GE(registry_.value("cms_http_requests_paced_total", {}), 1);
  EXPECT_EQ(counter("cms_http_requests_total", "code", "200"), 13);
}

TEST_F(request_pacing,
       beyond_the_longest_delay_the_answer_is_429_with_retry_after_and_the_connection_stays) {
  server_config cfg;
  cfg.pacing = pacing(0.5, 0, 0ms); // one request per 2 s, never delayed
  start_server(cfg, add_ping);
  client c(endpoint());
  EXPECT_EQ(c.request(bhttp::verb::get, "/ping").result_int(), 200u);
  auto refused = c.request(bhttp::verb::get, "/ping");
  expect_json_error(refused, 429);
  EXPECT_EQ(refused[bhttp::field::retry_after], "2");
  EXPECT_TRUE(refused.keep_alive());
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "rate_limited"), 1);
  // Same connection, still served (another 429 now: the slot is still 2 s away).
  expect_json_error(c.request(bhttp::verb::get, "/ping"), 429);
}

} // namespace
} // namespace cms::http::test
