#include "runtime/radius/accounting_client.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <stdexcept>

namespace cms::radius {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using clock_type = std::chrono::steady_clock;

struct accounting_client::source {
  explicit source(asio::strand<asio::io_context::executor_type>& strand) : socket(strand) {}
  udp::socket socket;
  std::array<std::uint8_t, max_packet_size> buffer{};
  udp::endpoint from;
  std::array<std::uint64_t, 256> slot{}; ///< serial of the request holding each Identifier; 0 free
  std::size_t in_use = 0;
  std::uint8_t next_id = 0;
};

struct accounting_client::request {
  explicit request(asio::strand<asio::io_context::executor_type>& strand) : timer(strand) {}
  std::uint64_t serial = 0;
  std::string key;
  std::vector<attribute> attrs;
  send_callback on_sent;
  bool probe = false;
  std::optional<rks_peer> probe_peer; ///< a probe's target (not necessarily a configured RKS)
  probe_callback on_probe;
  bool internal_probe = false; ///< the return-to-primary probe

  std::size_t source_index = 0;
  std::uint8_t identifier = 0;
  bool has_slot = false;
  int server = 0;
  udp::endpoint target;
  std::string secret;
  bytes wire;
  digest16 authenticator{};
  unsigned tries_here = 0; ///< transmissions to the current RKS
  unsigned transmissions = 0;
  bool tried_other = false;
  clock_type::time_point sent_at;
  asio::steady_timer timer;
};

std::shared_ptr<accounting_client> accounting_client::create(asio::io_context& io,
                                                             accounting_client_options options) {
  std::shared_ptr<accounting_client> c{new accounting_client(io, std::move(options))};
  c->open_sockets();
  for (std::size_t i = 0; i < c->sources_.size(); ++i)
    c->start_receive(i);
  return c;
}

accounting_client::accounting_client(asio::io_context& io, accounting_client_options options)
  : strand_(asio::make_strand(io)),
    options_(std::move(options)),
    probe_timer_(strand_) {
  if (options_.source_ports == 0)
    throw std::invalid_argument("accounting client: source_ports must be at least 1");
  if (options_.window_per_port == 0 || options_.window_per_port > 256)
    throw std::invalid_argument("accounting client: window_per_port must be 1..256");
  if (options_.dscp < 0 || options_.dscp > 63)
    throw std::invalid_argument("accounting client: dscp must be 0..63");
  if (options_.primary.secret.empty() || (options_.secondary && options_.secondary->secret.empty()))
    throw std::invalid_argument("accounting client: empty shared secret");
  counters_.servers.resize(static_cast<std::size_t>(server_count()));
}

accounting_client::~accounting_client() = default;

void accounting_client::open_sockets() {
  auto local = options_.bind_address;
  if (local.is_unspecified())
    local = options_.primary.endpoint.address().is_v6()
              ? asio::ip::address{asio::ip::address_v6::any()}
              : asio::ip::address{asio::ip::address_v4::any()};
  for (std::size_t i = 0; i < options_.source_ports; ++i) {
    auto s = std::make_unique<source>(strand_);
    udp::endpoint ep{local, 0};
    s->socket.open(ep.protocol());
    // DSCP in the upper six bits of TOS / Traffic Class.
    int tos = options_.dscp << 2;
    if (ep.protocol() == udp::v4())
      ::setsockopt(s->socket.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    else
      ::setsockopt(s->socket.native_handle(), IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
    // A full window (256 answers per socket) can arrive in one burst; the 208 KiB default holds
    // fewer than that once the kernel's per-datagram overhead counts. Capped by rmem_max.
    s->socket.set_option(asio::socket_base::receive_buffer_size(1 << 20));
    s->socket.bind(ep);
    sources_.push_back(std::move(s));
  }
}

template <class F>
void accounting_client::with_counters(F&& f) {
  std::lock_guard lock{counters_mutex_};
  f(counters_);
}

accounting_client_counters accounting_client::counters() const {
  std::lock_guard lock{counters_mutex_};
  return counters_;
}

std::vector<std::uint16_t> accounting_client::local_ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& s : sources_) {
    boost::system::error_code ec;
    auto ep = s->socket.local_endpoint(ec);
    out.push_back(ec ? 0 : ep.port());
  }
  return out;
}

const rks_peer& accounting_client::peer(int server) const {
  return server == 0 ? options_.primary : *options_.secondary;
}

int accounting_client::server_of(const udp::endpoint& from) const {
  if (from == options_.primary.endpoint)
    return 0;
  if (options_.secondary && from == options_.secondary->endpoint)
    return 1;
  return -1;
}

void accounting_client::send(std::string record_key, const event_message& em, send_callback cb) {
  // Encoding errors (a field that does not fit) surface here, in the caller's thread.
  send(std::move(record_key), encode_event_message(em, options_.envelope), std::move(cb));
}

void accounting_client::send(std::string record_key, std::vector<attribute> attrs,
                             send_callback cb) {
  auto r = std::make_unique<request>(strand_);
  r->key = std::move(record_key);
  r->attrs = std::move(attrs);
  r->on_sent = std::move(cb);
  asio::post(strand_, [self = shared_from_this(), r = std::move(r)]() mutable {
    self->enqueue(std::move(r));
  });
}

void accounting_client::status_server(rks_peer peer, probe_callback cb) {
  auto r = std::make_unique<request>(strand_);
  r->probe = true;
  r->probe_peer = std::move(peer);
  r->on_probe = std::move(cb);
  asio::post(strand_, [self = shared_from_this(), r = std::move(r)]() mutable {
    self->enqueue(std::move(r));
  });
}

void accounting_client::enqueue(std::unique_ptr<request> r) {
  if (stopped_) {
    if (r->probe) {
      if (r->on_probe)
        r->on_probe(probe_result{false, "stopped", {}});
    } else if (r->on_sent) {
      send_result res;
      res.record_key = r->key;
      res.error = "stopped";
      r->on_sent(res);
    }
    return;
  }
  r->serial = next_serial_++;
  queue_.push_back(std::move(r));
  pump();
}

void accounting_client::pump() {
  while (!stopped_ && !queue_.empty()) {
    auto& front = *queue_.front();
    if (!assign_slot(front))
      return; // window full: the FIFO waits, so EMs leave in the order they were given
    auto r = std::move(queue_.front());
    queue_.pop_front();
    auto serial = r->serial;
    auto& ref = *r;
    in_flight_.emplace(serial, std::move(r));
    if (ref.probe) {
      ref.target = ref.probe_peer->endpoint;
      ref.secret = ref.probe_peer->secret;
      ref.server = server_of(ref.target);
      ref.authenticator = random_authenticator();
      ref.wire = encode_status_server(ref.identifier, ref.authenticator, ref.secret);
    } else {
      address_to(ref, active_);
      with_counters([&](auto& c) { ++c.servers[static_cast<std::size_t>(ref.server)].requests; });
    }
    transmit(ref, false);
  }
}

bool accounting_client::assign_slot(request& r) {
  for (std::size_t n = 0; n < sources_.size(); ++n) {
    std::size_t i = (next_source_ + n) % sources_.size();
    auto& s = *sources_[i];
    if (s.in_use >= options_.window_per_port)
      continue;
    // Walk on from the last Identifier handed out, so a just-freed one is not reused at once
    // (a late answer to its previous request then cannot match the new one).
    for (int k = 0; k < 256; ++k) {
      std::uint8_t id = static_cast<std::uint8_t>(s.next_id + k);
      if (s.slot[id] != 0)
        continue;
      s.slot[id] = r.serial;
      ++s.in_use;
      s.next_id = static_cast<std::uint8_t>(id + 1);
      r.source_index = i;
      r.identifier = id;
      r.has_slot = true;
      next_source_ = (i + 1) % sources_.size();
      return true;
    }
  }
  return false;
}

void accounting_client::release_slot(request& r) {
  if (!r.has_slot)
    return;
  auto& s = *sources_[r.source_index];
  if (s.slot[r.identifier] == r.serial) {
    s.slot[r.identifier] = 0;
    --s.in_use;
  }
  r.has_slot = false;
}

void accounting_client::address_to(request& r, int server) {
  const auto& p = peer(server);
  r.server = server;
  r.target = p.endpoint;
  // Re-encoded only when the RKS changes: the secret may differ; retransmissions to the same RKS
  // reuse these bytes (RFC 2866 asks for the same Identifier and authenticator on a resend).
  if (r.wire.empty() || p.secret != r.secret) {
    r.secret = p.secret;
    r.wire = encode_accounting_request(r.identifier, r.attrs, r.secret);
    r.authenticator = authenticator_of(byte_view{r.wire.data(), r.wire.size()});
  }
  r.tries_here = 0;
}

void accounting_client::transmit(request& r, bool retransmission) {
  ++r.tries_here;
  ++r.transmissions;
  r.sent_at = clock_type::now();
  if (r.server >= 0)
    with_counters([&](auto& c) {
      auto& sc = c.servers[static_cast<std::size_t>(r.server)];
      if (retransmission)
        ++sc.retransmissions;
      else if (!r.probe)
        ++sc.pending_requests;
    });
  auto& sock = sources_[r.source_index]->socket;
  // The request owns its bytes until it completes; the send handler only logs errors away.
  sock.async_send_to(asio::buffer(r.wire), r.target,
                     asio::bind_executor(strand_, [self = shared_from_this()](
                                                    boost::system::error_code, std::size_t) {}));
  auto wait =
    r.probe ? options_.retry_interval * (1 + options_.retry_count) : options_.retry_interval;
  arm_timer(r, wait);
}

void accounting_client::arm_timer(request& r, std::chrono::milliseconds after) {
  r.timer.expires_after(after);
  r.timer.async_wait([self = shared_from_this(), serial = r.serial](boost::system::error_code ec) {
    if (!ec)
      self->on_timeout(serial);
  });
}

void accounting_client::on_timeout(std::uint64_t serial) {
  auto it = in_flight_.find(serial);
  if (it == in_flight_.end() || stopped_)
    return;
  auto& r = *it->second;
  if (r.probe) {
    finish(serial, send_result{}, false);
    return;
  }
  if (r.tries_here < 1 + options_.retry_count) {
    transmit(r, true); // same bytes, same Identifier
    return;
  }
  with_counters([&](auto& c) {
    auto& sc = c.servers[static_cast<std::size_t>(r.server)];
    ++sc.timeouts;
    --sc.pending_requests;
  });
  if (server_count() == 2 && !r.tried_other) {
    int other = 1 - r.server;
    if (active_ == r.server) {
      active_ = other;
      with_counters([&](auto& c) {
        ++c.failovers;
        c.on_secondary = active_ == 1;
      });
      if (active_ == 1)
        schedule_probe();
    }
    r.tried_other = true;
    address_to(r, other);
    with_counters([&](auto& c) { ++c.servers[static_cast<std::size_t>(other)].requests; });
    transmit(r, false);
    return;
  }
  send_result res;
  res.error = "no answer from the RKS after " + std::to_string(r.transmissions) + " transmissions";
  finish(serial, std::move(res), false);
}

void accounting_client::finish(std::uint64_t serial, send_result result, bool probe_ok) {
  auto it = in_flight_.find(serial);
  if (it == in_flight_.end())
    return;
  auto r = std::move(it->second);
  in_flight_.erase(it);
  r->timer.cancel();
  release_slot(*r);
  result.record_key = r->key;
  result.server = r->server;
  result.transmissions = r->transmissions;
  if (r->probe) {
    probe_result pr{probe_ok, probe_ok ? "" : (result.error.empty() ? "timeout" : result.error),
                    result.round_trip};
    if (r->internal_probe && probe_ok && active_ == 1) {
      active_ = 0;
      with_counters([&](auto& c) {
        ++c.returns_to_primary;
        c.on_secondary = false;
      });
    }
    if (r->internal_probe) {
      probing_ = false;
      if (active_ == 1 && !stopped_)
        schedule_probe();
    }
    if (r->on_probe)
      r->on_probe(pr);
  } else if (r->on_sent) {
    r->on_sent(result);
  }
  pump(); // a slot is free again
}

void accounting_client::schedule_probe() {
  if (probing_ || stopped_ || server_count() < 2)
    return;
  probing_ = true;
  probe_timer_.expires_after(options_.probe_interval);
  probe_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->stopped_) {
      self->probing_ = false;
      return;
    }
    auto r = std::make_unique<request>(self->strand_);
    r->probe = true;
    r->internal_probe = true;
    r->probe_peer = self->options_.primary;
    self->enqueue(std::move(r));
  });
}

