#include "runtime/cops/gate_controller_session.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

namespace cms::cops {

namespace asio = boost::asio;
using sys_error = boost::system::error_code;

const char* to_string(command_status s) {
  switch (s) {
  case command_status::ack:
    return "ack";
  case command_status::err:
    return "err";
  case command_status::timeout:
    return "timeout";
  case command_status::not_ready:
    return "not_ready";
  case command_status::connection_lost:
    return "connection_lost";
  case command_status::stopped:
    return "stopped";
  }
  return "?";
}

std::shared_ptr<gate_controller_session>
gate_controller_session::create(asio::io_context& io, session_config config,
                                session_handlers handlers) {
  return std::shared_ptr<gate_controller_session>(
    new gate_controller_session(io, std::move(config), std::move(handlers)));
}

gate_controller_session::gate_controller_session(asio::io_context& io, session_config config,
                                                 session_handlers handlers)
  : strand_(asio::make_strand(io)),
    config_(std::move(config)),
    handlers_(std::move(handlers)),
    socket_(strand_),
    connect_timer_(strand_),
    handshake_timer_(strand_),
    liveness_timer_(strand_),
    reconnect_timer_(strand_),
    framer_(config_.max_message),
    backoff_(config_.reconnect_initial) {}

session_counters gate_controller_session::counters() const {
  session_counters c;
  c.commands = counters_.commands;
  c.acks = counters_.acks;
  c.errs = counters_.errs;
  c.timeouts = counters_.timeouts;
  c.connects = counters_.connects;
  c.reconnects = counters_.reconnects;
  c.losses = counters_.losses;
  c.malformed = counters_.malformed;
  c.keepalives = counters_.keepalives;
  c.gate_events = counters_.gate_events;
  return c;
}

void gate_controller_session::log(const std::string& line) const {
  if (handlers_.log)
    handlers_.log(line);
}

void gate_controller_session::set_state(state s) {
  state_ = s;
  state_snapshot_ = s;
}

void gate_controller_session::start() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->state_ == state::idle)
      self->connect();
  });
}

void gate_controller_session::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->state_ == state::stopped)
      return;
    const bool was_ready = self->state_ == state::ready;
    ++self->generation_;
    self->set_state(state::stopped);
    sys_error ignored;
    self->socket_.close(ignored);
    self->connect_timer_.cancel();
    self->handshake_timer_.cancel();
    self->liveness_timer_.cancel();
    self->reconnect_timer_.cancel();
    self->write_queue_.clear();
    self->complete_all(command_status::stopped);
    if (was_ready && self->handlers_.lost)
      self->handlers_.lost("stopped");
  });
}

void gate_controller_session::connect() {
  if (attempted_)
    ++counters_.reconnects;
  attempted_ = true;
  const auto gen = ++generation_;
  set_state(state::connecting);
  framer_.reset();
  handle_.clear();
  write_queue_.clear();
  writing_ = false;
  socket_ = asio::ip::tcp::socket(strand_);
  sys_error ec;
  auto address = asio::ip::make_address(config_.cmts_address, ec);
  if (ec) {
    fail("bad CMTS address '" + config_.cmts_address + "'");
    return;
  }
  auto self = shared_from_this();
  connect_timer_.expires_after(config_.connect_timeout);
  connect_timer_.async_wait([self, gen](const sys_error& e) {
    if (!e && self->generation_ == gen && self->state_ == state::connecting)
      self->fail("connect timeout");
  });
  socket_.async_connect({address, config_.cmts_port}, [self, gen](const sys_error& e) {
    if (self->generation_ != gen || self->state_ != state::connecting)
      return;
    self->connect_timer_.cancel();
    if (e) {
      self->fail("connect: " + e.message());
      return;
    }
    self->on_connected();
  });
}

void gate_controller_session::on_connected() {
  const auto gen = generation_;
  set_state(state::waiting_open);
  sys_error ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  auto self = shared_from_this();
  handshake_timer_.expires_after(config_.handshake_timeout);
  handshake_timer_.async_wait([self, gen](const sys_error& e) {
    if (!e && self->generation_ == gen &&
        (self->state_ == state::waiting_open || self->state_ == state::waiting_request))
      self->fail(self->state_ == state::waiting_open ? "no Client-Open from the CMTS"
                                                     : "no Request (Client Handle) from the CMTS");
  });
  read();
}

void gate_controller_session::read() {
  const auto gen = generation_;
  socket_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this(),
                                                       gen](const sys_error& e, std::size_t n) {
    if (self->generation_ != gen)
      return;
    if (e) {
      self->fail(e == asio::error::eof ? "CMTS closed the connection" : "read: " + e.message());
      return;
    }
    self->on_bytes(n);
  });
}

