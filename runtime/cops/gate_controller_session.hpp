#pragma once
// The gate controller's COPS session toward ONE CMTS (PacketCable DQoS: the CMS is the PDP but
// opens the TCP connection). Life of a connection:
//   connect (timeout) -> CMTS sends OPN (client type 0x8008, else we send CC "unsupported client"
//   and drop) -> we answer CAT with our Keep-Alive timer -> CMTS sends REQ with its Client Handle
//   -> ready: gate commands go out as DEC, answers come back as RPT matched by Transaction ID;
//   unsolicited Gate-Open / Gate-Close RPTs go to the gate-event handler; KAs are echoed.
// Liveness: the CMTS must send something (normally a KA, RFC 2748 has it send one every 1/4..3/4
// of the timer) at least once per Keep-Alive period; after `missed_keepalives` silent periods
// (default 3, i.e. 3 x keepalive_s of silence) the CMTS is declared dead and the connection
// dropped. Any loss is followed by reconnection with exponential backoff (1 s doubling to 30 s by
// default, reset once a connection reaches ready); `connected` fires at each ready so the owner
// can audit its gates (Gate-Info) after a reconnect, `lost` when a ready connection goes away.
// Threading: every public method may be called from any thread (work is posted to the session's
// strand); every callback runs on the io_context thread, inside that strand.

#include "runtime/cops/dqos.hpp"
#include "runtime/cops/framer.hpp"
#include "runtime/cops/message.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace cms::cops {

struct session_config {
  std::string cmts_address = "127.0.0.1"; ///< provisioned CMTS address (numeric IPv4/IPv6)
  std::uint16_t cmts_port = 2126;
  std::uint16_t keepalive_s = 30; ///< Keep-Alive timer granted in CAT; 0 disables liveness
  unsigned missed_keepalives = 3; ///< silent Keep-Alive periods before the CMTS is dead
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds handshake_timeout{5000}; ///< TCP up -> OPN and REQ both received
  std::chrono::milliseconds command_timeout{2000};   ///< DEC sent -> its RPT answer
  std::chrono::milliseconds reconnect_initial{1000};
  std::chrono::milliseconds reconnect_max{30000};
  std::size_t max_message = default_max_message;
};

enum class command_status {
  ack,             ///< the CMTS acknowledged (answer holds e.g. the Gate ID)
  err,             ///< the CMTS refused (answer holds the PacketCable Error)
  timeout,         ///< no answer within command_timeout
  not_ready,       ///< no ready connection when the command was sent
  connection_lost, ///< the connection went away before the answer
  stopped,         ///< the session was stopped
};
const char* to_string(command_status s);

struct command_outcome {
  command_status status = command_status::timeout;
  std::uint16_t transaction_id = 0; ///< the ID the session gave the command
  gate_command answer;              ///< meaningful for ack and err
};

using command_callback = std::function<void(const command_outcome&)>;

struct session_handlers {
  std::function<void()> connected;                     ///< ready (first time and after reconnects)
  std::function<void(const std::string& reason)> lost; ///< a ready connection went away
  std::function<void(const gate_command&)> gate_event; ///< unsolicited Gate-Open / Gate-Close
  std::function<void(const std::string& line)> log;    ///< diagnostics; optional
};

struct session_counters {
  std::uint64_t commands = 0; ///< DECs sent
  std::uint64_t acks = 0;
  std::uint64_t errs = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t connects = 0;    ///< connections that reached ready
  std::uint64_t reconnects = 0;  ///< connection attempts after a failure or loss
  std::uint64_t losses = 0;      ///< ready connections lost
  std::uint64_t malformed = 0;   ///< undecodable or unexpected input from the CMTS
  std::uint64_t keepalives = 0;  ///< KAs received (and echoed)
  std::uint64_t gate_events = 0; ///< unsolicited Gate-Open / Gate-Close received
};

class gate_controller_session : public std::enable_shared_from_this<gate_controller_session> {
public:
  enum class state { idle, connecting, waiting_open, waiting_request, ready, backoff, stopped };

  static std::shared_ptr<gate_controller_session>
  create(boost::asio::io_context& io, session_config config, session_handlers handlers);
  gate_controller_session(const gate_controller_session&) = delete;
  gate_controller_session& operator=(const gate_controller_session&) = delete;

  /// Begins connecting (and keeps reconnecting until stop()).
  void start();
  /// Drops the connection for good; pending commands complete with `stopped`.
  void stop();
  /// Sends a gate request (Gate-Alloc / Set / Info / Delete). The session assigns the
  /// Transaction ID (overwriting cmd.transaction_id) and calls `done` exactly once.
  void send(gate_command cmd, command_callback done);

  bool ready() const { return state_snapshot_.load() == state::ready; }
  state current_state() const { return state_snapshot_.load(); }
  session_counters counters() const;

private:
  struct pending {
    gate_command_type command;
    command_callback done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  gate_controller_session(boost::asio::io_context& io, session_config config,
                          session_handlers handlers);

  void set_state(state s);
  void connect();
  void on_connected();
  void read();
  void on_bytes(std::size_t n);
  void on_message(const message& m);
  void on_report(const message& m);
  void send_message(const message& m);
  void write_next();
  void arm_liveness();
  void fail(const std::string& reason, bool send_close = false,
            error_code close_code = error_code::bad_message_format);
  void schedule_reconnect();
  void complete_all(command_status status);
  void do_send(gate_command cmd, command_callback done);
  void log(const std::string& line) const;

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  session_config config_;
  session_handlers handlers_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer liveness_timer_;
  boost::asio::steady_timer reconnect_timer_;
  framer framer_;
  std::array<std::uint8_t, 4096> read_buffer_{};
  std::deque<bytes> write_queue_;
  bool writing_ = false;
  state state_ = state::idle;
  std::atomic<state> state_snapshot_{state::idle};
  std::uint64_t generation_ = 0; ///< bumps on every (re)connect so stale handlers step aside
  bytes handle_;
  std::map<std::uint16_t, pending> pending_;
  std::uint16_t next_transaction_ = 1;
  std::chrono::milliseconds backoff_;
  bool attempted_ = false;
  std::chrono::steady_clock::time_point last_rx_{};

  struct atomic_counters {
    std::atomic<std::uint64_t> commands{0}, acks{0}, errs{0}, timeouts{0}, connects{0},
      reconnects{0}, losses{0}, malformed{0}, keepalives{0}, gate_events{0};
  } counters_;
};

} // namespace cms::cops
