#pragma once
// The simulated CMTS's COPS side (the PEP). In PacketCable DQoS the gate controller connects to
// the CMTS, so this end listens; on each accepted connection it sends Client-Open (client type
// 0x8008 unless told otherwise), waits for Client-Accept, sends a Request carrying its Client
// Handle, then answers gate commands (DEC) with RPTs from the gate table and sends Keep-Alives.

#include "runtime/cops/dqos.hpp"
#include "runtime/cops/framer.hpp"
#include "runtime/cops/message.hpp"
#include "test/tools/cmtssim/em_sender.hpp"
#include "test/tools/cmtssim/gate_table.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace cms::cmtssim {

struct pep_options {
  std::uint16_t client_type = cops::client_type_dqos; ///< another value tests the GC's refusal
  std::string pep_id = "cmtssim";
  /// Interval between our KAs; unset: half the Keep-Alive timer the CAT granted (RFC 2748
  /// wants 1/4..3/4 of it).
  std::optional<std::chrono::milliseconds> ka_interval;
  std::size_t max_message = cops::default_max_message;
};

struct pep_counters {
  std::uint64_t connections = 0;
  std::uint64_t decisions = 0; ///< DECs received
  std::uint64_t reports = 0;   ///< RPTs sent
  std::uint64_t keepalives_sent = 0;
  std::uint64_t keepalives_received = 0;
  std::uint64_t malformed = 0;
  std::uint64_t client_closes = 0; ///< CCs received
  std::uint64_t ignored_while_frozen = 0;
};

class pep_server {
public:
  pep_server(boost::asio::io_context& io, const std::string& address, std::uint16_t port,
             gate_table& gates, pep_options options, em_sender* ems = nullptr);
  ~pep_server();

  std::uint16_t port() const;
  void stop();

  /// Unsolicited RPT (Gate-Open / Gate-Close) to every ready gate controller connection;
  /// returns how many got it.
  std::size_t send_event(const cops::gate_command& event);
  /// Closes every gate controller connection (they may reconnect).
  std::size_t drop_connections();
  /// Frozen: no KAs sent and DECs read but not answered, like a hung CMTS.
  void set_frozen(bool frozen) { frozen_ = frozen; }
  bool frozen() const { return frozen_; }
  std::size_t ready_connections() const;

  pep_counters& counters() { return counters_; }
  boost::json::value counters_json() const;

private:
  class connection;
  friend class connection;

  void accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  gate_table& gates_;
  pep_options options_;
  em_sender* ems_;
  bool frozen_ = false;
  std::uint32_t next_handle_ = 0x00c0ffee;
  std::set<std::shared_ptr<connection>> connections_;
  pep_counters counters_;
};

} // namespace cms::cmtssim