void gate_controller_session::on_bytes(std::size_t n) {
  const auto gen = generation_;
  last_rx_ = std::chrono::steady_clock::now();
  framer_.feed(read_buffer_.data(), n);
  for (;;) {
    auto next = framer_.next();
    if (!next) {
      ++counters_.malformed;
      fail(std::string("unframeable input: ") + to_string(next.error()) + " (" + next.detail() +
             ")",
           true);
      return;
    }
    if (!next.value())
      break;
    auto m = decode(*next.value(), config_.max_message);
    if (!m) {
      ++counters_.malformed;
      fail(std::string("malformed COPS message: ") + m.detail(), true);
      return;
    }
    on_message(m.value());
    if (generation_ != gen) // the message ended this connection
      return;
  }
  read();
}

void gate_controller_session::on_message(const message& m) {
  switch (state_) {
  case state::waiting_open: {
    if (m.op != op_code::opn) {
      ++counters_.malformed;
      fail(std::string("expected OPN, got ") + to_string(m.op), true);
      return;
    }
    auto open = parse_client_open(m);
    if (!open) {
      ++counters_.malformed;
      fail("bad OPN: " + open.detail(), true);
      return;
    }
    if (open->client_type != client_type_dqos) {
      fail("CMTS opened client type " + std::to_string(open->client_type) + ", not 0x8008", true,
           error_code::unsupported_client);
      return;
    }
    client_accept cat;
    cat.client_type = client_type_dqos;
    cat.keepalive_s = config_.keepalive_s;
    send_message(to_message(cat));
    set_state(state::waiting_request);
    log("OPN from PEP '" + open->pep_id + "', CAT sent");
    return;
  }
  case state::waiting_request:
  case state::ready:
    break;
  default:
    return;
  }

  switch (m.op) {
  case op_code::ka:
    ++counters_.keepalives;
    send_message(to_message(keep_alive{}));
    return;
  case op_code::req: {
    auto req = parse_request(m);
    if (!req || req->client_type != client_type_dqos) {
      ++counters_.malformed;
      fail("bad REQ: " + (req ? std::string("client type") : req.detail()), true);
      return;
    }
    handle_ = req->handle;
    if (state_ == state::waiting_request) {
      handshake_timer_.cancel();
      set_state(state::ready);
      backoff_ = config_.reconnect_initial;
      ++counters_.connects;
      arm_liveness();
      log("REQ received, session ready");
      if (handlers_.connected)
        handlers_.connected();
    }
    return;
  }
  case op_code::rpt:
    if (state_ != state::ready) {
      ++counters_.malformed;
      return;
    }
    on_report(m);
    return;
  case op_code::cc: {
    auto cc = parse_client_close(m);
    fail("CMTS sent Client-Close" + (cc ? " (error " + std::to_string(cc->error) + "." +
                                            std::to_string(cc->error_subcode) + ")"
                                        : std::string()));
    return;
  }
  case op_code::drq:
    fail("CMTS deleted its request state (DRQ)");
    return;
  case op_code::ssq:
  case op_code::ssc:
    return; // DQoS keeps no COPS-level state to synchronise; gates are audited with Gate-Info
  default:
    ++counters_.malformed;
    log(std::string("unexpected ") + to_string(m.op) + " from the CMTS");
    return;
  }
}

void gate_controller_session::on_report(const message& m) {
  auto cmd = gate_command_from(m);
  if (!cmd) {
    ++counters_.malformed;
    log("undecodable RPT: " + cmd.detail());
    return;
  }
  const object* h = m.find(c_num::handle, 1);
  if (h == nullptr || h->data != handle_) {
    ++counters_.malformed;
    log("RPT for a Client Handle we do not hold");
    return;
  }
  const gate_command& answer = cmd.value();
  if (auto missing = missing_objects(answer); !missing.empty()) {
    ++counters_.malformed;
    log(std::string(to_string(answer.command)) + " without " + missing);
    return;
  }
  if (is_unsolicited(answer.command)) {
    ++counters_.gate_events;
    if (handlers_.gate_event)
      handlers_.gate_event(answer);
    return;
  }
  auto it = pending_.find(answer.transaction_id);
  if (it == pending_.end() || is_request(answer.command) ||
      request_of(answer.command) != it->second.command) {
    ++counters_.malformed; // late (already timed out), duplicated or of the wrong kind
    log(std::string(to_string(answer.command)) + " matches no pending command (transaction " +
        std::to_string(answer.transaction_id) + ")");
    return;
  }
  auto p = std::move(it->second);
  pending_.erase(it);
  p.timer->cancel();
  command_outcome out;
  out.transaction_id = answer.transaction_id;
  out.answer = answer;
  if (is_ack(answer.command)) {
    ++counters_.acks;
    out.status = command_status::ack;
  } else {
    ++counters_.errs;
    out.status = command_status::err;
  }
  if (p.done)
    p.done(out);
}

