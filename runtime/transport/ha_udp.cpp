#include "runtime/transport/ha_udp.hpp"

#include "runtime/base/logging.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <netinet/in.h>

#include <array>
#include <map>
#include <mutex>
#include <stdexcept>

namespace cms::ha {

namespace asio = boost::asio;
namespace json = boost::json;

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

role role_from(std::string_view s) {
  if (s == "active")
    return role::active;
  if (s == "standby")
    return role::standby;
  if (s == "stepping-down")
    return role::stepping_down;
  return role::starting;
}

void set_dscp(asio::ip::udp::socket& s, int dscp) {
  int tos = dscp << 2;
  ::setsockopt(s.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
}

template <class T>
bool get_uint(const json::object& o, const char* key, T& out) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_number())
    return false;
  boost::system::error_code ec;
  auto n = v->to_number<std::uint64_t>(ec);
  if (ec)
    return false;
  out = static_cast<T>(n);
  return true;
}

bool get_string(const json::object& o, const char* key, std::string& out) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string())
    return false;
  out = std::string(v->as_string());
  return true;
}

std::optional<json::object> parse_object(const std::string& datagram) {
  boost::system::error_code ec;
  auto v = json::parse(datagram, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  return std::move(v.as_object());
}

} // namespace

std::string encode_heartbeat(const std::string& cluster, const peer_info& self, std::uint64_t seq) {
  return json::serialize(json::object{{"t", "hb"},
                                      {"cluster", cluster},
                                      {"node", self.node_id},
                                      {"role", to_string(self.peer_role)},
                                      {"epoch", self.epoch},
                                      {"prio", self.priority},
                                      {"applied", self.applied_seq},
                                      {"seq", seq}});
}

bool decode_heartbeat(const std::string& datagram, const std::string& cluster, peer_info& out) {
  auto o = parse_object(datagram);
  std::string t, c, r;
  if (!o || !get_string(*o, "t", t) || t != "hb" || !get_string(*o, "cluster", c) || c != cluster)
    return false;
  peer_info p;
  std::uint64_t prio = 0;
  if (!get_string(*o, "node", p.node_id) || p.node_id.empty() || !get_string(*o, "role", r) ||
      !get_uint(*o, "epoch", p.epoch) || !get_uint(*o, "prio", prio) ||
      !get_uint(*o, "applied", p.applied_seq))
    return false;
  p.peer_role = role_from(r);
  p.priority = static_cast<int>(prio);
  out = std::move(p);
  return true;
}

// -- heartbeat ---------------------------------------------------------------------------------

struct udp_heartbeat::impl : std::enable_shared_from_this<impl> {
  asio::io_context& io;
  std::string cluster;
  udp_endpoint local, peer;
  std::chrono::milliseconds interval;
  int dscp;
  asio::ip::udp::socket socket{io};
  asio::steady_timer timer{io};
  std::array<char, 2048> buffer{};
  udp_endpoint sender;
  receive_fn receive;
  std::mutex mutex;
  peer_info self;
  std::uint64_t seq = 0;
  bool stopped = false;
  metrics::counter& sent;
  metrics::counter& received;
  metrics::counter& rejected;

  impl(asio::io_context& io, std::string cluster, udp_endpoint local, udp_endpoint peer,
       std::chrono::milliseconds interval, int dscp, metrics::registry& m)
    : io(io),
      cluster(std::move(cluster)),
      local(local),
      peer(peer),
      interval(interval),
      dscp(dscp),
      sent(m.get_counter("cms_ha_udp_heartbeats_sent_total", "Heartbeats sent on the UDP path")),
      received(m.get_counter("cms_ha_udp_heartbeats_received_total",
                             "Heartbeats received on the UDP path")),
      rejected(m.get_counter("cms_ha_udp_datagrams_rejected_total",
                             "UDP heartbeat datagrams dropped (malformed or foreign cluster)")) {}

