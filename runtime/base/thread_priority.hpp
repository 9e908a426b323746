#pragma once
// Lowering a thread's OS priority *relative to its process*. setpriority() on a thread id sets an
// absolute nice value, so a node started at nice -10 (a dedicated softswitch host) would see its
// "lower priority" management threads land at +5 or +10, below every batch job on the machine:
// such a thread then sits preempted for seconds while holding an SQLite write lock the call path
// needs (found by the pair soak under load, docs/performance.md). Relative to the process, the
// management threads always stay just below call signalling and never below everything else.

#include <string>

namespace cms {

/// Renames the calling thread and lowers its priority by `delta` nice steps below the process
/// (clamped to 19). Returns an empty string on success, else why it failed.
std::string lower_this_thread(const char* name, int delta);

} // namespace cms
