#include "test/tools/cmtssim/pep_server.hpp"

#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <iostream>

namespace cms::cmtssim {

namespace asio = boost::asio;
using sys_error = boost::system::error_code;

class pep_server::connection : public std::enable_shared_from_this<connection> {
public:
  enum class phase { waiting_accept, ready, closed };

  connection(pep_server& server, asio::ip::tcp::socket socket, std::uint32_t handle)
    : server_(server),
      socket_(std::move(socket)),
      ka_timer_(server.io_),
      framer_(server.options_.max_message) {
    cops::byte_writer w{handle_};
    w.u32(handle);
  }

  void start() {
    cops::client_open open;
    open.client_type = server_.options_.client_type;
    open.pep_id = server_.options_.pep_id;
    send(cops::to_message(open));
    read();
  }

  bool ready() const { return phase_ == phase::ready; }

  void report(const cops::gate_command& c) {
    ++server_.counters_.reports;
    send(cops::to_report(c, handle_));
  }

  void close() {
    if (phase_ == phase::closed)
      return;
    phase_ = phase::closed;
    sys_error ignored;
    socket_.shutdown(asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
    ka_timer_.cancel();
    server_.connections_.erase(shared_from_this());
  }

private:
  void read() {
    socket_.async_read_some(
      asio::buffer(buffer_), [self = shared_from_this()](const sys_error& e, std::size_t n) {
        if (self->phase_ == phase::closed)
          return;
        if (e) {
          self->close();
          return;
        }
        self->framer_.feed(self->buffer_.data(), n);
        for (;;) {
          auto next = self->framer_.next();
          if (!next) {
            self->refuse(cops::error_code::bad_message_format, next.detail());
            return;
          }
          if (!next.value())
            break;
          auto m = cops::decode(*next.value(), self->server_.options_.max_message);
          if (!m) {
            self->refuse(cops::error_code::bad_message_format, m.detail());
            return;
          }
          self->on_message(m.value());
          if (self->phase_ == phase::closed)
            return;
        }
        self->read();
      });
  }

  /// Client-Close with an error, then drop: what a CMTS does with input it cannot trust.
  void refuse(cops::error_code code, const std::string& why) {
    ++server_.counters_.malformed;
    std::cerr << "cmtssim: closing gate controller connection: " << why << std::endl;
    cops::client_close cc;
    cc.client_type = cops::client_type_dqos;
    cc.error = static_cast<std::uint16_t>(code);
    auto wire = cops::encode(cops::to_message(cc));
    sys_error ignored;
    if (queue_.empty()) // never interleave with an asynchronous write in flight
      asio::write(socket_, asio::buffer(wire), ignored);
    close();
  }

  void on_message(const cops::message& m) {
    if (m.op == cops::op_code::ka) {
      ++server_.counters_.keepalives_received; // the gate controller's echo
      return;
    }
    if (m.op == cops::op_code::cc) {
      ++server_.counters_.client_closes;
      close();
      return;
    }
    if (phase_ == phase::waiting_accept) {
      auto cat = cops::parse_client_accept(m);
      if (!cat) {
        refuse(cops::error_code::bad_message_format, "expected CAT: " + cat.detail());
        return;
      }
      phase_ = phase::ready;
      keepalive_s_ = cat->keepalive_s;
      cops::request req;
      req.client_type = cops::client_type_dqos;
      req.handle = handle_;
      req.ctx = cops::context{cops::r_type_configuration, 0};
      send(cops::to_message(req));
      arm_keepalive();
      return;
    }
    if (m.op != cops::op_code::dec) {
      refuse(cops::error_code::bad_message_format,
             std::string("unexpected ") + cops::to_string(m.op) + " from the gate controller");
      return;
    }
    ++server_.counters_.decisions;
    auto dec = cops::parse_decision(m);
    if (!dec) {
      refuse(cops::error_code::bad_message_format, dec.detail());
      return;
    }
    if (dec->handle != handle_) {
      refuse(cops::error_code::bad_handle, "DEC for a Client Handle we did not issue");
      return;
    }
    auto cmd = cops::gate_command_from(m);
    if (!cmd) {
      refuse(cops::error_code::bad_message_format, "bad gate command: " + cmd.detail());
      return;
    }
    if (server_.frozen_) {
      ++server_.counters_.ignored_while_frozen;
      return;
    }
    auto result = server_.gates_.execute(cmd.value());
    if (server_.ems_ != nullptr) {
      if (result.reserved)
        server_.ems_->qos_reserve(*result.reserved);
      if (result.released)
        server_.ems_->qos_release(*result.released, "Gate-Delete");
    }
    report(result.answer);
  }

  void arm_keepalive() {
    std::chrono::milliseconds interval{0};
    if (server_.options_.ka_interval)
      interval = *server_.options_.ka_interval;
    else if (keepalive_s_ > 0)
      interval = std::chrono::milliseconds{keepalive_s_ * 500};
    if (interval.count() <= 0)
      return;
    ka_timer_.expires_after(interval);
    ka_timer_.async_wait([self = shared_from_this()](const sys_error& e) {
      if (e || self->phase_ != phase::ready)
        return;
      if (!self->server_.frozen_) {
        ++self->server_.counters_.keepalives_sent;
        self->send(cops::to_message(cops::keep_alive{}));
      }
      self->arm_keepalive();
    });
  }

  void send(const cops::message& m) {
    queue_.push_back(cops::encode(m));
    if (queue_.size() == 1)
      write_next();
  }

  void write_next() {
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](const sys_error& e, std::size_t) {
                        if (self->phase_ == phase::closed)
                          return;
                        if (e) {
                          self->close();
                          return;
                        }
                        self->queue_.pop_front();
                        if (!self->queue_.empty())
                          self->write_next();
                      });
  }