void gate_controller_session::send(gate_command cmd, command_callback done) {
  asio::post(strand_,
             [self = shared_from_this(), cmd = std::move(cmd), done = std::move(done)]() mutable {
               self->do_send(std::move(cmd), std::move(done));
             });
}

void gate_controller_session::do_send(gate_command cmd, command_callback done) {
  command_outcome refused;
  if (!is_request(cmd.command) || state_ != state::ready || pending_.size() >= 65535) {
    refused.status = state_ == state::stopped ? command_status::stopped : command_status::not_ready;
    if (done)
      done(refused);
    return;
  }
  while (next_transaction_ == 0 || pending_.count(next_transaction_) != 0)
    ++next_transaction_;
  const std::uint16_t tid = next_transaction_++;
  cmd.transaction_id = tid;
  pending p{cmd.command, std::move(done), std::make_unique<asio::steady_timer>(strand_)};
  p.timer->expires_after(config_.command_timeout);
  p.timer->async_wait([self = shared_from_this(), tid](const sys_error& e) {
    if (e)
      return;
    auto it = self->pending_.find(tid);
    if (it == self->pending_.end())
      return;
    auto done = std::move(it->second.done);
    self->pending_.erase(it);
    ++self->counters_.timeouts;
    command_outcome out;
    out.status = command_status::timeout;
    out.transaction_id = tid;
    if (done)
      done(out);
  });
  pending_.emplace(tid, std::move(p));
  ++counters_.commands;
  send_message(to_decision(cmd, handle_));
}

void gate_controller_session::send_message(const message& m) {
  write_queue_.push_back(encode(m));
  if (!writing_)
    write_next();
}

void gate_controller_session::write_next() {
  if (write_queue_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  const auto gen = generation_;
  asio::async_write(socket_, asio::buffer(write_queue_.front()),
                    [self = shared_from_this(), gen](const sys_error& e, std::size_t) {
                      if (self->generation_ != gen)
                        return;
                      if (e) {
                        self->fail("write: " + e.message());
                        return;
                      }
                      self->write_queue_.pop_front();
                      self->write_next();
                    });
}

void gate_controller_session::arm_liveness() {
  if (config_.keepalive_s == 0 || config_.missed_keepalives == 0)
    return;
  const auto gen = generation_;
  const auto limit = std::chrono::seconds{config_.keepalive_s} * config_.missed_keepalives;
  liveness_timer_.expires_at(last_rx_ + limit);
  liveness_timer_.async_wait([self = shared_from_this(), gen, limit](const sys_error& e) {
    if (e || self->generation_ != gen || self->state_ != state::ready)
      return;
    if (std::chrono::steady_clock::now() - self->last_rx_ >= limit) {
      self->fail("CMTS silent for " + std::to_string(self->config_.missed_keepalives) +
                 " Keep-Alive periods");
      return;
    }
    self->arm_liveness(); // something arrived meanwhile: wait from the newest message
  });
}

void gate_controller_session::fail(const std::string& reason, bool send_close,
                                   error_code close_code) {
  if (state_ == state::stopped || state_ == state::backoff)
    return;
  const bool was_ready = state_ == state::ready;
  ++generation_; // every handler of this connection now steps aside
  if (send_close && socket_.is_open() && !writing_) {
    // Best effort and synchronous: the connection is being dropped anyway. Skipped while an
    // asynchronous write is in flight, so the CC cannot interleave with a half-sent message.
    client_close cc;
    cc.error = static_cast<std::uint16_t>(close_code);
    const auto wire = encode(to_message(cc));
    sys_error ignored;
    asio::write(socket_, asio::buffer(wire), ignored);
  }
  sys_error ignored;
  socket_.close(ignored);
  connect_timer_.cancel();
  handshake_timer_.cancel();
  liveness_timer_.cancel();
  write_queue_.clear();
  writing_ = false;
  log("connection to CMTS " + config_.cmts_address + ":" + std::to_string(config_.cmts_port) +
      " down: " + reason);
  set_state(state::backoff);
  complete_all(command_status::connection_lost);
  if (was_ready) {
    ++counters_.losses;
    if (handlers_.lost)
      handlers_.lost(reason);
  }
  schedule_reconnect();
}

void gate_controller_session::schedule_reconnect() {
  if (state_ != state::backoff)
    return; // a handler stopped the session
  const auto gen = generation_;
  reconnect_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, config_.reconnect_max);
  reconnect_timer_.async_wait([self = shared_from_this(), gen](const sys_error& e) {
    if (!e && self->generation_ == gen && self->state_ == state::backoff)
      self->connect();
  });
}

void gate_controller_session::complete_all(command_status status) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [tid, p] : pending) {
    p.timer->cancel();
    command_outcome out;
    out.status = status;
    out.transaction_id = tid;
    if (p.done)
      p.done(out);
  }
}

} // namespace cms::cops
