#include "runtime/transport/rks_client.hpp"

#include "runtime/base/logging.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <deque>
#include <stdexcept>

namespace cms::billing {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::optional<rks_endpoint> rks_endpoint::parse(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find("]:");
    if (close == std::string_view::npos)
      return std::nullopt;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || s.find(':') != colon)
      return std::nullopt;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
      value > 65535)
    return std::nullopt;
  return rks_endpoint{std::string{host}, static_cast<std::uint16_t>(value)};
}

std::string rks_endpoint::to_string() const {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

namespace {

ssl::context make_tls_context(const tls_settings& tls) {
  ssl::context ctx{ssl::context::tls_client};
  // TLS 1.2 is the floor: everything older has known downgrade and cipher weaknesses.
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  error_code ec;
  auto load = [&](const char* what, const std::string& file, auto&& fn) {
    if (file.empty())
      throw std::runtime_error(std::string{"rks client: no "} + what + " configured");
    fn(ec);
    if (ec)
      throw std::runtime_error(std::string{"rks client: cannot load "} + what + " '" + file +
                               "': " + ec.message());
  };
  load("CA file", tls.ca, [&](error_code& e) { ctx.load_verify_file(tls.ca, e); });
  load("certificate", tls.cert,
       [&](error_code& e) { ctx.use_certificate_chain_file(tls.cert, e); });
  load("private key", tls.key,
       [&](error_code& e) { ctx.use_private_key_file(tls.key, ssl::context::pem, e); });
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    throw std::runtime_error("rks client: private key '" + tls.key + "' does not match '" +
                             tls.cert + "'");
  ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

} // namespace

class rks_client::impl : public std::enable_shared_from_this<rks_client::impl> {
public:
  impl(asio::io_context& io, const tls_settings& tls, metrics::registry& reg,
       rks_client_options options)
    : options_(std::move(options)),
      strand_(asio::make_strand(io)),
      tls_(make_tls_context(tls)),
      resolver_(strand_),
      timer_(strand_),
      log_(cms::log::get("rks_client")),
      batches_acked_(reg.get_counter("cms_rks_client_batches_total", "Batches sent to the RKS",
                                     {{"result", "acked"}})),
      batches_nacked_(reg.get_counter("cms_rks_client_batches_total", "Batches sent to the RKS",
                                      {{"result", "nacked"}})),
      batches_failed_(reg.get_counter("cms_rks_client_batches_total", "Batches sent to the RKS",
                                      {{"result", "failed"}})),
      records_acked_(reg.get_counter("cms_rks_client_records_acked_total",
                                     "Records the RKS acknowledged (new or duplicate)")),
      duplicates_(reg.get_counter("cms_rks_client_duplicates_total",
                                  "Records the RKS already had (re-sent after an error)")),
      connections_(reg.get_counter("cms_rks_client_connections_total",
                                   "TLS connections established to the RKS")),
      connect_failures_(reg.get_counter("cms_rks_client_connect_failures_total",
                                        "Failed connects or TLS handshakes to the RKS")) {
    if (options_.dscp < 0 || options_.dscp > 63)
      throw std::invalid_argument("rks client: DSCP " + std::to_string(options_.dscp) +
                                  " is not in 0..63");
  }

  void enqueue(rks_endpoint to, std::vector<billing_record> records, callback done) {
    asio::post(strand_, [self = shared_from_this(), to = std::move(to),
                         records = std::move(records), done = std::move(done)]() mutable {
      self->queue_.push_back(job{std::move(to), std::move(records), std::move(done), false});
      self->start_next();
    });
  }

  void close(bool drop_callbacks) {
    if (drop_callbacks)
      drop_callbacks_ = true;
    asio::post(strand_, [self = shared_from_this()] {
      self->reset_connection();
      self->resolver_.cancel();
      ++self->timer_generation_;
      self->timer_.cancel();
      auto pending = std::move(self->queue_);
      self->queue_.clear();
      self->busy_ = false;
      for (auto& j : pending)
        self->deliver(j, send_result{false, 0, 0, 0, "client closed"});
    });
  }

private:
  struct job {
    rks_endpoint to;
    std::vector<billing_record> records;
    callback done;
    bool retried; ///< already re-sent once on a fresh connection
  };

  using stream_type = ssl::stream<tcp::socket>;

  void start_next() {
    if (busy_ || queue_.empty())
      return;
    busy_ = true;
    auto& j = queue_.front();
    if (j.records.empty())
      return reject("empty batch");
    rks::batch b{options_.node, j.records};
    out_ = rks::encode_frame(rks::make_batch(b));
    if (out_.size() - rks::length_prefix_size > options_.max_frame_size)
      return reject("batch of " + std::to_string(j.records.size()) +
                    " records exceeds frame limit");
    if (stream_ && connected_to_ && *connected_to_ == j.to) {
      reused_ = true;
      return write_batch();
    }
    reset_connection();
    reused_ = false;
    arm(options_.connect_timeout, "connect");
    resolver_.async_resolve(j.to.host, std::to_string(j.to.port),
                            [self = shared_from_this(), gen = phase_generation_](
                              const error_code& ec, tcp::resolver::results_type results) {
                              self->on_resolved(gen, ec, std::move(results));
                            });
  }

  void on_resolved(unsigned gen, const error_code& ec, tcp::resolver::results_type results) {
    if (gen != phase_generation_)
      return;
    if (ec)
      return fail_connect("resolve: " + (timed_out_ ? std::string{"timeout"} : reason(ec)));
    endpoints_.assign(results.begin(), results.end());
    connect_to(0, error_code{});
  }

  void connect_to(std::size_t index, const error_code& last) {
    if (index >= endpoints_.size())
      return fail_connect("connect: " + reason(last));
    stream_ = std::make_unique<stream_type>(strand_, tls_);
    auto& sock = stream_->next_layer();
    const auto ep = endpoints_[index].endpoint();
    error_code ec;
    sock.open(ep.protocol(), ec);
    if (ec)
      return connect_to(index + 1, ec);
    mark_management_traffic(sock, ep.protocol() == tcp::v6());
    sock.set_option(tcp::no_delay(true), ec);
    sock.async_connect(
      ep, [self = shared_from_this(), gen = phase_generation_, index](const error_code& ec) {
        if (gen != self->phase_generation_)
          return;
        if (ec && !self->timed_out_)
          return self->connect_to(index + 1, ec);
        if (ec)
          return self->fail_connect("connect: timeout");
        self->handshake();
      });
  }

  /// DSCP goes in the upper six bits of the TOS / traffic class byte.
  void mark_management_traffic(tcp::socket& sock, bool v6) {
    const int tos = options_.dscp << 2;
    const int rc =
      v6 ? ::setsockopt(sock.native_handle(), IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos)
         : ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    if (rc != 0)
      log_->warn("cannot set DSCP {} on the RKS socket: errno {}", options_.dscp, errno);
  }

  void handshake() {
    arm(options_.handshake_timeout, "handshake");
    if (!options_.server_name.empty())
      stream_->set_verify_callback(ssl::host_name_verification(options_.server_name));
    stream_->async_handshake(ssl::stream_base::client, [self = shared_from_this(),
                                                        gen =
                                                          phase_generation_](const error_code& ec) {
      if (gen != self->phase_generation_)
        return;
      if (ec)
        return self->fail_connect("TLS handshake: " + (self->timed_out_ ? "timeout" : reason(ec)));
      self->connected_to_ = self->queue_.front().to;
      self->connections_.inc();
      self->log_->info("connected to RKS {}", self->connected_to_->to_string());
      self->write_batch();
    });
  }

  void write_batch() {
    arm(options_.reply_timeout, "reply");
    asio::async_write(
      *stream_, asio::buffer(out_),
      [self = shared_from_this(), gen = phase_generation_](const error_code& ec, std::size_t) {
        if (gen != self->phase_generation_)
          return;
        if (ec)
          return self->fail_io("write", ec);
        self->read_prefix();
      });
  }

  void read_prefix() {
    asio::async_read(
      *stream_, asio::buffer(prefix_),
      [self = shared_from_this(), gen = phase_generation_](const error_code& ec, std::size_t) {
        if (gen != self->phase_generation_)
          return;
        if (ec)
          return self->fail_io("read", ec);
        const auto len = rks::decode_length(self->prefix_);
        if (len > self->options_.max_frame_size)
          return self->fail("reply frame of " + std::to_string(len) + " bytes exceeds limit",
                            false);
        self->in_.resize(len);
        self->read_body();
      });
  }

  void read_body() {
    asio::async_read(
      *stream_, asio::buffer(in_),
      [self = shared_from_this(), gen = phase_generation_](const error_code& ec, std::size_t) {
        if (gen != self->phase_generation_)
          return;
        if (ec)
          return self->fail_io("read", ec);
        self->on_reply();
      });
  }

  void on_reply() {
    auto frame = rks::decode_body(in_);
    if (!frame.ok())
      return fail("bad reply: " + frame.error, false);
    rks::reply r;
    if (auto err = rks::parse_reply(frame.message, r); !err.empty())
      return fail("bad reply: " + err, false);
    if (!r.ack) {
      batches_nacked_.inc();
      return fail("nack: " + r.reason, false, false);
    }
    const auto& j = queue_.front();
    if (r.up_to_sequence != j.records.back().sequence ||
        r.accepted + r.duplicates != j.records.size())
      return fail("ack does not match the batch (up_to_sequence " +
                    std::to_string(r.up_to_sequence) + ")",
                  false);
    disarm();
    records_acked_.inc(j.records.size());
    duplicates_.inc(r.duplicates);
    batches_acked_.inc();
    complete(send_result{true, r.up_to_sequence, r.accepted, r.duplicates, {}});
  }

  /// A batch that can never be sent; the connection stays as it is.
  void reject(const std::string& why) {
    batches_failed_.inc();
    log_->warn("batch refused locally: {}", why);
    complete(send_result{false, 0, 0, 0, why});
  }

  void fail_connect(const std::string& why) {
    connect_failures_.inc();
    fail(why, false);
  }

  /// A reused connection may have been closed by the RKS while idle (restart, idle timeout): the
  /// batch is then re-sent once on a fresh connection. Harmless, since the RKS deduplicates.
  void fail_io(const char* what, const error_code& ec) {
    const bool retry = reused_ && !timed_out_ && !queue_.front().retried;
    fail(std::string{what} + ": " + (timed_out_ ? "timeout" : reason(ec)), retry);
  }

  void fail(const std::string& why, bool retry, bool count = true) {
    disarm();
    reset_connection();
    if (retry) {
      log_->info("RKS connection lost ({}), re-sending on a new connection", why);
      queue_.front().retried = true;
      busy_ = false;
      return start_next();
    }
    if (count)
      batches_failed_.inc();
    log_->warn("batch to RKS {} failed: {}", queue_.front().to.to_string(), why);
    complete(send_result{false, 0, 0, 0, why});
  }

  void complete(send_result result) {
    auto j = std::move(queue_.front());
    queue_.pop_front();
    busy_ = false;
    deliver(j, std::move(result));
    start_next();
  }

  void deliver(job& j, send_result result) {
    if (!drop_callbacks_ && j.done)
      j.done(std::move(result));
  }

  /// Each phase has one deadline; on expiry the socket is closed, which aborts the pending
  /// operation. The generation counters make late completions and late timer firings harmless.
  void arm(std::chrono::milliseconds timeout, const char* phase) {
    timed_out_ = false;
    const unsigned gen = ++timer_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), gen, phase](const error_code& ec) {
      if (ec || gen != self->timer_generation_)
        return;
      self->log_->warn("RKS {} timed out", phase);
      self->timed_out_ = true;
      self->resolver_.cancel();
      if (self->stream_) {
        error_code ignored;
        self->stream_->next_layer().close(ignored);
      }
    });
  }

  void disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void reset_connection() {
    ++phase_generation_;
    if (stream_) {
      error_code ignored;
      stream_->next_layer().close(ignored);
      stream_.reset();
    }
    connected_to_.reset();
  }

  static std::string reason(const error_code& ec) {
    if (ec.category() == asio::error::get_ssl_category()) {
      char buf[256];
      ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
      return buf;
    }
    return ec.message();
  }

  rks_client_options options_;
  asio::strand<asio::io_context::executor_type> strand_;
  ssl::context tls_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::shared_ptr<spdlog::logger> log_;
  metrics::counter& batches_acked_;
  metrics::counter& batches_nacked_;
  metrics::counter& batches_failed_;
  metrics::counter& records_acked_;
  metrics::counter& duplicates_;
  metrics::counter& connections_;
  metrics::counter& connect_failures_;

  std::unique_ptr<stream_type> stream_;
  std::optional<rks_endpoint> connected_to_;
  std::vector<tcp::resolver::results_type::value_type> endpoints_;
  std::deque<job> queue_;
  bool busy_ = false;
  bool reused_ = false;
  bool timed_out_ = false;
  std::atomic<bool> drop_callbacks_{false};
  unsigned timer_generation_ = 0;
  unsigned phase_generation_ = 0; ///< bumped when a connection is dropped
  std::string out_;
  unsigned char prefix_[rks::length_prefix_size]{};
  std::string in_;
};

rks_client::rks_client(asio::io_context& io, tls_settings tls, metrics::registry& metrics,
                       rks_client_options options)
  : impl_(std::make_shared<impl>(io, tls, metrics, std::move(options))) {}

rks_client::~rks_client() { impl_->close(true); }

void rks_client::send_batch(rks_endpoint to, std::vector<billing_record> records, callback done) {
  impl_->enqueue(std::move(to), std::move(records), std::move(done));
}

void rks_client::close() { impl_->close(false); }

} // namespace cms::billing
