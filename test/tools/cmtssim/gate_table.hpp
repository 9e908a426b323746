#pragma once
// The simulated CMTS's gates: who owns them, what they authorise, where their usage is billed,
// and how much traffic they passed or policed. Pure bookkeeping; no sockets.

#include "runtime/cops/dqos.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cms::cmtssim {

enum class gate_state { allocated, authorized, committed };
const char* to_string(gate_state s);

struct gate {
  std::uint32_t id = 0;
  std::uint32_t subscriber = 0;
  gate_state state = gate_state::allocated;
  std::vector<cops::gate_spec> specs;
  std::optional<cops::event_generation_info> event_generation;
  std::uint64_t forwarded_packets = 0;
  std::uint64_t policed_packets = 0;
  double tokens = 0; ///< upstream token bucket fill, bytes
  std::chrono::steady_clock::time_point refilled{};

  const cops::gate_spec* upstream() const;
};

struct gate_counters {
  std::uint64_t allocs = 0;
  std::uint64_t sets = 0;      ///< Gate-Sets acknowledged (new gates and modifications)
  std::uint64_t gates_set = 0; ///< distinct gates that reached authorized
  std::uint64_t set_errors = 0;
  std::uint64_t infos = 0;
  std::uint64_t info_errors = 0;
  std::uint64_t deletes = 0;
  std::uint64_t delete_errors = 0;
  std::uint64_t opened = 0; ///< Gate-Open sent (committed)
  std::uint64_t closed = 0; ///< Gate-Close sent
  std::uint64_t forwarded_packets = 0;
  std::uint64_t policed_packets = 0;
};

/// The answer to one gate request, plus what the caller should do about event messages.
struct command_result {
  cops::gate_command answer;
  const gate* reserved = nullptr; ///< newly authorised: QoS_Reserve
  std::optional<gate> released;   ///< deleted: QoS_Release
};

class gate_table {
public:
  explicit gate_table(std::uint32_t seed = 0x5eed);

  /// Executes a Gate-Alloc / Set / Info / Delete and builds the RPT answer.
  command_result execute(const cops::gate_command& request);

  /// Makes the next `count` Gate-Sets fail with this PacketCable error.
  void fail_next_sets(unsigned count, std::uint16_t code, std::uint16_t subcode);

  gate* find(std::uint32_t id);
  /// Removes a gate the CMTS closes on its own; returns it for the Gate-Close and the release.
  std::optional<gate> close(std::uint32_t id);
  /// The gate an upstream packet from (ip, port) belongs to, if any gate's upstream classifier
  /// admits it (0 in the spec = wildcard).
  gate* match_upstream(std::uint32_t src_ip, std::uint16_t src_port);

  const std::map<std::uint32_t, gate>& gates() const { return gates_; }
  gate_counters& counters() { return counters_; }
  const gate_counters& counters() const { return counters_; }

  boost::json::value gates_json() const;
  boost::json::value counters_json() const;

private:
  std::uint32_t new_gate_id();
  std::uint32_t gates_of(std::uint32_t subscriber) const;

  std::map<std::uint32_t, gate> gates_;
  gate_counters counters_;
  std::uint32_t id_state_;
  unsigned fail_sets_ = 0;
  cops::packetcable_error fail_with_{};
};

boost::json::value to_json(const cops::gate_spec& g);
boost::json::value to_json(const cops::event_generation_info& e);
boost::json::value to_json(const gate& g);

} // namespace cms::cmtssim
