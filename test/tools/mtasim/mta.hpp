#pragma once
// One simulated MTA: a UDP socket (through the MGCP agent, which does retransmission and the
// response cache), its lines, and the call-agent list it fails over along (NCS "disconnected"
// procedure: when a transaction to the call agent fails, every line re-registers with RSIP
// RM: disconnected at the next call agent, cycling through the list).

#include "runtime/mgcp/agent.hpp"
#include "test/tools/mtasim/line.hpp"
#include "test/tools/mtasim/sim_context.hpp"

#include <memory>
#include <string>
#include <vector>

namespace cms::sim {

class mta : public line_host {
public:
  /// Lines are numbered from `first_index` (1-based over the simulator), DNs from `first_dn`.
  mta(sim_context& ctx, int number, std::string domain, std::string address, std::uint16_t port,
      std::size_t first_index, std::uint64_t first_dn);
  ~mta() override;

  /// Binds the socket (throws std::system_error) and registers every line with RSIP RM: restart.
  void start();
  void stop();

  const std::string& domain() const noexcept { return domain_; }
  int number() const noexcept { return number_; }
  mgcp::udp_endpoint local_endpoint() const;
  const std::vector<std::unique_ptr<line>>& lines() const noexcept { return lines_; }
  const mgcp::udp_endpoint& call_agent() const;

  // line_host
  boost::asio::io_context& io() override { return ctx_.io; }
  media_clock& media() override { return ctx_.media; }
  const sim_options& options() const override { return ctx_.options; }
  const std::string& bind_address() const override { return address_; }
  signalling_counters& signalling() override { return ctx_.signalling; }
  void media_released(const rtp_counters& c, bool carried_media) override {
    ctx_.media_released(c, carried_media);
  }
  void send_from(line& l, mgcp::command cmd, mgcp::agent::outcome_handler done) override;
  void line_changed(line& l, line_event e) override { ctx_.line_changed(l, e); }
  void log(const std::string& text) override { ctx_.log(text); }

private:
  void on_command(const mgcp::udp_endpoint& from, mgcp::command cmd);
  /// Moves to the next call agent unless a newer failover already happened.
  void fail_over(std::uint64_t generation, const mgcp::udp_endpoint& failed, const line& l);
  notified_entity call_agent_entity() const;

  sim_context& ctx_;
  int number_;
  std::string domain_;
  std::string address_;
  std::uint16_t port_;
  std::unique_ptr<mgcp::agent> agent_;
  std::vector<std::unique_ptr<line>> lines_;
  std::size_t ca_index_ = 0;
  std::uint64_t ca_generation_ = 0;      ///< bumped on every failover
  std::size_t failovers_unanswered_ = 0; ///< failovers since a call agent last answered
};

/// Does the local name pattern ("*", "aaln/*", "aaln/1") cover this line's local name?
bool local_name_matches(std::string_view pattern, std::string_view name);

} // namespace cms::sim
