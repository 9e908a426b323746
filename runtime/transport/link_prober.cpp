#include "runtime/transport/link_prober.hpp"

#include "actors/type_ids.hpp"
#include "runtime/base/logging.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <charconv>
#include <random>
#include <stdexcept>

namespace cms::links {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;

namespace {

constexpr std::string_view magic = "CMSPROBE1 ";

std::uint64_t random_session() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

} // namespace

class udp_link_prober::impl : public std::enable_shared_from_this<udp_link_prober::impl> {
public:
  impl(asio::io_context& io, const persistence::data_link& link, int dscp, metrics::registry& reg)
    : name_(link.name),
      strand_(asio::make_strand(io)),
      socket_(strand_),
      session_(random_session()),
      dscp_(dscp),
      log_(log::get("links")),
      send_errors_(reg.get_counter("cms_data_link_probe_errors_total",
                                   "Probes that could not be sent or answers dropped",
                                   {{"link", link.name}, {"reason", "send"}})),
      bad_answers_(reg.get_counter("cms_data_link_probe_errors_total",
                                   "Probes that could not be sent or answers dropped",
                                   {{"link", link.name}, {"reason", "bad_answer"}})) {
    if (dscp < 0 || dscp > 63)
      throw std::invalid_argument("data link " + link.name + ": DSCP " + std::to_string(dscp) +
                                  " is not in 0..63");
    error_code ec;
    local_ = asio::ip::make_address(link.local_address, ec);
    if (ec)
      throw std::invalid_argument("data link " + link.name + ": bad local address '" +
                                  link.local_address + "'");
    auto remote = asio::ip::make_address(link.remote_address, ec);
    if (ec || link.remote_port == 0)
      throw std::invalid_argument("data link " + link.name + ": bad remote address '" +
                                  link.remote_address + ":" + std::to_string(link.remote_port) +
                                  "'");
    remote_ = udp::endpoint{remote, link.remote_port};
    if (local_.is_v4() != remote.is_v4())
      throw std::invalid_argument("data link " + link.name +
                                  ": local and remote addresses of different families");
  }

  void send(caf::actor reply_to, std::uint64_t seq) {
    asio::post(strand_, [self = shared_from_this(), reply_to = std::move(reply_to), seq] {
      self->reply_to_ = caf::actor_cast<caf::actor_addr>(reply_to);
      if (!self->socket_.is_open() && !self->open())
        return self->send_errors_.inc();
      auto out = std::make_shared<std::string>(std::string{magic} + std::to_string(self->session_) +
                                               " " + std::to_string(seq));
      self->socket_.async_send_to(
        asio::buffer(*out), self->remote_, [self, out](const error_code& ec, std::size_t) {
          if (ec && ec != asio::error::operation_aborted) {
            self->send_errors_.inc();
            self->log_->debug("link={} probe send failed: {}", self->name_, ec.message());
          }
        });
    });
  }

  void stop() {
    asio::post(strand_, [self = shared_from_this()] {
      error_code ignored;
      self->socket_.close(ignored);
      self->reply_to_ = caf::actor_addr{};
    });
  }

private:
  bool open() {
    error_code ec;
    socket_.open(remote_.protocol(), ec);
    if (!ec) {
      const int tos = dscp_ << 2; // DSCP: upper six bits of TOS / traffic class
      const int rc =
        remote_.protocol() == udp::v6()
          ? ::setsockopt(socket_.native_handle(), IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos)
          : ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
      if (rc != 0)
        log_->warn("link={} cannot set DSCP {} on the probe socket", name_, dscp_);
      socket_.bind(udp::endpoint{local_, 0}, ec);
    }
    if (ec) {
      error_code ignored;
      socket_.close(ignored);
      // Once per outage, not once per probe: the link is reported down by its actor anyway.
      if (!open_failed_)
        log_->error("event=data_link_probe_socket_failed link={} local={} error=\"{}\"", name_,
                    local_.to_string(), ec.message());
      open_failed_ = true;
      return false;
    }
    open_failed_ = false;
    receive();
    return true;
  }

  void receive() {
    socket_.async_receive_from(
      asio::buffer(in_), from_, [self = shared_from_this()](const error_code& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted || !self->socket_.is_open())
          return;
        if (!ec)
          self->on_answer(std::string_view{self->in_.data(), n});
        self->receive();
      });
  }

  void on_answer(std::string_view text) {
    std::uint64_t session = 0;
    std::uint64_t seq = 0;
    if (from_ != remote_ || !parse(text, session, seq) || session != session_) {
      bad_answers_.inc();
      return;
    }
    if (auto to = caf::actor_cast<caf::actor>(reply_to_))
      caf::anon_send(to, atom::probe_ack_v, seq);
  }

  static bool parse(std::string_view text, std::uint64_t& session, std::uint64_t& seq) {
    if (text.substr(0, magic.size()) != magic)
      return false;
    text.remove_prefix(magic.size());
    auto space = text.find(' ');
    if (space == std::string_view::npos)
      return false;
    auto num = [](std::string_view s, std::uint64_t& out) {
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
    };
    return num(text.substr(0, space), session) && num(text.substr(space + 1), seq);
  }

  std::string name_;
  asio::strand<asio::io_context::executor_type> strand_;
  udp::socket socket_;
  asio::ip::address local_;
  udp::endpoint remote_;
  udp::endpoint from_;
  std::array<char, 512> in_{};
  std::uint64_t session_;
  int dscp_;
  bool open_failed_ = false;
  caf::actor_addr reply_to_;
  std::shared_ptr<spdlog::logger> log_;
  metrics::counter& send_errors_;
  metrics::counter& bad_answers_;
};

udp_link_prober::udp_link_prober(asio::io_context& io, const persistence::data_link& link, int dscp,
                                 metrics::registry& metrics)
  : impl_(std::make_shared<impl>(io, link, dscp, metrics)) {}

udp_link_prober::~udp_link_prober() { impl_->stop(); }

void udp_link_prober::send_probe(const caf::actor& reply_to, std::uint64_t seq) {
  impl_->send(reply_to, seq);
}

void udp_link_prober::stop() { impl_->stop(); }

} // namespace cms::links
