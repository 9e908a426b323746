#pragma once
// The PSTN-side call signalling of a trunk channel, carried as the events and signals of one MGCP
// extension package, "X-TR" (docs/trunks.md). Modelled on the setup/answer/release events of the
// RFC 3064 CAS packages, but carrying the numbers and the Q.850 release cause explicitly so that
// PRI and SS7 facilities look the same to the call agent:
//
//   signals (CA -> gateway, S: on CRCX or RQNT)      events (gateway -> CA, O: of an NTFY)
//   X-TR/sup(called,calling)  place a PSTN call      X-TR/sup(called,calling)  PSTN seizure (incoming)
//   X-TR/alt                  the line rings         X-TR/alt                  far end alerting
//   X-TR/ans                  the line answered      X-TR/ans                  far end answered
//   X-TR/rel(cause)           clear the PSTN side    X-TR/rel(cause)           far end released
//
// Pure functions; used by the trunk actors and by mtasim's gateway mode.

#include "runtime/mgcp/message.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::mgcp::trunk {

inline constexpr std::string_view package = "X-TR";

enum class signal_kind { sup, alt, ans, rel };
std::string_view to_string(signal_kind k) noexcept;

/// One X-TR event or signal with its parameters.
struct pstn_event {
  signal_kind kind = signal_kind::sup;
  std::string called;  ///< sup
  std::string calling; ///< sup (may be empty)
  int cause = 0;       ///< rel
  friend bool operator==(const pstn_event& a, const pstn_event& b) {
    return a.kind == b.kind && a.called == b.called && a.calling == b.calling && a.cause == b.cause;
  }
};

/// "X-TR/sup(5551001,2125550100)", "X-TR/rel(16)", "X-TR/ans".
std::string build(const pstn_event& e);

/// The X-TR entries of an S: or O: value, in order; entries of other packages are skipped.
/// nullopt when the list is malformed or an X-TR entry is unknown or has bad parameters.
std::optional<std::vector<pstn_event>> parse_list(std::string_view value);

/// R: the call agent arms on a channel in a call: far-end alerting, answer and release.
inline constexpr std::string_view call_events = "X-TR/alt(N), X-TR/ans(N), X-TR/rel(N)";

/// Digits only (0-9, *, #), 1..32 of them: what a number parameter may hold.
bool valid_number(std::string_view s) noexcept;

} // namespace cms::mgcp::trunk
