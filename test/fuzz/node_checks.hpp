#pragma once
// Invariants of the node-side decoders that see bytes from outside: the replication messages that
// arrive over the node link (CAF binary images) and the HTTP requests of the management API. Like
// fuzz_checks.hpp, shared by the libFuzzer harnesses (clang, scripts/fuzz.sh) and the corpus
// regression test (g++, ctest); a violated invariant aborts with a message.

#include <string_view>

namespace cms::fuzz {

/// First byte: which message the rest is decoded as (repl_batch, repl_snapshot_request,
/// repl_snapshot, a whole caf::message as BASP delivers it, or a state image). Decoding never
/// crashes; whatever decodes re-encodes to an image that decodes to the same image (fixed point);
/// every record's state image decodes or is refused, never crashes.
void check_replication(std::string_view input);

/// Raw bytes of one HTTP request through the server's parsing: Beast's request parser with the
/// server's limits, then target parsing, header folding, routing against the node's route
/// patterns and the bearer guard. Never crashes; a parsed path starts with '/'; every routed
/// request gets exactly one response with a known status.
void check_http(std::string_view input);

} // namespace cms::fuzz
