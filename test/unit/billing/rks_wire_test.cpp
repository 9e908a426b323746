// The billing transport end to end: rks_client and a raw TLS client against the real `rks` program
// (a child process with its SQLite file in a temp dir), certificates from scripts/gen-certs.sh.

#include "persistence/rks_protocol.hpp"
#include "raw_tls_client.hpp"
#include "rks_harness.hpp"
#include "runtime/transport/rks_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

using namespace cms::billing;
using namespace cms::test;

namespace {

class rks_wire : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(generate_certs(certs_)) << "scripts/gen-certs.sh failed";
    rks_ = std::make_unique<rks_process>(
      certs_, db_, dir_.file("rks.log"),
      std::vector<std::string>{"--max-frame-size", "65536", "--frame-timeout-ms", "1000"});
    ASSERT_TRUE(rks_->start()) << "rks did not start:\n" << rks_->log();
  }

  void TearDown() override {
    if (rks_) {
      EXPECT_EQ(rks_->stop(), 0) << "rks did not exit cleanly on SIGTERM:\n" << rks_->log();
    }
  }

  rks_client make_client(const std::string& name = "node-a", const std::string& ca = "ca") {
    rks_client_options options;
    options.node = name;
    options.handshake_timeout = std::chrono::milliseconds{2000};
    return rks_client{io_, tls_for(certs_, name, ca), metrics_, options};
  }

  raw_tls_client raw_client() {
    return raw_tls_client{certs_ + "/ca.crt", certs_ + "/client.crt", certs_ + "/client.key"};
  }

  /// Sends bytes on a fresh raw connection and returns the nack reason ("" if no nack came).
  std::string nack_for(const std::string& bytes) {
    auto raw = raw_client();
    EXPECT_EQ(raw.connect(rks_->port()), "");
    EXPECT_EQ(raw.write(bytes), "");
    std::string error;
    auto reply = raw.read_reply(error);
    if (!reply)
      return "";
    rks::reply r;
    EXPECT_EQ(rks::parse_reply(*reply, r), "");
    EXPECT_FALSE(r.ack);
    EXPECT_TRUE(raw.closed_by_peer()) << "rks kept the connection after a bad frame";
    return r.reason;
  }

  temp_dir dir_;
  std::string certs_ = dir_.file("certs");
  std::string db_ = dir_.file("rks.db");
  boost::asio::io_context io_;
  cms::metrics::registry metrics_;
  std::unique_ptr<rks_process> rks_;
};

std::vector<std::string> csv_first_column(const std::string& csv) {
  std::vector<std::string> out;
  std::istringstream in{csv};
  std::string line;
  while (std::getline(in, line))
    out.push_back(line.substr(0, line.find(',')));
  return out;
}

} // namespace

TEST_F(rks_wire, batch_is_acked_after_it_is_stored) {
  auto client = make_client();
  auto r = send_and_wait(io_, client, rks_->endpoint(), make_records(1, 5));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.up_to_sequence, 5u);
  EXPECT_EQ(r.accepted, 5u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(rks_count(db_), 5);
  EXPECT_EQ(metrics_.value("cms_rks_client_batches_total", {{"result", "acked"}}), 1);
  EXPECT_EQ(metrics_.value("cms_rks_client_records_acked_total"), 5);
}

TEST_F(rks_wire, resent_records_are_stored_exactly_once) {
  auto client = make_client();
  ASSERT_TRUE(send_and_wait(io_, client, rks_->endpoint(), make_records(1, 5)).ok);
  auto again = send_and_wait(io_, client, rks_->endpoint(), make_records(1, 5));
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.up_to_sequence, 5u);
  EXPECT_EQ(again.accepted, 0u);
  EXPECT_EQ(again.duplicates, 5u);
  EXPECT_EQ(rks_count(db_), 5);

  // The other node of the pair re-sends an overlapping range after a failover.
  auto other = make_client("node-b");
  auto overlap = send_and_wait(io_, other, rks_->endpoint(), make_records(4, 5));
  ASSERT_TRUE(overlap.ok) << overlap.error;
  EXPECT_EQ(overlap.accepted, 3u);
  EXPECT_EQ(overlap.duplicates, 2u);
  EXPECT_EQ(rks_count(db_), 8);
  EXPECT_EQ(metrics_.value("cms_rks_client_connections_total"), 2) << "connection not reused";
}