  pep_server& server_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer ka_timer_;
  cops::framer framer_;
  cops::bytes handle_;
  std::array<std::uint8_t, 4096> buffer_{};
  std::deque<cops::bytes> queue_;
  phase phase_ = phase::waiting_accept;
  std::uint16_t keepalive_s_ = 0;
};

pep_server::pep_server(asio::io_context& io, const std::string& address, std::uint16_t port,
                       gate_table& gates, pep_options options, em_sender* ems)
  : io_(io),
    acceptor_(io),
    gates_(gates),
    options_(std::move(options)),
    ems_(ems) {
  asio::ip::tcp::endpoint ep{asio::ip::make_address(address), port};
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  accept();
}

pep_server::~pep_server() { stop(); }

std::uint16_t pep_server::port() const { return acceptor_.local_endpoint().port(); }

void pep_server::stop() {
  sys_error ignored;
  acceptor_.close(ignored);
  drop_connections();
}

void pep_server::accept() {
  acceptor_.async_accept([this](const sys_error& e, asio::ip::tcp::socket socket) {
    if (!acceptor_.is_open())
      return;
    if (!e) {
      sys_error ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      ++counters_.connections;
      auto c = std::make_shared<connection>(*this, std::move(socket), next_handle_++);
      connections_.insert(c);
      c->start();
    }
    accept();
  });
}

std::size_t pep_server::send_event(const cops::gate_command& event) {
  std::size_t n = 0;
  for (const auto& c : connections_)
    if (c->ready()) {
      c->report(event);
      ++n;
    }
  return n;
}

std::size_t pep_server::drop_connections() {
  auto all = connections_; // close() erases from the set
  for (const auto& c : all)
    c->close();
  return all.size();
}

std::size_t pep_server::ready_connections() const {
  std::size_t n = 0;
  for (const auto& c : connections_)
    if (c->ready())
      ++n;
  return n;
}

boost::json::value pep_server::counters_json() const {
  const auto& c = counters_;
  return boost::json::object{
    {"connections", c.connections},
    {"ready_connections", ready_connections()},
    {"decisions", c.decisions},
    {"reports", c.reports},
    {"keepalives_sent", c.keepalives_sent},
    {"keepalives_received", c.keepalives_received},
    {"malformed", c.malformed},
    {"client_closes", c.client_closes},
    {"ignored_while_frozen", c.ignored_while_frozen},
    {"frozen", frozen_},
  };
}

} // namespace cms::cmtssim