  void read() {
    socket.async_receive_from(
      asio::buffer(buffer), sender, [self = shared_from_this()](auto ec, std::size_t n) {
        if (ec || self->stopped)
          return;
        peer_info p;
        if (decode_heartbeat(std::string(self->buffer.data(), n), self->cluster, p)) {
          self->received.inc();
          if (self->receive)
            self->receive(p);
        } else {
          self->rejected.inc();
        }
        self->read();
      });
  }

  void beat() {
    std::string datagram;
    {
      std::lock_guard g{mutex};
      // Silent until the HA actor said who we are: a heartbeat with an empty identity would
      // look like a starting peer of priority 0 and win the peer an election it should not.
      if (!self.node_id.empty())
        datagram = encode_heartbeat(cluster, self, ++seq);
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

udp_heartbeat::udp_heartbeat(asio::io_context& io, std::string cluster, udp_endpoint local,
                             udp_endpoint peer, std::chrono::milliseconds interval, int dscp,
                             metrics::registry& metrics)
  : impl_(std::make_shared<impl>(io, std::move(cluster), local, peer, interval, dscp, metrics)) {}

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
  std::string cluster;
  std::vector<udp_endpoint> witnesses;
  std::chrono::milliseconds timeout;
  asio::ip::udp::socket socket{io};
  std::array<char, 2048> buffer{};
  udp_endpoint sender;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, pending> in_flight;
  bool stopped = false;
  bool reading = false;
  metrics::counter& refused;

  impl(asio::io_context& io, std::string cluster, std::vector<udp_endpoint> w,
       std::chrono::milliseconds timeout, metrics::registry& m)
    : io(io),
      cluster(std::move(cluster)),
      witnesses(std::move(w)),
      timeout(timeout),
      refused(
        m.get_counter("cms_ha_witness_refusals_total", "Witness answers that refused a request")) {}

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
                                if (!ec)
                                  self->handle(std::string(self->buffer.data(), n));
                                self->read();
                              });
  }

  void handle(const std::string& datagram) {
    auto o = parse_object(datagram);
    std::uint64_t id = 0, epoch = 0;
    std::string c, holder;
    if (!o || !get_string(*o, "cluster", c) || c != cluster || !get_uint(*o, "id", id) ||
        !get_uint(*o, "epoch", epoch))
      return;
    get_string(*o, "holder", holder);
    auto it = in_flight.find(id);
    if (it == in_flight.end())
      return;
    auto& p = it->second;
    for (std::size_t i = 0; i < witnesses.size(); ++i) {
      if (witnesses[i] == sender && !p.answered[i]) {
        p.answered[i] = true;
        ++p.tally.answered;
        auto* g = o->if_contains("granted");
        if (g && g->is_bool() && g->as_bool()) {
          ++p.tally.granted;
        } else {
          refused.inc();
          p.tally.highest_refused = std::max(p.tally.highest_refused, epoch);
        }
        if (epoch > p.tally.highest_epoch) {
          p.tally.highest_epoch = epoch;
          p.tally.highest_holder = holder;
        }
      }
    }
    if (p.tally.answered == static_cast<int>(witnesses.size()))
      finish(id);
  }
};

witness_client::witness_client(asio::io_context& io, std::string cluster,
                               std::vector<udp_endpoint> witnesses,
                               std::chrono::milliseconds answer_timeout, metrics::registry& metrics)
  : impl_(std::make_shared<impl>(io, std::move(cluster), std::move(witnesses), answer_timeout,
                                 metrics)) {
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
    auto id = self->next_id++;
    auto& p = self->in_flight[id];
    p.answered.assign(self->witnesses.size(), false);
    p.done = std::move(done);
    p.timer = std::make_unique<asio::steady_timer>(self->io, self->timeout);
    p.timer->async_wait([self, id](auto ec) {
      if (!ec)
        self->finish(id);
    });
    const char* op = kind == request_kind::claim   ? "claim"
                     : kind == request_kind::renew ? "renew"
                                                   : "release";
    auto datagram = json::serialize(json::object{{"t", op},
                                                 {"cluster", self->cluster},
                                                 {"id", id},
                                                 {"node", node},
                                                 {"epoch", epoch},
                                                 {"lease_ms", lease.count()}});
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
