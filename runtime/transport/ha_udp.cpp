#include "runtime/transport/ha_udp.hpp"

#include "runtime/base/logging.hpp"
#include "runtime/transport/ha_wire.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <netinet/in.h>

#include <array>
#include <map>
#include <mutex>
#include <stdexcept>

namespace cms::ha {

namespace asio = boost::asio;

udp_endpoint parse_udp_endpoint(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("expected host:port, got '" + host_port + "'");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host_port.substr(0, colon), ec);
  int port = std::atoi(host_port.c_str() + colon + 1);
  if (ec || port <= 0 || port > 65535)
    throw std::invalid_argument("bad address '" + host_port + "'");
  return {addr, static_cast<unsigned short>(port)};
}

namespace {

void set_dscp(asio::ip::udp::socket& s, int dscp) {
  int tos = dscp << 2;
  ::setsockopt(s.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
}

} // namespace

// -- heartbeat ---------------------------------------------------------------------------------

struct udp_heartbeat::impl : std::enable_shared_from_this<impl> {
  asio::io_context& io;
  udp_trust trust;
  udp_endpoint local, peer;
  std::chrono::milliseconds interval;
  std::chrono::milliseconds stale_after;
  int dscp;
  asio::ip::udp::socket socket{io};
  asio::steady_timer timer{io};
  std::array<char, 2048> buffer{};
  udp_endpoint sender;
  receive_fn receive;
  std::mutex mutex;
  peer_info self;
  std::chrono::steady_clock::time_point self_at{}; ///< the HA actor's last sign of life
  sequence_counter seq;
  replay_guard guard;
  bool stopped = false;
  bool silenced = false; ///< stopped beating because the HA actor went quiet (logged once)
  metrics::counter& sent;
  metrics::counter& received;
  metrics::counter& withheld;
  drop_counters dropped;

  impl(asio::io_context& io, udp_trust trust, udp_endpoint local, udp_endpoint peer,
       std::chrono::milliseconds interval, std::chrono::milliseconds stale_after, int dscp,
       metrics::registry& m)
    : io(io),
      trust(std::move(trust)),
      local(local),
      peer(peer),
      interval(interval),
      stale_after(stale_after),
      dscp(dscp),
      guard(this->trust.replay_window),
      sent(m.get_counter("cms_ha_udp_heartbeats_sent_total", "Heartbeats sent on the UDP path")),
      received(m.get_counter("cms_ha_udp_heartbeats_received_total",
                             "Heartbeats received on the UDP path")),
      withheld(
        m.get_counter("cms_ha_udp_heartbeats_withheld_total",
                      "UDP heartbeats not sent because the HA actor showed no sign of life")),
      dropped(m, "heartbeat") {}

  drop_reason accept(std::string_view datagram, peer_info& out) {
    // The source first: a stranger costs no MAC computation and no parsing.
    if (sender != peer)
      return drop_reason::wrong_source;
    heartbeat_datagram d;
    if (auto why = decode(trust.key, trust.cluster, datagram, d); why != drop_reason::none)
      return why;
    if (auto why = guard.check(d.origin.sender, d.origin.seq, d.origin.sent_ms, wall_ms());
        why != drop_reason::none)
      return why;
    out = std::move(d.info);
    return drop_reason::none;
  }

  void read() {
    socket.async_receive_from(
      asio::buffer(buffer), sender, [self = shared_from_this()](auto ec, std::size_t n) {
        if (ec || self->stopped)
          return;
        peer_info p;
        if (auto why = self->accept(std::string_view(self->buffer.data(), n), p);
            why == drop_reason::none) {
          self->received.inc();
          if (self->receive)
            self->receive(p);
        } else {
          self->dropped.count(why);
        }
        self->read();
      });
  }

