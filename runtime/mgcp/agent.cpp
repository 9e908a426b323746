#include "runtime/mgcp/agent.hpp"

#include "runtime/mgcp/transaction_manager.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace cms::mgcp {

namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

std::string peer_label(const udp_endpoint& ep) {
  auto addr = ep.address();
  std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return host + ":" + std::to_string(ep.port());
}

/// Metric label for a decode error; also says which answer went out.
const char* reason_for(const decode_error& e) noexcept {
  if (!e.transaction_id)
    return "no_transaction_id";
  if (e.is_response)
    return "malformed_response";
  switch (e.code) {
  case 510:
    return "malformed";
  case 504:
    return "unknown_verb";
  case 528:
    return "unsupported_version";
  case 539:
    return "bad_parameter";
  default:
    return "bad_message";
  }
}

/// The buffer size as set (Asio halves what Linux reports: the kernel doubles a SO_RCVBUF for its
/// own bookkeeping).
std::size_t receive_buffer_of(asio::ip::udp::socket& socket) {
  asio::socket_base::receive_buffer_size size;
  boost::system::error_code ec;
  socket.get_option(size, ec);
  return ec ? 0 : static_cast<std::size_t>(size.value());
}

/// Asks for `bytes` of receive buffer. The kernel silently caps SO_RCVBUF at net.core.rmem_max;
/// SO_RCVBUFFORCE goes beyond it when the process may (CAP_NET_ADMIN). What the socket got is
/// logged by the caller and shown as a metric, so a capped buffer is visible.
void ask_receive_buffer(asio::ip::udp::socket& socket, std::size_t bytes) {
  if (bytes == 0)
    return;
  int want = static_cast<int>(std::min<std::size_t>(bytes, INT_MAX / 2));
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::receive_buffer_size(want), ec);
  if (receive_buffer_of(socket) < static_cast<std::size_t>(want))
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want);
}

void set_traffic_class(asio::ip::udp::socket& socket, int dscp) {
  if (dscp < 0 || dscp > 63)
    throw std::invalid_argument("mgcp agent: dscp must be 0..63, got " + std::to_string(dscp));
  int tos = dscp << 2; // DSCP is the upper six bits of the old TOS byte; ECN bits stay 0.
  int rc = socket.local_endpoint().address().is_v6()
             ? ::setsockopt(socket.native_handle(), IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos)
             : ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  if (rc != 0)
    throw std::system_error(errno, std::generic_category(), "mgcp agent: setting DSCP");
}

} // namespace

/// Everything the asynchronous operations touch lives here, owned by a shared_ptr so completion
/// handlers that outlive the agent (destroyed with a stopped io_context) only hold a weak_ptr.
struct agent_core : std::enable_shared_from_this<agent_core> {
  struct peer_counters {
    metrics::counter* received;
    metrics::counter* sent;
    metrics::counter* retransmitted;
    metrics::counter* failed;
    metrics::counter* duplicates;
    metrics::counter* suspect;
    std::string label;
  };

  agent_core(asio::io_context& io, agent_config cfg, metrics::registry& registry)
    : io_(io),
      cfg_(std::move(cfg)),
      metrics_(registry),
      socket_(io),
      timer_(io),
      tm_(cfg_.timers, cfg_.seed != 0 ? cfg_.seed : std::random_device{}(), cfg_.send_response_acks,
          cfg_.receive),
      guard_(cfg_.flood),
      limited_sources_(registry.get_counter(
        "cms_mgcp_flood_sources_limited_total",
        "Times a source address spent its malformed-datagram budget and was rate-limited")),
      outstanding_(registry.get_gauge("cms_mgcp_transactions_outstanding",
                                      "Commands sent and not yet answered")),
      cached_(registry.get_gauge("cms_mgcp_responses_cached",
                                 "Responses held for replay to retransmitted commands (T-hist)")) {}

