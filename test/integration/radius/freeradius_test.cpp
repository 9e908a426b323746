// The EM client against the real RKS: FreeRADIUS 3.2 with the repository config, storing EMs in
// SQLite. Each EM type is stored once however often it arrives; a wrong secret gets no answer and
// stores nothing; Status-Server is answered; failover and return work with two real RKSs.

#include "support/rks_rig.hpp"

#include "runtime/radius/secret.hpp"

#include <boost/asio/ip/udp.hpp>

#include <gtest/gtest.h>

using namespace cms::radius;
using namespace cms::radius::itest;
using namespace std::chrono_literals;

namespace {

const em_type all_types[] = {em_type::signaling_start,
                             em_type::signaling_stop,
                             em_type::qos_reserve,
                             em_type::qos_release,
                             em_type::interconnect_signaling_start,
                             em_type::interconnect_signaling_stop,
                             em_type::call_answer,
                             em_type::call_disconnect,
                             em_type::time_change,
                             em_type::qos_commit};

class FreeRadiusRks : public ::testing::Test {
protected:
  void SetUp() override {
    for (auto tool : {"freeradius", "radclient", "sqlite3"})
      ASSERT_NO_FATAL_FAILURE(require_tool(tool));
    dir_ = make_temp_dir("rks");
    secret_file_ = write_secret_file(dir_ / "secret", "em-secret-1");
    secret_ = load_secret(secret_file_);
    rks_ = std::make_unique<rks_instance>(dir_, secret_file_);
    std::string log;
    ASSERT_TRUE(rks_->start(&log)) << log;
  }
  void TearDown() override {
    rks_.reset();
    std::error_code ignored;
    if (!dir_.empty() && !HasFailure())
      std::filesystem::remove_all(dir_, ignored);
  }
  std::shared_ptr<accounting_client> client(const std::string& secret,
                                            std::chrono::milliseconds retry = 1000ms) {
    accounting_client_options o;
    o.primary = {rks_->endpoint(), secret};
    o.retry_interval = retry;
    o.retry_count = 1;
    o.bind_address = boost::asio::ip::address_v4::loopback();
    o.envelope.nas_ip_v4 = 0x7f000001;
    return accounting_client::create(io_, o);
  }

  boost::asio::io_context io_;
  std::filesystem::path dir_;
  std::string secret_file_, secret_;
  std::unique_ptr<rks_instance> rks_;
};

} // namespace

TEST_F(FreeRadiusRks, EveryEmTypeIsStoredOnceEvenWhenReplayed) {
  std::vector<send_result> done;
  auto send_all = [&](accounting_client& c) {
    std::uint32_t seq = 100;
    for (auto t : all_types)
      c.send("em-" + std::to_string(seq), sample_em(t, seq, 7),
             [&](auto& r) { done.push_back(r); }),
        ++seq;
  };
  auto first = client(secret_);
  send_all(*first);
  ASSERT_TRUE(run_until(io_, [&] { return done.size() == std::size(all_types); }));
  for (auto& r : done)
    EXPECT_TRUE(r.ok) << r.record_key << ": " << r.error;
  // Replay from another client: new Identifiers and source ports, same EMs: answered again.
  auto second = client(secret_);
  send_all(*second);
  ASSERT_TRUE(run_until(io_, [&] { return done.size() == 2 * std::size(all_types); }));
  for (auto& r : done)
    EXPECT_TRUE(r.ok) << r.record_key << ": " << r.error;
  EXPECT_EQ(rks_->count(), static_cast<long>(std::size(all_types)));

  // What the RKS extracted from the EM header and attributes.
  auto bcid_hex = sample_em(em_type::signaling_start, 0, 7).header.billing_correlation_id.hex();
  for (std::uint32_t i = 0; i < std::size(all_types); ++i)
    EXPECT_EQ(rks_->count("bcid = '" + bcid_hex +
                          "' AND em_type = " + std::to_string(static_cast<int>(all_types[i])) +
                          " AND sequence = " + std::to_string(100 + i)),
              1)
      << "EM type " << static_cast<int>(all_types[i]);
  EXPECT_EQ(
    rks_->query("SELECT element_id || '|' || bcid_element_id || '|' || event_time || '|' || "
                "element_type || '|' || bcid_counter || '|' || acct_status_type FROM "
                "event_message WHERE em_type = 1;"),
    "   12345|   12345|20260101120000.250|1|7|Start");
  EXPECT_EQ(rks_->query("SELECT calling_party || '|' || called_party || '|' || mta_endpoint || '|' "
                        "|| direction FROM event_message WHERE em_type = 1;"),
            "3035551234|3035559876|aaln/1@mta1.example.net|Originating");
  EXPECT_EQ(rks_->query("SELECT termination_source_document || '|' || termination_cause || '|' || "
                        "acct_status_type FROM event_message WHERE em_type = 2;"),
            "1|16|Stop");
  EXPECT_EQ(rks_->query("SELECT trunk_type || '|' || trunk_number || '|' || routing_number FROM "
                        "event_message WHERE em_type = 13;"),
            "9|42|3035550000");
  EXPECT_EQ(rks_->query("SELECT acct_status_type FROM event_message WHERE em_type = 15;"),
            "Interim-Update");
  EXPECT_EQ(rks_->query("SELECT attribute_count FROM event_message WHERE em_type = 1;"), "4");
  EXPECT_NE(rks_->query("SELECT attributes FROM event_message WHERE em_type = 17;")
              .find("CableLabs-Time-Adjustment = 0xfffffffffffffa24"),
            std::string::npos);
}

