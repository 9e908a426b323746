#pragma once
// One simulated trunking gateway: a real MGCP peer on its own UDP socket (through the MGCP agent,
// like an MTA), with spans ds1-1..ds1-S of C DS0 channels each ("ds/ds1-<span>/<ch>@<name>"), and
// the PSTN behind it. The PSTN-side call signalling is the X-TR package of docs/trunks.md
// (runtime/mgcp/trunk_package.hpp), the same one the call agent's trunk actors speak:
//
//   outgoing  CRCX S: X-TR/sup(called,calling) -> 200 + SDP; NTFY X-TR/alt, X-TR/ans (or
//             X-TR/rel(17) when the PSTN line is busy); later DLCX [S: X-TR/rel(cause)]
//   incoming  NTFY O: X-TR/sup(called,calling) (control "gw-call"); the CA then CRCX, RQNT
//             S: X-TR/alt, RQNT S: X-TR/ans; either side releases with X-TR/rel
//
// Failure modes (control protocol, docs/mtasim.md): stop answering (the socket stays bound but
// swallows everything, as a hung box does), RSIP forced for the whole gateway, and RSIP forced
// for one span ("drop a facility"); each is undone by a restart.

#include "runtime/mgcp/agent.hpp"
#include "test/tools/mtasim/event_spec.hpp"
#include "test/tools/mtasim/line.hpp"
#include "test/tools/mtasim/sim_context.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/json/object.hpp>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cms::sim {

class trunk_gateway {
public:
  trunk_gateway(sim_context& ctx, trunk_counters& counters, std::string name, std::string address,
                std::uint16_t port);
  ~trunk_gateway();
  trunk_gateway(const trunk_gateway&) = delete;
  trunk_gateway& operator=(const trunk_gateway&) = delete;

  /// Binds the socket (throws std::system_error) and announces itself: RSIP *@name RM: restart.
  void start();
  /// Closes everything (simulator shutdown).
  void stop();

  // ---- failure modes ----
  /// Hung gateway: every datagram is swallowed, nothing is answered or sent; calls freeze.
  void stop_answering();
  /// Back from stop_answering or a forced RSIP, as a rebooted gateway: every channel is cleared
  /// and RSIP *@name RM: restart is sent.
  void restart();
  /// RSIP *@name with this method now. "forced" also clears every channel and refuses new
  /// connections (501) until restart().
  void send_rsip(const std::string& method);
  /// "Drop a facility": RSIP ds/ds1-<span>/*@name RM: forced, its channels cleared and refused;
  /// up again with RM: restart. Returns false for an unknown span.
  bool set_span(int span, bool up);

  // ---- the PSTN side ----
  /// A PSTN call toward the call agent on the first idle channel from the top (the CA hunts from
  /// the bottom). Returns the channel name, or an error text.
  std::string place_call(const std::string& called, const std::string& calling);
  /// The PSTN party of the call on `channel` hangs up (X-TR/rel(16)).
  bool pstn_release(const std::string& channel, int cause = 16);
  void set_answer_policy(answer_policy p) { answer_ = p; }

  const std::string& name() const noexcept { return name_; }
  mgcp::udp_endpoint local_endpoint() const;
  /// "up", "silent" or "forced".
  std::string state() const;
  boost::json::object status() const;
  /// Channels with a PSTN call or a connection.
  std::size_t busy_channels() const;

private:
  struct channel {
    int span = 0;
    int number = 0;
    bool pstn_up = false; ///< a PSTN call exists on this channel
    bool outgoing = false;
    bool alerted = false;
    bool answered = false;
    std::string called, calling;
    std::optional<connection> conn;
    std::vector<requested_event> requested;
    std::string request_id = "0";
    std::optional<notified_entity> ne;
    std::uint64_t generation = 0; ///< bumped when the PSTN call ends: stale timers do nothing
    std::string local_name() const;
  };

  void on_command(const mgcp::udp_endpoint& from, mgcp::command cmd);
  mgcp::response handle(channel& c, const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  mgcp::response on_crcx(channel& c, const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  mgcp::response on_mdcx(channel& c, const mgcp::command& cmd);
  mgcp::response on_dlcx(channel& c, const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  mgcp::response on_rqnt(channel& c, const mgcp::command& cmd, const mgcp::udp_endpoint& from);
  /// R:, N:, X: of a command; an error response when malformed.
  std::optional<mgcp::response> take_request(channel& c, const mgcp::command& cmd,
                                             const mgcp::udp_endpoint& from);
  /// X-TR signals of S: (sup is handled by CRCX); an error response when malformed.
  std::optional<mgcp::response> apply_signals(channel& c, const mgcp::command& cmd);
  std::optional<mgcp::response> set_media(channel& c, const mgcp::command& cmd, bool creating);
  mgcp::response error(const mgcp::command& cmd, int code, const std::string& why);

  void schedule_pstn(channel& c);
  /// The PSTN side goes away; tells the call agent when `notify` (PSTN released).
  void end_pstn(channel& c, bool notify, int cause);
  void close_connection(channel& c, std::optional<rtp_counters>* stats = nullptr);
  /// Clears a channel at once (restart, forced RSIP, span down): no signalling.
  void reset(channel& c);
  void notify(channel& c, const std::string& observed, std::function<void(int code)> done = {});
  void send(const std::string& endpoint, mgcp::command cmd, const mgcp::udp_endpoint& to,
            std::function<void(int code)> done);
  bool requested(const channel& c, const std::string& event) const;
  const mgcp::udp_endpoint& call_agent() const;

  channel* find(std::string_view local_name);
  std::vector<channel*> matching(std::string_view local_name);
  void swallow();

  sim_context& ctx_;
  trunk_counters& counters_;
  std::string name_;
  std::string address_;
  std::uint16_t port_;
  std::unique_ptr<mgcp::agent> agent_;
  /// While "stopped answering": bound on the gateway's port, reads and drops.
  std::unique_ptr<boost::asio::ip::udp::socket> black_hole_;
  std::array<char, 2048> sink_{};
  boost::asio::ip::udp::endpoint sink_from_;
  bool silent_ = false;
  bool forced_ = false;
  bool stopped_ = false;
  std::set<int> spans_down_;
  std::vector<channel> channels_; ///< span-major
  answer_policy answer_;
  std::size_t ca_index_ = 0;
  std::uint64_t connection_counter_ = 0;
};

} // namespace cms::sim
