#pragma once
// The call manager: spawns one call actor per originate_call (a line went off hook), keeps the
// calls-active gauge, relays every call_update to the state catalogue, and contains crashes: a
// call actor that dies without its final update gets a signaling_stop billing record (cause 41)
// from the manager, built from its last published state; its lines clean up on their own (they
// monitor the call).
//
// Protocol:
//   originate_call -> caf::actor            spawn the call, answer its handle
//   call_update                              from a call (adopted if the manager was restarted)
//   (atom::lookup, call_id) -> caf::actor    the actor of a call in progress (tests, admin)
//   end_all_calls -> std::size_t             node stop: refuse new calls, end every call, answer
//                                            once the last one has its stop record durable
// Every settings.clock_watch_interval it looks at the wall clock (clock_watch.hpp): on a step it
// tells every call up (atom::clock_stepped), which bills a Time_Change.

#include "actors/calls/call_context.hpp"
#include "actors/calls/call_protocol.hpp"
#include "actors/calls/clock_watch.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace cms::actors {

struct call_manager_state {
  struct entry {
    caf::actor handle;
    call_state last;
  };
  std::shared_ptr<call_context> ctx;
  std::unordered_map<std::string, entry> calls;
  /// The node is stopping (end_all_calls): no new call, and these wait for the last call to end.
  bool stopping = false;
  std::size_t ended_at_stop = 0;
  std::vector<caf::response_promise> waiting_for_calls_to_end;
  clock_watch wall_clock;
  static inline const char* name = "call_manager";
};

caf::behavior call_manager(caf::stateful_actor<call_manager_state>* self,
                           std::shared_ptr<call_context> ctx);

} // namespace cms::actors