  asio::io_context& io_;
  agent_config cfg_;
  metrics::registry& metrics_;
  asio::ip::udp::socket socket_;
  asio::steady_timer timer_;
  std::optional<time_point> armed_for_;
  bool stopped_ = false;
  std::atomic<bool> fenced_{false};

  /// Guards the transaction layer and the outcome handlers: send() runs on any thread.
  std::mutex mutex_;
  transaction_manager tm_;
  std::map<std::uint32_t, agent::outcome_handler> waiting_;

  agent::command_handler command_handler_;
  agent::unreachable_handler unreachable_handler_;

  std::array<char, 65536> buffer_{};
  udp_endpoint sender_;
  flood_guard guard_;
  metrics::counter& limited_sources_;

  metrics::gauge& outstanding_;
  metrics::gauge& cached_;
  std::map<udp_endpoint, peer_counters> peers_;
  std::unique_ptr<peer_counters> other_;

  // ---- metrics (io thread only) -----------------------------------------------------------

  peer_counters make_counters(const std::string& label) {
    metrics::label_set l{{"peer", label}};
    return peer_counters{
      &metrics_.get_counter("cms_mgcp_messages_received_total", "MGCP messages received", l),
      &metrics_.get_counter("cms_mgcp_messages_sent_total", "MGCP messages sent (first copies)", l),
      &metrics_.get_counter("cms_mgcp_messages_retransmitted_total",
                            "Commands and final responses sent again for lack of an answer", l),
      &metrics_.get_counter("cms_mgcp_transactions_failed_total",
                            "Commands that got no final response after Max2 retransmissions", l),
      &metrics_.get_counter("cms_mgcp_duplicate_commands_total",
                            "Retransmitted commands absorbed by the response cache", l),
      &metrics_.get_counter("cms_mgcp_peer_suspect_total",
                            "Commands that crossed Max1 retransmissions", l),
      label};
  }

  peer_counters& counters(const udp_endpoint& peer) {
    auto it = peers_.find(peer);
    if (it != peers_.end())
      return it->second;
    if (peers_.size() >= cfg_.max_peer_labels) {
      if (!other_)
        other_ = std::make_unique<peer_counters>(make_counters("other"));
      return *other_;
    }
    return peers_.emplace(peer, make_counters(peer_label(peer))).first->second;
  }

  /// Refusals for policy (source, fence, bounds): one label, no peer, so a spoofer choosing
  /// random sources cannot grow /metrics.
  void count_rejected(const char* reason, std::uint64_t n = 1) {
    metrics_
      .get_counter("cms_mgcp_rejected_total",
                   "MGCP messages refused by policy (source, fence, bounds) by reason",
                   {{"reason", reason}})
      .inc(n);
  }

  void count_error(const udp_endpoint& peer, const char* reason) {
    metrics_
      .get_counter("cms_mgcp_errors_total", "MGCP messages dropped or answered with an error",
                   {{"peer", counters(peer).label}, {"reason", reason}})
      .inc();
  }

  // ---- socket -------------------------------------------------------------------------------

  void start() {
    auto address = asio::ip::make_address(cfg_.bind_address);
    udp_endpoint local{address, cfg_.port};
    boost::system::error_code ec;
    socket_.open(local.protocol(), ec);
    if (!ec)
      socket_.bind(local, ec);
    // Sends happen on the io thread; a full send buffer must drop (and count), never block it.
    if (!ec)
      socket_.non_blocking(true, ec);
    if (ec) {
      boost::system::error_code ignored;
      socket_.close(ignored);
      throw std::system_error(ec.value(), std::system_category(),
                              "mgcp agent: binding " + peer_label(local));
    }
    ask_receive_buffer(socket_, cfg_.receive_buffer_bytes);
    metrics_
      .get_gauge(
        "cms_mgcp_receive_buffer_bytes",
        "Kernel receive buffer of the MGCP socket (SO_RCVBUF as set; Linux reports twice that)")
      .set(static_cast<double>(receive_buffer_of(socket_)));
    try {
      set_traffic_class(socket_, cfg_.dscp);
    } catch (...) {
      boost::system::error_code ignored;
      socket_.close(ignored);
      throw;
    }
    stopped_ = false;
    receive();
  }

