#include "test/tools/rks/rks_server.hpp"

#include "persistence/rks_protocol.hpp"
#include "runtime/base/logging.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace cms::billing {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

ssl::context make_server_tls(const tls_settings& tls) {
  ssl::context ctx{ssl::context::tls_server};
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  error_code ec;
  auto check = [&](const char* what, const std::string& file) {
    if (ec)
      throw std::runtime_error(std::string{"cannot load "} + what + " '" + file +
                               "': " + ec.message());
  };
  ctx.load_verify_file(tls.ca, ec);
  check("CA file", tls.ca);
  ctx.use_certificate_chain_file(tls.cert, ec);
  check("certificate", tls.cert);
  ctx.use_private_key_file(tls.key, ssl::context::pem, ec);
  check("private key", tls.key);
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    throw std::runtime_error("private key '" + tls.key + "' does not match '" + tls.cert + "'");
  // Mutual authentication: a client without a certificate from the pair's CA is refused.
  ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

bool peer_closed(const error_code& ec) {
  return ec == asio::error::eof || ec == ssl::error::stream_truncated;
}

} // namespace

/// What every connection shares: TLS context, store, settings, log and counters.
struct server_shared {
  rks_server_settings settings;
  ssl::context tls;
  record_store& store;
  metrics::registry& metrics;
  std::shared_ptr<spdlog::logger> log = cms::log::get("rks");

  void count(const std::string& name, const std::string& help, const metrics::label_set& l = {},
             std::uint64_t n = 1) {
    metrics.get_counter(name, help, l).inc(n);
  }
  void bad_frame(const std::string& reason) {
    count("cms_rks_bad_frames_total", "Frames refused (nothing of them stored)",
          {{"reason", reason}});
  }
};

/// One client connection. Runs on the single io_context thread of the rks program.
class rks_session : public std::enable_shared_from_this<rks_session> {
public:
  rks_session(tcp::socket socket, std::string peer, server_shared& shared)
    : shared_(shared),
      peer_(std::move(peer)),
      stream_(std::move(socket), shared.tls),
      timer_(stream_.get_executor()) {}

  void start() {
    arm(shared_.settings.handshake_timeout);
    stream_.async_handshake(
      ssl::stream_base::server,
      [self = shared_from_this()](const error_code& ec) { self->on_handshake(ec); });
  }

  void close() {
    disarm();
    error_code ignored;
    stream_.next_layer().close(ignored);
  }

private:
  void on_handshake(const error_code& ec) {
    if (ec) {
      shared_.count("cms_rks_tls_refused_total", "TLS handshakes refused (bad or no certificate)");
      shared_.log->warn("refused client {}: TLS handshake failed: {}", peer_,
                        timed_out_ ? "timeout" : ec.message());
      return close();
    }
    shared_.log->info("client {} connected", peer_);
    read_prefix();
  }

  void read_prefix() {
    arm(shared_.settings.idle_timeout);
    asio::async_read(
      stream_, asio::buffer(prefix_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_prefix(ec, n); });
  }

  void on_prefix(const error_code& ec, std::size_t n) {
    if (ec) {
      if (n == 0 && (peer_closed(ec) || timed_out_)) {
        shared_.log->info("client {} disconnected{}", peer_, timed_out_ ? " (idle)" : "");
        return close();
      }
      return lost("frame length", ec);
    }
    const auto len = rks::decode_length(prefix_);
    if (len > shared_.settings.max_frame_size)
      return refuse("oversized", "frame of " + std::to_string(len) + " bytes exceeds limit of " +
                                   std::to_string(shared_.settings.max_frame_size));
    if (len <= rks::digest_size)
      return refuse("short", "frame of " + std::to_string(len) + " bytes is too short");
    body_.resize(len);
    arm(shared_.settings.frame_timeout);
    asio::async_read(stream_, asio::buffer(body_),
                     [self = shared_from_this()](const error_code& ec, std::size_t) {
                       if (ec)
                         return self->lost("frame body", ec);
                       self->on_frame();
                     });
  }

  /// The connection ended or stalled in the middle of a frame: nothing of it is stored.
  void lost(const char* where, const error_code& ec) {
    const bool truncated = peer_closed(ec) || timed_out_;
    shared_.bad_frame(timed_out_ ? "timeout" : truncated ? "truncated" : "io");
    shared_.log->warn("client {}: {} frame, connection lost reading {}: {}", peer_,
                      truncated ? "truncated" : "incomplete", where,
                      timed_out_ ? "timeout" : ec.message());
    close();
  }