  void beat() {
    std::string datagram;
    bool stale = false;
    bool known = false;
    {
      std::lock_guard g{mutex};
      auto age = std::chrono::steady_clock::now() - self_at;
      stale = age > stale_after;
      known = !self.node_id.empty();
      // Silent until the HA actor said who we are: a heartbeat with an empty identity would
      // look like a starting peer of priority 0 and win the peer an election it should not.
      // Silent too once it stops saying it: what we would send is no longer what it decides.
      if (known && !stale) {
        heartbeat_datagram d;
        d.origin = {self.node_id, seq.next(), wall_ms()};
        d.info = self;
        d.ha_age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
        datagram = encode(trust.key, trust.cluster, d);
      }
    }
    if (stale && known) {
      withheld.inc();
      if (!silenced)
        log::get("ha")->error("event=udp_heartbeat_withheld reason=\"HA actor silent for more "
                              "than {} ms\"",
                              stale_after.count());
      silenced = true;
    } else if (!stale && silenced) {
      silenced = false;
      log::get("ha")->warn("event=udp_heartbeat_resumed");
    }
    boost::system::error_code ec;
    if (!datagram.empty())
      socket.send_to(asio::buffer(datagram), peer, 0, ec); // non-blocking UDP; a loss is a loss
    if (!datagram.empty() && !ec)
      sent.inc();
    timer.expires_after(interval);
    timer.async_wait([self = shared_from_this()](auto ec) {
      if (!ec && !self->stopped)
        self->beat();
    });
  }
};

udp_heartbeat::udp_heartbeat(asio::io_context& io, udp_trust trust, udp_endpoint local,
                             udp_endpoint peer, std::chrono::milliseconds interval,
                             std::chrono::milliseconds stale_after, int dscp,
                             metrics::registry& metrics)
  : impl_(std::make_shared<impl>(io, std::move(trust), local, peer, interval, stale_after, dscp,
                                 metrics)) {}

udp_heartbeat::~udp_heartbeat() { stop(); }

void udp_heartbeat::on_receive(receive_fn f) { impl_->receive = std::move(f); }

void udp_heartbeat::start() {
  impl_->socket.open(impl_->local.protocol());
  set_dscp(impl_->socket, impl_->dscp);
  impl_->socket.bind(impl_->local);
  asio::post(impl_->io, [self = impl_] {
    self->read();
    self->beat();
  });
}

void udp_heartbeat::stop() {
  asio::post(impl_->io, [self = impl_] {
    self->stopped = true;
    boost::system::error_code ec;
    self->timer.cancel();
    self->socket.close(ec);
  });
}

void udp_heartbeat::set_self(const peer_info& self) {
  std::lock_guard g{impl_->mutex};
  impl_->self = self;
  impl_->self_at = std::chrono::steady_clock::now();
}

// -- witness client ----------------------------------------------------------------------------

struct witness_client::impl : std::enable_shared_from_this<impl> {
  struct pending {
    witness_tally tally;
    std::vector<bool> answered;
    done_fn done;
    std::unique_ptr<asio::steady_timer> timer;
  };
  asio::io_context& io;
  udp_trust trust;
  std::vector<udp_endpoint> witnesses;
  std::chrono::milliseconds timeout;
  asio::ip::udp::socket socket{io};
  std::array<char, 2048> buffer{};
  udp_endpoint sender;
  sequence_counter seq;
  replay_guard guard;
  std::map<std::uint64_t, pending> in_flight;
  bool stopped = false;
  bool reading = false;
  metrics::counter& refused;
  drop_counters dropped;

  impl(asio::io_context& io, udp_trust trust, std::vector<udp_endpoint> w,
       std::chrono::milliseconds timeout, metrics::registry& m)
    : io(io),
      trust(std::move(trust)),
      witnesses(std::move(w)),
      timeout(timeout),
      guard(this->trust.replay_window),
      refused(
        m.get_counter("cms_ha_witness_refusals_total", "Witness answers that refused a request")),
      dropped(m, "witness") {}

  void finish(std::uint64_t id) {
    auto it = in_flight.find(id);
    if (it == in_flight.end())
      return;
    auto p = std::move(it->second);
    in_flight.erase(it);
    if (p.timer)
      p.timer->cancel();
    if (p.done)
      p.done(p.tally);
  }