  void receive() {
    std::weak_ptr<agent_core> weak = shared_from_this();
    socket_.async_receive_from(
      asio::buffer(buffer_), sender_, [weak](const boost::system::error_code& ec, std::size_t n) {
        auto self = weak.lock();
        if (!self || ec == asio::error::operation_aborted)
          return;
        if (!ec)
          self->on_datagram(std::string_view(self->buffer_.data(), n), self->sender_);
        if (self->socket_.is_open())
          self->receive();
      });
  }

  bool transmit(const udp_endpoint& peer, const std::string& wire) {
    if (!socket_.is_open()) {
      count_error(peer, "send_error");
      return false;
    }
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(wire), peer, 0, ec);
    if (ec) {
      count_error(peer, "send_error");
      return false;
    }
    return true;
  }

  bool send_message(const udp_endpoint& peer, const message& msg, bool retransmission) {
    std::string wire = std::visit([](const auto& m) { return encode(m); }, msg);
    if (!transmit(peer, wire))
      return false;
    auto& c = counters(peer);
    (retransmission ? c.retransmitted : c.sent)->inc();
    return true;
  }

  // ---- incoming -----------------------------------------------------------------------------

  void on_datagram(std::string_view datagram, const udp_endpoint& from) {
    const auto now = steady::now();
    // A source over its total budget costs no parse until the budget refills; other sources
    // (other ports of the same address included) are not affected.
    if (guard_.check(from, now) == flood_guard::verdict::limited) {
      count_error(from, "rate_limited");
      return;
    }
    auto decoded = decode(datagram, cfg_.limits);
    // Over its malformed budget a source's bad datagrams are not answered (no reflection); its
    // well-formed ones below are served as usual.
    bool silent = false;
    if (!decoded.errors.empty()) {
      silent = guard_.malformed_limited(from, now);
      if (guard_.malformed(from, now))
        limited_sources_.inc();
    }
    const bool fenced = fenced_.load(std::memory_order_relaxed);
    for (const auto& err : decoded.errors) {
      count_error(from, silent ? "malformed_over_budget" : reason_for(err));
      if (fenced && err.transaction_id && !err.is_response) {
        count_rejected("fenced");
        continue;
      }
      if (!silent && err.transaction_id && !err.is_response) {
        // Errors are answers (RFC 3435 2.4): the peer learns why instead of retransmitting.
        response answer;
        answer.code = err.code;
        answer.transaction_id = *err.transaction_id;
        answer.comment = std::string(default_comment(err.code));
        send_message(from, answer, false);
      }
    }
    for (auto& msg : decoded.messages) {
      counters(from).received->inc();
      if (auto* cmd = std::get_if<command>(&msg)) {
        if (fenced) {
          // Not recorded either: the first copy after the fence opens is a fresh command.
          count_rejected("fenced");
          continue;
        }
        on_command(from, std::move(*cmd), now);
      } else
        on_response(from, std::get<response>(msg), now);
    }
    arm_timer();
  }

  void on_command(const udp_endpoint& from, command cmd, time_point now) {
    incoming_command_result r;
    {
      std::lock_guard lock{mutex_};
      r = tm_.on_command(from, cmd, now);
    }
    if (r.kind == incoming_command_kind::refused_peer_limit ||
        r.kind == incoming_command_kind::refused_global_limit) {
      count_rejected(r.kind == incoming_command_kind::refused_peer_limit ? "peer_limit"
                                                                         : "global_limit");
      // The 409 is charged to the source's malformed budget: a spoofed flood of fresh ids gets
      // no more answers than a flood of garbage.
      bool silent = guard_.malformed_limited(from, now);
      if (guard_.malformed(from, now))
        limited_sources_.inc();
      if (r.reply && !silent)
        send_message(from, *r.reply, false);
      return;
    }
    if (r.kind != incoming_command_kind::fresh) {
      counters(from).duplicates->inc();
      if (r.reply)
        send_message(from, *r.reply, r.kind == incoming_command_kind::duplicate_answered);
      return;
    }
    if (command_handler_) {
      command_handler_(from, std::move(cmd));
      return;
    }
    // Nobody to execute it yet (start-up): say so rather than let the peer retransmit.
    response busy;
    busy.code = 501;
    busy.transaction_id = cmd.transaction_id;
    busy.comment = std::string(default_comment(501));
    respond(from, std::move(busy));
  }

  void on_response(const udp_endpoint& from, const response& rsp, time_point now) {
    incoming_response_result r;
    agent::outcome_handler done;
    {
      std::lock_guard lock{mutex_};
      r = tm_.on_response(from, rsp, now);
      if (r.kind == incoming_response_kind::final) {
        auto it = waiting_.find(rsp.transaction_id);
        if (it != waiting_.end()) {
          done = std::move(it->second);
          waiting_.erase(it);
        }
      }
    }
    if (r.ack)
      send_message(from, *r.ack, false);
    switch (r.kind) {
    case incoming_response_kind::final:
      if (done)
        done(rsp);
      break;
    case incoming_response_kind::duplicate:
      count_error(from, "duplicate_response");
      break;
    case incoming_response_kind::unknown:
      count_error(from, "unknown_transaction");
      break;
    case incoming_response_kind::wrong_peer:
      count_rejected("response_wrong_peer");
      break;
    case incoming_response_kind::provisional:
    case incoming_response_kind::response_ack:
      break;
    }
  }

  // ---- outgoing -----------------------------------------------------------------------------

  std::uint32_t send(const udp_endpoint& to, command cmd, agent::outcome_handler done) {
    std::uint32_t tid;
    {
      std::lock_guard lock{mutex_};
      tid = tm_.start_command(to, cmd, steady::now());
      waiting_[tid] = std::move(done);
    }
    std::weak_ptr<agent_core> weak = shared_from_this();
    asio::post(io_, [weak, to, tid, cmd = std::move(cmd)] {
      if (auto self = weak.lock())
        self->transmit_first(to, tid, cmd);
    });
    return tid;
  }

  void transmit_first(const udp_endpoint& to, std::uint32_t tid, const command& cmd) {
    if (send_message(to, cmd, false)) {
      arm_timer();
      return;
    }
    agent::outcome_handler done;
    {
      std::lock_guard lock{mutex_};
      if (!tm_.abandon(tid))
        return; // already completed or stopped
      auto it = waiting_.find(tid);
      if (it != waiting_.end()) {
        done = std::move(it->second);
        waiting_.erase(it);
      }
    }
    if (done)
      done(stopped_ ? transaction_failure::stopped : transaction_failure::send_error);
  }

  void respond(const udp_endpoint& to, response rsp) {
    if (fenced_.load(std::memory_order_relaxed)) {
      count_rejected("fenced");
      return;
    }
    if (rsp.comment.empty())
      rsp.comment = std::string(default_comment(rsp.code));
    outgoing_response out;
    {
      std::lock_guard lock{mutex_};
      out = tm_.respond(to, std::move(rsp), steady::now());
      cached_.set(static_cast<std::int64_t>(tm_.cached_responses()));
    }
    if (out.kind == outgoing_response_kind::duplicate) {
      count_error(to, "duplicate_respond");
      return;
    }
    send_message(to, out.msg, false);
    arm_timer();
  }

  // ---- time ---------------------------------------------------------------------------------

  void arm_timer() {
    std::optional<time_point> next;
    {
      std::lock_guard lock{mutex_};
      next = tm_.next_deadline();
      outstanding_.set(static_cast<std::int64_t>(tm_.outstanding()));
      cached_.set(static_cast<std::int64_t>(tm_.cached_responses()));
    }
    if (!next || stopped_ || (armed_for_ && *armed_for_ <= *next))
      return;
    armed_for_ = *next;
    timer_.expires_at(*next);
    std::weak_ptr<agent_core> weak = shared_from_this();
    timer_.async_wait([weak, when = *next](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec == asio::error::operation_aborted)
        return;
      if (self->armed_for_ == when)
        self->armed_for_.reset();
      self->on_timer();
    });
  }

  void on_timer() {
    timer_result due;
    std::vector<std::pair<udp_endpoint, agent::outcome_handler>> failed;
    {
      std::lock_guard lock{mutex_};
      due = tm_.on_timer(steady::now());
      for (auto& [tid, peer] : due.failed) {
        auto it = waiting_.find(tid);
        if (it != waiting_.end()) {
          failed.emplace_back(peer, std::move(it->second));
          waiting_.erase(it);
        }
      }
    }
    if (due.pending_expired > 0)
      count_rejected("pending_expired", due.pending_expired);
    const bool fenced = fenced_.load(std::memory_order_relaxed);
    for (auto& o : due.retransmissions) {
      // Our commands stop with the fence at the edge; a cached answer is not repeated either.
      if (fenced && std::holds_alternative<response>(o.msg))
        continue;
      send_message(o.peer, o.msg, true);
    }
    for (auto& peer : due.suspect)
      counters(peer).suspect->inc();
    for (auto& [peer, done] : failed) {
      counters(peer).failed->inc();
      if (done)
        done(transaction_failure::timeout);
      if (unreachable_handler_)
        unreachable_handler_(peer);
    }
    arm_timer();
  }

  void stop() {
    stopped_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
    armed_for_.reset();
    std::vector<agent::outcome_handler> abandoned;
    {
      std::lock_guard lock{mutex_};
      for (auto tid : tm_.abandon_all()) {
        auto it = waiting_.find(tid);
        if (it != waiting_.end()) {
          abandoned.push_back(std::move(it->second));
          waiting_.erase(it);
        }
      }
      outstanding_.set(0);
    }
    for (auto& done : abandoned)
      if (done)
        done(transaction_failure::stopped);
  }
};

