// Asynchronous handlers: answers from other threads, silence, double answers, exceptions, many
// concurrent connections, and stop().

#include "http_test_support.hpp"

#include "runtime/http/server.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>

namespace cms::http::test {
namespace {

/// Stands in for an actor: answers on its own thread, like a CAF reply handler would.
class worker {
public:
  worker() : thread_([this] { loop(); }) {}
  ~worker() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
  }
  std::thread::id id() const { return thread_.get_id(); }

private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [this] { return done_ || !jobs_.empty(); });
      if (jobs_.empty())
        return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool done_ = false;
  std::thread thread_;
};

std::string thread_name(std::thread::id id) {
  std::ostringstream os;
  os << id;
  return os.str();
}

class server_async : public server_fixture {
protected:
  worker worker_;
  std::mutex parked_mutex_;
  std::vector<respond_fn> parked_; ///< answers a handler kept without replying
};

TEST_F(server_async, handler_answers_from_another_thread) {
  start_server({}, [this](server& s) {
    s.add_route(verb::get, "/calls", [this](const request& req, respond_fn respond) {
      auto limit = req.query_param("limit");
      worker_.post([respond, limit] {
        boost::json::object o;
        o["limit"] = limit;
        o["thread"] = thread_name(std::this_thread::get_id());
        respond(json_response(200, o));
      });
    });
  });
  client c(endpoint());
  auto res = c.get("/calls?limit=3");
  ASSERT_EQ(res.result_int(), 200u);
  auto body = parse_json(res);
  EXPECT_EQ(body.at("limit").as_string(), "3");
  EXPECT_EQ(body.at("thread").as_string(), thread_name(worker_.id()));
  // The connection is still usable after an answer that came from elsewhere.
  EXPECT_EQ(c.get("/calls?limit=4").result_int(), 200u);
}

TEST_F(server_async, silent_handler_gets_503_after_the_timeout_and_late_answer_is_dropped) {
  server_config cfg;
  cfg.handler_timeout = 150ms;
  start_server(cfg, [this](server& s) {
    s.add_route(verb::get, "/slow", [this](const request&, respond_fn respond) {
      std::lock_guard lock(parked_mutex_);
      parked_.push_back(std::move(respond));
    });
    s.add_route(verb::get, "/fast",
                [](const request&, respond_fn respond) { respond(text_response(200, "fast")); });
  });
  client c(endpoint());
  auto res = c.get("/slow");
  expect_json_error(res, 503);
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "handler_timeout"), 1);
  // The late answer must not reach the wire: the next response is the next request's.
  {
    std::lock_guard lock(parked_mutex_);
    ASSERT_EQ(parked_.size(), 1u);
    parked_[0](text_response(200, "too late"));
  }
  auto next = c.get("/fast");
  EXPECT_EQ(next.body(), "fast");
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "late_or_duplicate_answer"), 1);
}

TEST_F(server_async, second_answer_is_ignored) {
  start_server({}, [](server& s) {
    s.add_route(verb::get, "/twice", [](const request&, respond_fn respond) {
      respond(text_response(200, "first"));
      respond(text_response(500, "second"));
    });
  });
  client c(endpoint());
  EXPECT_EQ(c.get("/twice").body(), "first");
  EXPECT_EQ(c.get("/twice").body(), "first");
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "late_or_duplicate_answer"), 2);
}

TEST_F(server_async, throwing_handler_gets_500_json) {
  start_server({}, [](server& s) {
    s.add_route(verb::get, "/boom", [](const request&, respond_fn) -> void {
      throw std::runtime_error("actor unreachable");
    });
  });
  client c(endpoint());
  auto res = c.get("/boom");
  expect_json_error(res, 500);
  EXPECT_EQ(res.body().find("actor unreachable"), std::string::npos) << "internals leaked";
  EXPECT_EQ(counter("cms_http_errors_total", "reason", "handler_exception"), 1);
}

TEST_F(server_async, fifty_concurrent_connections_are_served_together) {
  // Answers are held back until all 50 requests are in: a server that served connections one at a
  // time would never get there and every request would time out with 503.
  constexpr std::size_t clients = 50;
  server_config cfg;
  cfg.handler_timeout = std::chrono::seconds(8);
  // All 50 come from 127.0.0.1: lift the per-address cap (server_limits_test covers it).
  cfg.max_connections_per_address = 0;
  start_server(cfg, [this](server& s) {
    s.add_route(verb::get, "/calls/{id}", [this](const request& req, respond_fn respond) {
      std::vector<respond_fn> release;
      std::vector<std::string> ids;
      {
        std::lock_guard lock(parked_mutex_);
        auto id = req.param("id");
        parked_.push_back([respond, id](response) { respond(text_response(200, id)); });
        if (parked_.size() == clients)
          release.swap(parked_);
      }
      for (auto& r : release)
        worker_.post([r] { r(response{}); });
    });
  });
  std::vector<std::unique_ptr<client>> conns;
  for (std::size_t i = 0; i < clients; ++i)
    conns.push_back(std::make_unique<client>(endpoint()));
  for (std::size_t i = 0; i < clients; ++i)
    conns[i]->send_raw("GET /calls/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  for (std::size_t i = 0; i < clients; ++i) {
    auto res = conns[i]->read_response();
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), std::to_string(i));
  }
  EXPECT_EQ(registry_.value("cms_http_connections_active"), static_cast<double>(clients));
  EXPECT_EQ(counter("cms_http_requests_total", "code", "200"), static_cast<double>(clients));
  conns.clear();
  EXPECT_TRUE(eventually([&] { return registry_.value("cms_http_connections_active") == 0; }));
}

TEST_F(server_async, stop_closes_idle_and_waiting_connections_and_the_listener) {
  // Timeouts far beyond the client's 10 s wait: a close seen within it is stop()'s doing.
  server_config cfg;
  cfg.idle_timeout = std::chrono::seconds(120);
  cfg.handler_timeout = std::chrono::seconds(120);
  start_server(cfg, [this](server& s) {
    s.add_route(verb::get, "/ok",
                [](const request&, respond_fn respond) { respond(text_response(200, "ok")); });
    s.add_route(verb::get, "/never", [this](const request&, respond_fn respond) {
      std::lock_guard lock(parked_mutex_);
      parked_.push_back(std::move(respond));
    });
  });
  auto where = endpoint();
  client idle(where);
  EXPECT_EQ(idle.get("/ok").result_int(), 200u);
  client fresh(where);
  client waiting(where);
  waiting.send_raw("GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(parked_mutex_);
    return parked_.size() == 1;
  }));

  server_->stop();
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_TRUE(fresh.closed_by_server());
  EXPECT_TRUE(waiting.closed_by_server());
  EXPECT_TRUE(eventually([&] { return server_->connection_count() == 0; }));

  boost::system::error_code ec;
  asio::io_context ioc;
  tcp::socket probe(ioc);
  EXPECT_TRUE(eventually([&] {
    probe.close();
    probe.connect(where, ec);
    return ec == asio::error::connection_refused;
  }))
    << ec.message();
  // Answering after stop() is harmless.
  std::lock_guard lock(parked_mutex_);
  parked_[0](text_response(200, "after stop"));
}

} // namespace
} // namespace cms::http::test