  void read() {
    reading = true;
    socket.async_receive_from(asio::buffer(buffer), sender,
                              [self = shared_from_this()](auto ec, std::size_t n) {
                                if (self->stopped)
                                  return;
                                if (!ec) {
                                  auto why = self->handle(std::string_view(self->buffer.data(), n));
                                  if (why != drop_reason::none)
                                    self->dropped.count(why);
                                }
                                self->read();
                              });
  }

  drop_reason handle(std::string_view datagram) {
    std::size_t from = witnesses.size();
    for (std::size_t i = 0; i < witnesses.size(); ++i)
      if (witnesses[i] == sender)
        from = i;
    if (from == witnesses.size())
      return drop_reason::wrong_source;
    witness_answer a;
    if (auto why = decode(trust.key, trust.cluster, datagram, a); why != drop_reason::none)
      return why;
    // Keyed by the source too: one witness cannot use up another's sequence numbers.
    auto key =
      a.origin.sender + "@" + sender.address().to_string() + ":" + std::to_string(sender.port());
    if (auto why = guard.check(key, a.origin.seq, a.origin.sent_ms, wall_ms());
        why != drop_reason::none)
      return why;
    auto it = in_flight.find(a.id);
    if (it == in_flight.end())
      return drop_reason::unknown_request; // late (after the timeout) or never asked
    auto& p = it->second;
    if (p.answered[from])
      return drop_reason::replayed;
    p.answered[from] = true;
    ++p.tally.answered;
    if (a.granted) {
      ++p.tally.granted;
    } else {
      refused.inc();
      p.tally.highest_refused = std::max(p.tally.highest_refused, a.epoch);
    }
    if (a.epoch > p.tally.highest_epoch) {
      p.tally.highest_epoch = a.epoch;
      p.tally.highest_holder = a.holder;
    }
    if (p.tally.answered == static_cast<int>(witnesses.size()))
      finish(a.id);
    return drop_reason::none;
  }
};

witness_client::witness_client(asio::io_context& io, udp_trust trust,
                               std::vector<udp_endpoint> witnesses,
                               std::chrono::milliseconds answer_timeout, metrics::registry& metrics)
  : impl_(
      std::make_shared<impl>(io, std::move(trust), std::move(witnesses), answer_timeout, metrics)) {
  impl_->socket.open(asio::ip::udp::v4());
}

witness_client::~witness_client() { stop(); }

std::size_t witness_client::size() const noexcept { return impl_->witnesses.size(); }

void witness_client::ask(request_kind kind, const std::string& node, std::uint64_t epoch,
                         std::chrono::milliseconds lease, done_fn done) {
  asio::post(impl_->io, [self = impl_, kind, node, epoch, lease, done = std::move(done)]() mutable {
    if (self->stopped)
      return;
    if (!self->reading)
      self->read();
    // Random, not a counter: an answer forged for a guessed id would count as a witness's vote.
    std::uint64_t id = 0;
    do
      id = random_u64();
    while (id == 0 || self->in_flight.count(id));
    auto& p = self->in_flight[id];
    p.answered.assign(self->witnesses.size(), false);
    p.done = std::move(done);
    p.timer = std::make_unique<asio::steady_timer>(self->io, self->timeout);
    p.timer->async_wait([self, id](auto ec) {
      if (!ec)
        self->finish(id);
    });
    witness_request r;
    r.origin = {node, self->seq.next(), wall_ms()};
    r.op = kind == request_kind::claim   ? witness_op::claim
           : kind == request_kind::renew ? witness_op::renew
                                         : witness_op::release;
    r.id = id;
    r.epoch = epoch;
    r.lease_ms = lease.count();
    auto datagram = encode(self->trust.key, self->trust.cluster, r);
    for (auto& w : self->witnesses) {
      boost::system::error_code ec;
      self->socket.send_to(asio::buffer(datagram), w, 0, ec);
    }
    if (self->witnesses.empty())
      self->finish(id);
  });
}

void witness_client::stop() {
  asio::post(impl_->io, [self = impl_] {
    self->stopped = true;
    boost::system::error_code ec;
    self->socket.close(ec);
    for (auto& [id, p] : self->in_flight)
      if (p.timer)
        p.timer->cancel();
    self->in_flight.clear();
  });
}

} // namespace cms::ha