TEST_F(rks_wire, corrupted_batch_is_nacked_then_the_correct_batch_is_accepted) {
  const auto records = make_records(1, 5);
  auto frame = rks::encode_frame(rks::make_batch(rks::batch{"node-a", records}));
  auto corrupted = frame;
  const auto pos = corrupted.find("5552");
  ASSERT_NE(pos, std::string::npos);
  corrupted[pos] = '6'; // a called number changes after the digest was computed
  EXPECT_EQ(nack_for(corrupted), "digest mismatch");
  EXPECT_EQ(rks_count(db_), 0);
  EXPECT_TRUE(rks_->log_contains("refused frame (digest)"));

  auto client = make_client();
  auto r = send_and_wait(io_, client, rks_->endpoint(), records);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.accepted, 5u);
  EXPECT_EQ(rks_count(db_), 5);
}

TEST_F(rks_wire, malformed_frames_are_nacked_and_nothing_is_stored) {
  // Oversized: the length alone is refused, the body is never read.
  EXPECT_NE(nack_for(std::string{"\x00\x01\x00\x01", 4}).find("exceeds limit"), std::string::npos);
  // Valid digest over text that is not JSON.
  const std::string text = "{\"type\":\"batch\",";
  const auto digest = rks::sha256(text);
  std::string body = text + std::string(reinterpret_cast<const char*>(digest.data()), 32);
  std::string frame = {0, 0, 0, static_cast<char>(body.size())};
  EXPECT_EQ(nack_for(frame + body).rfind("bad json", 0), 0u);
  // Well-formed JSON, but the sequences go backwards.
  auto records = make_records(1, 3);
  std::swap(records[1].sequence, records[2].sequence);
  EXPECT_NE(nack_for(rks::encode_frame(rks::make_batch(rks::batch{"node-a", records})))
              .find("out of order"),
            std::string::npos);
  EXPECT_EQ(rks_count(db_), 0);
  EXPECT_TRUE(rks_->log_contains("refused frame (oversized)"));
  EXPECT_TRUE(rks_->log_contains("refused frame (json)"));
  EXPECT_TRUE(rks_->log_contains("refused frame (batch)"));
}

TEST_F(rks_wire, truncated_frame_closes_the_connection_and_stores_nothing) {
  const auto frame = rks::encode_frame(rks::make_batch(rks::batch{"node-a", make_records(1, 5)}));
  {
    // The sender stalls mid-frame: rks gives up after its frame timeout and closes.
    auto raw = raw_client();
    ASSERT_EQ(raw.connect(rks_->port()), "");
    ASSERT_EQ(raw.write(frame.substr(0, frame.size() / 2)), "");
    EXPECT_TRUE(raw.closed_by_peer());
  }
  {
    // The sender's connection drops mid-frame.
    auto raw = raw_client();
    ASSERT_EQ(raw.connect(rks_->port()), "");
    ASSERT_EQ(raw.write(frame.substr(0, frame.size() - 10)), "");
    raw.abort();
  }
  EXPECT_TRUE(rks_->log_contains("truncated frame"));
  EXPECT_EQ(rks_count(db_), 0);

  auto client = make_client();
  auto r = send_and_wait(io_, client, rks_->endpoint(), make_records(1, 5));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(rks_count(db_), 5);
}

TEST_F(rks_wire, client_with_a_rogue_ca_certificate_is_refused) {
  rks_client_options options;
  rks_client rogue{
    io_,
    tls_settings{certs_ + "/rogue-client.crt", certs_ + "/rogue-client.key", certs_ + "/ca.crt"},
    metrics_, options};
  auto r = send_and_wait(io_, rogue, rks_->endpoint(), make_records(1, 5));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
  EXPECT_TRUE(rks_->log_contains("refused client"));
  EXPECT_EQ(rks_count(db_), 0);
}

