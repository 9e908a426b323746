#pragma once
// The MGCP data model (RFC 3435, PacketCable NCS/TGCP profiles) shared by the codec, the transaction
// layer and the MGCP edge. Only runtime/mgcp knows the wire format; actors see typed messages built
// from these structs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cms::mgcp {

/// The nine commands of RFC 3435 section 2.3.
enum class verb : std::uint8_t { epcf, crcx, mdcx, dlcx, rqnt, ntfy, auep, aucx, rsip };

/// Four-letter wire name ("CRCX").
std::string_view to_string(verb v) noexcept;
/// Case-insensitive lookup; nullopt for an unknown verb (answered with 504).
std::optional<verb> verb_from_string(std::string_view s) noexcept;

/// One parameter line ("X: 0123"). Names are stored upper-case ("RM", "Z2"); values verbatim with
/// surrounding white space trimmed. Order is kept so a message re-encodes as it arrived.
struct parameter {
  std::string name;
  std::string value;
  /// Member-wise (C++17 has no defaulted comparisons).
  friend bool operator==(const parameter& a, const parameter& b) {
    return a.name == b.name && a.value == b.value;
  }
  friend bool operator!=(const parameter& a, const parameter& b) { return !(a == b); }
};

using parameter_list = std::vector<parameter>;

/// A command: "VERB tid endpoint MGCP 1.0[ NCS 1.0]" plus parameter lines and an optional session
/// description (kept as text here; sdp.hpp parses it into a typed struct).
struct command {
  verb kind = verb::auep;
  std::uint32_t transaction_id = 0; ///< 1..999999999 per RFC 3435 3.2.1.2
  std::string endpoint;             ///< "aaln/1@mta-0001.cable.example", may hold * or $
  std::string version = "MGCP 1.0"; ///< protocol name and version, profile suffix included
  parameter_list params;
  std::optional<std::string> sdp; ///< session description after the blank line

  /// First parameter with this (case-insensitive) name, or nullptr.
  const std::string* param(std::string_view name) const noexcept;
  void set_param(std::string name, std::string value);
  friend bool operator==(const command& a, const command& b) {
    return a.kind == b.kind && a.transaction_id == b.transaction_id && a.endpoint == b.endpoint &&
           a.version == b.version && a.params == b.params && a.sdp == b.sdp;
  }
  friend bool operator!=(const command& a, const command& b) { return !(a == b); }
};

/// A response: "code tid [package-name] comment" plus parameter lines and optional SDP.
/// Code 000 is the response acknowledgement, 1xx provisional.
struct response {
  int code = 200;
  std::uint32_t transaction_id = 0;
  std::string comment;
  parameter_list params;
  std::optional<std::string> sdp;

  const std::string* param(std::string_view name) const noexcept;
  void set_param(std::string name, std::string value);
  bool provisional() const noexcept { return code >= 100 && code < 200; }
  bool final() const noexcept { return code >= 200 || code == 0; }
  friend bool operator==(const response& a, const response& b) {
    return a.code == b.code && a.transaction_id == b.transaction_id && a.comment == b.comment &&
           a.params == b.params && a.sdp == b.sdp;
  }
  friend bool operator!=(const response& a, const response& b) { return !(a == b); }
};

/// A decoded datagram holds one or more messages (piggy-backing, RFC 3435 3.5.5).
using message = std::variant<command, response>;

} // namespace cms::mgcp
