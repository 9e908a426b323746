#pragma once
// Emergency calls as pure rules (no actors): which dialled numbers are emergency codes, the digit
// maps that collect them, and what a hook change does to an emergency call under network hold.
//
// An emergency call is admitted whatever the load, a drain or the node's overload gate: an
// off-hook that the gate refuses still gets dial tone for a short window, with a digit map that
// matches only the emergency codes (docs/services.md, "Emergency calls").

#include <string>
#include <vector>

namespace cms::actors::services {

/// True when `number` is exactly one of `codes` ("911", "933"...).
bool is_emergency_number(const std::vector<std::string>& codes, const std::string& number);

/// The digit map of the emergency window: only the codes, e.g. "(911|933)". Empty when there
/// are no codes (then there is no window).
std::string emergency_digit_map(const std::vector<std::string>& codes);

/// `map` with every code it does not already dial (a complete match at once or at the timer)
/// added as an alternative, so a caller admitted normally can dial any configured emergency
/// code. `map` is returned unchanged when it already dials them all (the default map has 911).
std::string digit_map_with_codes(const std::string& map, const std::vector<std::string>& codes);

/// An emergency code must be digits, '*' or '#', 1..15 characters (an E.164 length).
bool valid_emergency_code(const std::string& code);

/// What a hook change of the caller does to an emergency call (network hold: only the far end,
/// the PSAP, releases an answered emergency call).
enum class hold_action {
  none,      ///< not an answered emergency call: the ordinary rules apply
  hold,      ///< the caller hung up: keep the call, ring the caller's line again
  reconnect, ///< the held caller picked up again: back to talking
};

/// `caller_on_hook`: the call is already held with the caller on hook.
hold_action on_caller_hook(bool emergency, bool answered, bool caller_on_hook, bool off_hook);

} // namespace cms::actors::services