TEST_F(rks_wire, client_without_a_certificate_is_refused) {
  EXPECT_THROW(rks_client(io_, tls_settings{"", "", certs_ + "/ca.crt"}, metrics_),
               std::runtime_error);

  raw_tls_client anonymous{certs_ + "/ca.crt", "", ""};
  const auto connected = anonymous.connect(rks_->port());
  if (connected.empty()) { // TLS 1.3: the client learns of the refusal only when it reads
    anonymous.write(rks::encode_frame(rks::make_batch(rks::batch{"x", make_records(1, 1)})));
    std::string error;
    EXPECT_FALSE(anonymous.read_reply(error));
  }
  EXPECT_TRUE(rks_->log_contains("refused client"));
  EXPECT_EQ(rks_count(db_), 0);
}

TEST_F(rks_wire, client_refuses_an_rks_outside_the_pair_ca) {
  auto client = make_client("node-a", "rogue-ca"); // trusts only the rogue CA
  auto r = send_and_wait(io_, client, rks_->endpoint(), make_records(1, 5));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("certificate verify failed"), std::string::npos) << r.error;
  EXPECT_EQ(rks_count(db_), 0);
}

TEST_F(rks_wire, records_survive_an_rks_restart_and_the_client_reconnects) {
  auto client = make_client();
  ASSERT_TRUE(send_and_wait(io_, client, rks_->endpoint(), make_records(1, 5)).ok);
  const auto port = rks_->port();
  ASSERT_EQ(rks_->stop(), 0);
  EXPECT_EQ(rks_count(db_), 5);
  ASSERT_TRUE(rks_->start(port)) << rks_->log();

  // The kept-alive connection died with the old process: the client must notice and reconnect.
  auto r = send_and_wait(io_, client, rks_->endpoint(), make_records(6, 5));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.accepted, 5u);
  EXPECT_EQ(rks_count(db_), 10);
  EXPECT_EQ(metrics_.value("cms_rks_client_connections_total"), 2);
}

TEST_F(rks_wire, unreachable_rks_reports_an_error) {
  rks_endpoint closed{"127.0.0.1", rks_->port()};
  ASSERT_EQ(rks_->stop(), 0);
  rks_.reset();
  auto client = make_client();
  auto r = send_and_wait(io_, client, closed, make_records(1, 1));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("connect"), std::string::npos) << r.error;
  EXPECT_EQ(metrics_.value("cms_rks_client_connect_failures_total"), 1);
}

TEST_F(rks_wire, silent_server_hits_the_handshake_timeout) {
  namespace asio = boost::asio;
  asio::ip::tcp::acceptor silent{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  asio::ip::tcp::socket accepted{io_};
  silent.async_accept(accepted, [](const boost::system::error_code&) {});
  rks_client_options options;
  options.handshake_timeout = std::chrono::milliseconds{300};
  rks_client client{io_, tls_for(certs_, "node-a"), metrics_, options};
  auto r =
    send_and_wait(io_, client, {"127.0.0.1", silent.local_endpoint().port()}, make_records(1, 1));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "TLS handshake: timeout");
}

TEST_F(rks_wire, server_that_never_answers_hits_the_reply_timeout) {
  namespace asio = boost::asio;
  namespace ssl = boost::asio::ssl;
  // A TLS server with the RKS certificate that completes the handshake and then stays silent.
  ssl::context tls{ssl::context::tls_server};
  tls.use_certificate_chain_file(certs_ + "/rks.crt");
  tls.use_private_key_file(certs_ + "/rks.key", ssl::context::pem);
  tls.load_verify_file(certs_ + "/ca.crt");
  tls.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  asio::ip::tcp::acceptor mute{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  ssl::stream<asio::ip::tcp::socket> accepted{io_, tls};
  mute.async_accept(accepted.next_layer(), [&](const boost::system::error_code& ec) {
    if (!ec)
      accepted.async_handshake(ssl::stream_base::server, [](const boost::system::error_code&) {});
  });
  rks_client_options options;
  options.reply_timeout = std::chrono::milliseconds{300};
  rks_client client{io_, tls_for(certs_, "node-a"), metrics_, options};
  auto r =
    send_and_wait(io_, client, {"127.0.0.1", mute.local_endpoint().port()}, make_records(1, 1));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "read: timeout");
}