struct agent::impl {
  std::shared_ptr<agent_core> core;
};

agent::agent(boost::asio::io_context& io, agent_config cfg, metrics::registry& metrics)
  : impl_(std::make_unique<impl>(impl{std::make_shared<agent_core>(io, std::move(cfg), metrics)})) {
}

agent::~agent() {
  if (impl_ && impl_->core->socket_.is_open())
    impl_->core->stop();
}

void agent::on_command(command_handler h) { impl_->core->command_handler_ = std::move(h); }
void agent::on_unreachable(unreachable_handler h) {
  impl_->core->unreachable_handler_ = std::move(h);
}
void agent::start() { impl_->core->start(); }
void agent::set_fenced(bool fenced) { impl_->core->fenced_.store(fenced); }
bool agent::fenced() const { return impl_->core->fenced_.load(); }
void agent::stop() { impl_->core->stop(); }

std::uint32_t agent::send(const udp_endpoint& to, command cmd, outcome_handler done) {
  return impl_->core->send(to, std::move(cmd), std::move(done));
}

void agent::respond(const udp_endpoint& to, response rsp) {
  std::weak_ptr<agent_core> weak = impl_->core;
  // dispatch: runs inline when the owner answers from inside on_command (the common case), else
  // posts. respond() has no callback, so running inline cannot surprise the caller.
  boost::asio::dispatch(impl_->core->io_, [weak, to, rsp = std::move(rsp)]() mutable {
    if (auto self = weak.lock())
      self->respond(to, std::move(rsp));
  });
}

udp_endpoint agent::local_endpoint() const {
  boost::system::error_code ec;
  auto ep = impl_->core->socket_.local_endpoint(ec);
  return ec ? udp_endpoint{} : ep;
}

std::size_t agent::receive_buffer_bytes() const {
  return impl_->core->socket_.is_open() ? receive_buffer_of(impl_->core->socket_) : 0;
}

} // namespace cms::mgcp