void accounting_client::start_receive(std::size_t i) {
  auto& s = *sources_[i];
  s.socket.async_receive_from(
    asio::buffer(s.buffer), s.from,
    asio::bind_executor(
      strand_, [self = shared_from_this(), i](boost::system::error_code ec, std::size_t n) {
        if (self->stopped_)
          return;
        if (!ec)
          self->on_datagram(i, n);
        // ICMP port unreachable surfaces as connection_refused on Linux: keep listening.
        self->start_receive(i);
      }));
}

void accounting_client::on_datagram(std::size_t i, std::size_t size) {
  auto& s = *sources_[i];
  byte_view data{s.buffer.data(), size};
  int server = server_of(s.from);
  // Also an answer to a probe sent to an address outside the pair is acceptable.
  std::uint64_t serial = size >= 2 ? s.slot[data[1]] : 0;
  auto it = serial ? in_flight_.find(serial) : in_flight_.end();
  bool probe_target = it != in_flight_.end() && it->second->probe && it->second->target == s.from;
  if (server < 0 && !probe_target) {
    with_counters([](auto& c) { ++c.invalid_server_addresses; });
    return;
  }
  auto count = [&](std::uint64_t rks_server_counters::*field) {
    if (server >= 0)
      with_counters([&](auto& c) { ++(c.servers[static_cast<std::size_t>(server)].*field); });
  };
  auto p = decode(data);
  if (!p) {
    count(&rks_server_counters::malformed_responses);
    return;
  }
  if (it == in_flight_.end() || it->second->target != s.from) {
    count(&rks_server_counters::packets_dropped);
    return;
  }
  auto& r = *it->second;
  bool expected_code = p->packet_code == code::accounting_response ||
                       (r.probe && p->packet_code == code::access_accept);
  if (!expected_code) {
    count(&rks_server_counters::unknown_types);
    return;
  }
  if (!verify_response(data, r.authenticator, r.secret)) {
    count(&rks_server_counters::bad_authenticators);
    return; // keep waiting: the real answer may still come
  }
  auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - r.sent_at);
  if (server >= 0)
    with_counters([&](auto& c) {
      auto& sc = c.servers[static_cast<std::size_t>(server)];
      ++sc.responses;
      if (!r.probe)
        --sc.pending_requests;
      sc.round_trip_time = rtt;
      auto n = static_cast<std::int64_t>(sc.responses);
      sc.round_trip_time_avg += (rtt - sc.round_trip_time_avg) / n;
    });
  send_result res;
  res.ok = true;
  res.round_trip = rtt;
  finish(serial, std::move(res), true);
}

void accounting_client::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->stopped_)
      return;
    self->stopped_ = true;
    self->probe_timer_.cancel();
    for (auto& s : self->sources_) {
      boost::system::error_code ignored;
      s->socket.close(ignored);
    }
    auto fail_all = [&](std::unique_ptr<request> r) {
      r->timer.cancel();
      if (r->probe) {
        if (r->on_probe)
          r->on_probe(probe_result{false, "stopped", {}});
      } else if (r->on_sent) {
        send_result res;
        res.record_key = r->key;
        res.error = "stopped";
        res.server = r->server;
        res.transmissions = r->transmissions;
        r->on_sent(res);
      }
    };
    auto in_flight = std::move(self->in_flight_);
    self->in_flight_.clear();
    for (auto& [serial, r] : in_flight)
      fail_all(std::move(r));
    auto queued = std::move(self->queue_);
    self->queue_.clear();
    for (auto& r : queued)
      fail_all(std::move(r));
  });
}

} // namespace cms::radius