TEST_F(rks_wire, close_fails_pending_batches) {
  auto client = make_client();
  std::vector<std::string> errors;
  client.send_batch(rks_->endpoint(), make_records(1, 1),
                    [&](send_result r) { errors.push_back(r.error); });
  client.send_batch(rks_->endpoint(), make_records(2, 1),
                    [&](send_result r) { errors.push_back(r.error); });
  client.close();
  io_.run_for(std::chrono::seconds{2});
  EXPECT_EQ(errors, (std::vector<std::string>{"client closed", "client closed"}));
  EXPECT_EQ(rks_count(db_), 0);
}

TEST_F(rks_wire, client_socket_carries_the_management_dscp) {
  if (std::system("command -v ss >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "ss (iproute2) not installed";
  rks_client_options options;
  options.dscp = 10; // AF11, to tell the configured value from the default CS1
  rks_client client{io_, tls_for(certs_, "node-a"), metrics_, options};
  ASSERT_TRUE(send_and_wait(io_, client, rks_->endpoint(), make_records(1, 1)).ok);
  // The connection is kept alive after the ack; the kernel reports its TOS byte (DSCP << 2).
  const std::string cmd =
    "ss -tnH --tos state established dst 127.0.0.1:" + std::to_string(rks_->port());
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p))
      out += buf;
    ::pclose(p);
  }
  EXPECT_NE(out.find("tos:0x28"), std::string::npos) << out;
}

TEST_F(rks_wire, export_lists_records_in_sequence_order) {
  auto client = make_client();
  ASSERT_TRUE(send_and_wait(io_, client, rks_->endpoint(), make_records(6, 5)).ok);
  ASSERT_TRUE(send_and_wait(io_, client, rks_->endpoint(), make_records(1, 5)).ok);
  const auto expected = make_records(1, 10);

  auto csv = run_rks({"export", "--db", db_, "--format", "csv"});
  ASSERT_EQ(csv.status, 0);
  auto ids = csv_first_column(csv.out);
  ASSERT_EQ(ids.size(), 11u) << csv.out;
  EXPECT_EQ(ids[0], "record_id");
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(ids[i + 1], expected[i].record_id);
  // The connection statistics contain commas and quotes: quoted and doubled per RFC 4180.
  EXPECT_NE(csv.out.find("\"PS=120, OS=19200, PR=118, OR=18880, PL=0, JI=2, LA=20 \"\"leg\"\" a\""),
            std::string::npos);

  auto js = run_rks({"export", "--db", db_, "--format", "json"});
  ASSERT_EQ(js.status, 0);
  auto parsed = boost::json::parse(js.out).as_array();
  ASSERT_EQ(parsed.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    billing_record r;
    std::string error;
    ASSERT_TRUE(rks::record_from_json(parsed[i], r, error)) << error;
    EXPECT_EQ(r, expected[i]);
    EXPECT_EQ(parsed[i].at("node").as_string(), "node-a");
  }

  auto lines = run_rks({"list", "--db", db_, "--json"});
  ASSERT_EQ(lines.status, 0);
  EXPECT_EQ(std::count(lines.out.begin(), lines.out.end(), '\n'), 10);
  EXPECT_NE(run_rks({"export", "--db", db_, "--format", "xml"}).status, 0);
  EXPECT_NE(run_rks({"count", "--db", dir_.file("missing.db")}).status, 0);
}
