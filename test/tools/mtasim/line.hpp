#pragma once
// One simulated MTA line (an NCS endpoint "aaln/<n>@<mta>"): hook state, the call agent's request
// (requested events R:, signals S:, digit map D:, request id X:, notified entity N:), the NCS
// lockstep/quarantine rule, dialled-digit collection, and the line's connections with their RTP.
//
// A line never sends on its own: NTFY and RSIP go through its host (the MTA), which owns the MGCP
// agent and the call-agent failover. Subscriber actions (off_hook, digit...) come from the control
// interface, the answering behaviour or the scenario.

#include "runtime/mgcp/agent.hpp"
#include "runtime/mgcp/message.hpp"
#include "test/tools/mtasim/digit_map.hpp"
#include "test/tools/mtasim/event_spec.hpp"
#include "test/tools/mtasim/options.hpp"
#include "test/tools/mtasim/report.hpp"
#include "test/tools/mtasim/rtp.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cms::sim {

class line;

/// What changed on a line, for the subscriber behaviour and the scenario.
enum class line_event {
  signals,     ///< S: replaced (dial tone, ringing, ringback, busy, reorder...)
  connections, ///< a connection was created, modified or deleted
  hook,        ///< off-hook / on-hook
  registered,  ///< an RSIP was acknowledged
};

/// Services the MTA gives its lines.
class line_host {
public:
  virtual ~line_host() = default;
  virtual boost::asio::io_context& io() = 0;
  virtual media_clock& media() = 0;
  virtual const sim_options& options() const = 0;
  /// The MTA's own address: RTP sockets bind there and SDP announces it.
  virtual const std::string& bind_address() const = 0;
  virtual signalling_counters& signalling() = 0;
  /// Media counters of connections that were released (folded into the report).
  virtual void media_released(const rtp_counters& c, bool carried_media) = 0;
  /// Sends a command from this line to its notified entity; `done` sees the final outcome after
  /// the host has dealt with transaction failures (call-agent failover).
  virtual void send_from(line& l, mgcp::command cmd, mgcp::agent::outcome_handler done) = 0;
  virtual void line_changed(line& l, line_event e) = 0;
  virtual void log(const std::string& text) = 0;
};

struct connection {
  std::string id;
  std::string call_id;
  std::string mode = "inactive";
  std::optional<std::string> remote_sdp;
  std::shared_ptr<rtp_session> rtp;
  bool carried_media = false;
};

/// The call agent's address for this line: what N: said, resolved to a UDP endpoint.
struct notified_entity {
  std::string text; ///< as given ("ca@[127.0.0.1]:2727"), for AUEP
  mgcp::udp_endpoint address;
};

class line {
public:
  line(line_host& host, std::size_t index, std::string local_name, std::string domain,
       std::string dn);
  ~line();
  line(const line&) = delete;
  line& operator=(const line&) = delete;

  std::size_t index() const noexcept { return index_; } ///< 1-based over the whole simulator
  const std::string& local_name() const noexcept { return local_name_; }
  const std::string& domain() const noexcept { return domain_; }
  std::string endpoint_name() const { return local_name_ + "@" + domain_; }
  const std::string& dn() const noexcept { return dn_; }

  // ---- call agent side ----
  /// Executes a command addressed to this line and returns the response to send.
  mgcp::response handle(const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  /// Sends RSIP with the restart method ("restart", "disconnected", "forced", "graceful").
  void send_rsip(const std::string& method);
  void set_notified_entity(notified_entity ne) { notified_entity_ = std::move(ne); }
  const notified_entity& current_notified_entity() const noexcept { return notified_entity_; }
  bool registered() const noexcept { return registered_; }

  // ---- subscriber side ----
  enum class hook_state { on_hook, off_hook };
  void off_hook();
  void on_hook();
  void flash();
  /// One key press: 0-9, *, #. Returns false for any other character.
  bool press_digit(char d);

  // ---- inspection ----
  hook_state hook() const noexcept { return hook_; }
  /// An NTFY is out without its final response (or failure) yet.
  bool notify_in_flight() const noexcept { return notify_in_flight_; }
  /// Is this signal ("rg", "dl", "rt", "bz", "ro") among the active ones?
  bool signal_active(std::string_view name) const;
  bool event_requested(std::string_view package_and_name) const;
  const std::map<std::string, connection>& connections() const noexcept { return connections_; }
  /// Has a connection in sendrecv with a known remote: the call is talking.
  bool in_media() const;
  rtp_counters media_counters() const; ///< sum over the open connections
  boost::json::object status() const;

private:
  struct pending_request; // a parsed, validated notification request

  mgcp::response on_rqnt(const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  mgcp::response on_crcx(const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  mgcp::response on_mdcx(const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  mgcp::response on_dlcx(const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  mgcp::response on_auep(const mgcp::command& cmd);
  mgcp::response on_aucx(const mgcp::command& cmd);

  /// Parses R:/S:/D:/X:/N:/Q: of a command; returns an error response when they are invalid.
  std::optional<mgcp::response> parse_request(const mgcp::command& cmd,
                                              const mgcp::udp_endpoint& from, bool is_rqnt,
                                              pending_request& out) const;
  void apply_request(pending_request&& req);

  std::optional<mgcp::response> apply_connection_params(const mgcp::command& cmd, connection& c,
                                                        bool creating);
  void release_connection(const std::string& id, std::optional<rtp_counters>* stats);
  std::string connection_parameters(const rtp_counters& c) const;
  mgcp::response error(const mgcp::command& cmd, int code, const std::string& why) const;

  /// An event on the line (physical or timer), run through the NCS rules.
  void observe(const std::string& package, const std::string& name);
  void process_event(const event_name& ev);
  void digit_timer_fired();
  void notify();
  void replay_quarantine();
  void set_signals(std::vector<signal_request> s);
  void stop_signals();

  line_host& host_;
  std::size_t index_;
  std::string local_name_;
  std::string domain_;
  std::string dn_;

  hook_state hook_ = hook_state::on_hook;
  bool registered_ = false;
  std::string restart_method_ = "restart";
  notified_entity notified_entity_;

  std::vector<requested_event> requested_;
  std::vector<signal_request> signals_;
  std::optional<digit_map> digit_map_;
  std::string request_id_ = "0";
  bool quarantine_discard_ = false;

  bool awaiting_request_ = false;     ///< NTFY sent, lockstep until the next RQNT
  bool notify_in_flight_ = false;     ///< an NTFY without its final outcome yet
  std::deque<event_name> quarantine_; ///< events seen while awaiting the next request
  std::vector<std::string> observed_; ///< accumulated events of the current request
  std::string dialled_;               ///< digits matched against the digit map
  boost::asio::steady_timer digit_timer_;
  std::uint64_t digit_timer_generation_ = 0;

  std::map<std::string, connection> connections_;
};

/// Response code 200 with the default comment; helper shared with the MTA and the gateway.
mgcp::response make_response(const mgcp::command& cmd, int code, std::string comment = {});

/// Parses N: ("ca@[127.0.0.1]:2727", "cms.example:2727", "127.0.0.1"); a host name that is not an
/// IP literal resolves to `from`'s address (the simulator never does DNS).
notified_entity parse_notified_entity(const std::string& text, const mgcp::udp_endpoint& from);

} // namespace cms::sim