TEST_F(FreeRadiusRks, RetransmittedDatagramIsAnsweredTwiceStoredOnce) {
  // The exact same bytes twice (what a retransmission is), from one socket.
  auto attrs = encode_event_message(sample_em(em_type::call_answer, 5, 9));
  auto wire = encode_accounting_request(33, attrs, secret_);
  auto auth = authenticator_of(byte_view{wire.data(), wire.size()});
  boost::asio::ip::udp::socket sock{io_, {boost::asio::ip::address_v4::loopback(), 0}};
  int answers = 0;
  std::array<std::uint8_t, 4096> buf{};
  boost::asio::ip::udp::endpoint from;
  std::function<void()> receive = [&] {
    sock.async_receive_from(boost::asio::buffer(buf), from, [&](auto ec, std::size_t n) {
      if (ec)
        return;
      if (from == rks_->endpoint() && verify_response(byte_view{buf.data(), n}, auth, secret_))
        ++answers;
      receive();
    });
  };
  receive();
  sock.send_to(boost::asio::buffer(wire), rks_->endpoint());
  ASSERT_TRUE(run_until(io_, [&] { return answers == 1; }));
  // FreeRADIUS ignores a duplicate that reaches it before its main thread has filed the first
  // reply (it logs "still being processed"); a client then retransmits again, as this one does.
  bool answered_twice = false;
  for (int attempt = 0; attempt < 20 && !answered_twice; ++attempt) {
    sock.send_to(boost::asio::buffer(wire), rks_->endpoint());
    answered_twice = run_until(
      io_, [&] { return answers >= 2; }, std::chrono::seconds(1));
  }
  ASSERT_TRUE(answered_twice);
  EXPECT_EQ(rks_->count("em_type = 15 AND sequence = 5"), 1);
}

TEST_F(FreeRadiusRks, WrongSecretGetsNoAnswerAndStoresNothing) {
  auto c = client("not-the-secret", 200ms);
  std::vector<send_result> done;
  c->send("bad", sample_em(em_type::signaling_start, 900, 77), [&](auto& r) { done.push_back(r); });
  ASSERT_TRUE(run_until(io_, [&] { return done.size() == 1; }));
  EXPECT_FALSE(done[0].ok);
  EXPECT_EQ(done[0].transmissions, 2u);
  auto counters = c->counters();
  EXPECT_EQ(counters.servers[0].responses, 0u);
  EXPECT_EQ(counters.servers[0].timeouts, 1u);
  EXPECT_EQ(rks_->count(), 0);
  // The same EM with the right secret is then accepted: the silence was the secret.
  auto good = client(secret_);
  good->send("good", sample_em(em_type::signaling_start, 900, 77),
             [&](auto& r) { done.push_back(r); });
  ASSERT_TRUE(run_until(io_, [&] { return done.size() == 2; }));
  EXPECT_TRUE(done[1].ok) << done[1].error;
  EXPECT_EQ(rks_->count(), 1);
}

TEST_F(FreeRadiusRks, StatusServerIsAnswered) {
  auto c = client(secret_, 300ms);
  std::vector<probe_result> probes;
  c->status_server({rks_->endpoint(), secret_}, [&](auto& r) { probes.push_back(r); });
  ASSERT_TRUE(run_until(io_, [&] { return probes.size() == 1; }));
  EXPECT_TRUE(probes[0].ok) << probes[0].error;
  c->status_server({rks_->endpoint(), "wrong"}, [&](auto& r) { probes.push_back(r); });
  ASSERT_TRUE(run_until(io_, [&] { return probes.size() == 2; }));
  EXPECT_FALSE(probes[1].ok);
  EXPECT_EQ(rks_->count(), 0); // a probe is not an EM
}

TEST_F(FreeRadiusRks, FailoverToSecondaryAndBackToPrimary) {
  // rks_ is the secondary here; the primary is a second FreeRADIUS, stopped for a while.
  auto primary_dir = dir_ / "primary";
  std::filesystem::create_directories(primary_dir);
  rks_instance primary{primary_dir, secret_file_};
  std::string log;
  ASSERT_TRUE(primary.start(&log)) << log;
  primary.stop();

  accounting_client_options o;
  o.primary = {primary.endpoint(), secret_};
  o.secondary = rks_peer{rks_->endpoint(), secret_};
  o.retry_interval = 200ms;
  o.retry_count = 1;
  o.probe_interval = 300ms;
  o.bind_address = boost::asio::ip::address_v4::loopback();
  auto c = accounting_client::create(io_, o);
  std::vector<send_result> done;
  c->send("1", sample_em(em_type::signaling_start, 1, 5), [&](auto& r) { done.push_back(r); });
  ASSERT_TRUE(run_until(io_, [&] { return done.size() == 1; }));
  ASSERT_TRUE(done[0].ok) << done[0].error;
  EXPECT_EQ(done[0].server, 1);
  EXPECT_TRUE(c->counters().on_secondary);
  EXPECT_EQ(rks_->count(), 1);

  ASSERT_TRUE(primary.start(&log)) << log;
  ASSERT_TRUE(run_until(io_, [&] { return c->counters().returns_to_primary == 1; }));
  c->send("2", sample_em(em_type::signaling_stop, 2, 5), [&](auto& r) { done.push_back(r); });
  ASSERT_TRUE(run_until(io_, [&] { return done.size() == 2; }));
  ASSERT_TRUE(done[1].ok) << done[1].error;
  EXPECT_EQ(done[1].server, 0);
  EXPECT_EQ(primary.count("em_type = 2"), 1);
  EXPECT_EQ(rks_->count("em_type = 2"), 0);
}