  void on_frame() {
    disarm();
    auto frame = rks::decode_body(body_);
    if (!frame.ok())
      return refuse(frame.error.rfind("digest", 0) == 0 ? "digest" : "json", frame.error);
    rks::batch b;
    if (auto err = rks::parse_batch(frame.message, b); !err.empty())
      return refuse("batch", err);
    record_store::insert_result stored;
    try {
      stored = shared_.store.insert(b.node, b.records);
    } catch (const std::exception& e) {
      shared_.count("cms_rks_storage_errors_total", "Batches that could not be committed");
      shared_.log->error("client {}: storing batch failed: {}", peer_, e.what());
      return reply(rks::make_nack("storage error"), true);
    }
    shared_.count("cms_rks_batches_total", "Batches received", {{"result", "acked"}});
    shared_.count("cms_rks_records_accepted_total", "New records stored", {}, stored.accepted);
    shared_.count("cms_rks_records_duplicate_total", "Records received again (ignored)", {},
                  stored.duplicates);
    const auto up_to = b.records.back().sequence;
    shared_.log->info("batch from node {} ({}): sequences {}..{}, {} new, {} duplicates", b.node,
                      peer_, b.records.front().sequence, up_to, stored.accepted, stored.duplicates);
    reply(rks::make_ack(up_to, stored.accepted, stored.duplicates), false);
  }

  void refuse(const std::string& reason, const std::string& detail) {
    shared_.bad_frame(reason);
    shared_.count("cms_rks_batches_total", "Batches received", {{"result", "nacked"}});
    shared_.log->warn("client {}: refused frame ({}): {}; closing", peer_, reason, detail);
    reply(rks::make_nack(detail), true);
  }

  void reply(const boost::json::object& message, bool close_after) {
    out_ = rks::encode_frame(message);
    arm(shared_.settings.frame_timeout);
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this(), close_after](const error_code& ec, std::size_t) {
                        if (ec) {
                          self->shared_.log->warn("client {}: cannot send reply: {}", self->peer_,
                                                  ec.message());
                          return self->close();
                        }
                        if (close_after)
                          return self->drain();
                        self->read_prefix();
                      });
  }

  /// After a nack: half-close, then discard what the client still sends until it closes. Closing
  /// with unread data would reset the connection and could destroy the nack before it is read.
  void drain() {
    error_code ignored;
    stream_.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
    arm(std::chrono::milliseconds{2000});
    drain_more();
  }

  void drain_more() {
    stream_.next_layer().async_read_some(
      asio::buffer(scratch_), [self = shared_from_this()](const error_code& ec, std::size_t) {
        if (ec)
          return self->close();
        self->drain_more();
      });
  }

  void arm(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    const unsigned gen = ++timer_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), gen](const error_code& ec) {
      if (ec || gen != self->timer_generation_)
        return;
      self->timed_out_ = true;
      error_code ignored;
      self->stream_.next_layer().close(ignored);
    });
  }

  void disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  server_shared& shared_;
  std::string peer_;
  ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  unsigned timer_generation_ = 0;
  bool timed_out_ = false;
  unsigned char prefix_[rks::length_prefix_size]{};
  std::string body_;
  std::string out_;
  char scratch_[4096];
};

class rks_server::impl : public std::enable_shared_from_this<rks_server::impl> {
public:
  impl(asio::io_context& io, rks_server_settings settings, record_store& store,
       metrics::registry& metrics)
    : shared_{settings, make_server_tls(settings.tls), store, metrics},
      acceptor_(io) {
    error_code ec;
    const auto address = asio::ip::make_address(settings.host, ec);
    if (ec)
      throw std::runtime_error("bad listen address '" + settings.host + "'");
    const tcp::endpoint ep{address, settings.port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep, ec);
    if (ec)
      throw std::runtime_error("cannot listen on " + settings.host + ":" +
                               std::to_string(settings.port) + ": " + ec.message());
    acceptor_.listen();
  }

  void start() { accept(); }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void stop() {
    error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : sessions_)
      if (auto s = weak.lock())
        s->close();
    sessions_.clear();
  }

private:
  void accept() {
    acceptor_.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open())
        return;
      if (!ec)
        self->admit(std::move(socket));
      else
        self->shared_.log->warn("accept failed: {}", ec.message());
      self->accept();
    });
  }

  void admit(tcp::socket socket) {
    error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string peer =
      ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
    shared_.count("cms_rks_connections_total", "TCP connections accepted");
    socket.set_option(tcp::no_delay(true), ec);
    auto s = std::make_shared<rks_session>(std::move(socket), peer, shared_);
    // Forget sessions that have ended, so a long-running RKS does not accumulate them.
    sessions_.erase(
      std::remove_if(sessions_.begin(), sessions_.end(), [](const auto& w) { return w.expired(); }),
      sessions_.end());
    sessions_.push_back(s);
    s->start();
  }

  server_shared shared_;
  tcp::acceptor acceptor_;
  std::vector<std::weak_ptr<rks_session>> sessions_;
};

rks_server::rks_server(asio::io_context& io, rks_server_settings settings, record_store& store,
                       metrics::registry& metrics)
  : impl_(std::make_shared<impl>(io, std::move(settings), store, metrics)) {
  impl_->start();
}

rks_server::~rks_server() { impl_->stop(); }

std::uint16_t rks_server::port() const { return impl_->port(); }

void rks_server::stop() { impl_->stop(); }

} // namespace cms::billing
