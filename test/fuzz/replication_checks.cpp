// The replication decoder under hostile bytes. A standby trusts nothing of what the node link
// delivers: CAF's BASP hands each message to binary_deserializer, and the replicator decodes the
// state image of every record again (actors::decode_state). Both paths are driven here.
#include "node_checks.hpp"

#include "actors/type_ids.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace cms::fuzz {

namespace {

[[noreturn]] void violated(const char* what, std::string_view input) {
  std::fprintf(stderr, "replication fuzz invariant violated: %s (%zu input bytes)\n", what,
               input.size());
  std::abort();
}

/// One system for all inputs: building one per input would dominate the run. No middleman, one
/// worker: only the type registry matters here.
struct system_holder {
  struct config : caf::actor_system_config {
    config() {
      add_message_types<caf::id_block::cms>();
      set("scheduler.max-threads", static_cast<size_t>(1));
      set("logger.verbosity", caf::atom("quiet"));
    }
  };
  config cfg;
  caf::actor_system sys{cfg};
};

caf::actor_system& node_system() {
  // Never destroyed: tearing the system down from a static destructor races its worker thread's
  // thread-local cleanup at exit (a crash in ref_counted::deref after the last input).
  static auto* holder = new system_holder;
  return holder->sys;
}

template <class T>
bool decode(const char* data, std::size_t size, T& out) {
  caf::binary_deserializer source{node_system(), data, size};
  return !source(out);
}

template <class T>
std::vector<char> encode(T& value, std::string_view input) {
  std::vector<char> image;
  caf::binary_serializer sink{node_system(), image};
  if (auto err = sink(value))
    violated("a decoded value does not encode", input);
  return image;
}

/// decode(encode(x)) succeeds and encodes to the same image: what one node sends, the other reads
/// back exactly.
template <class T>
void check_fixed_point(T& value, std::string_view input) {
  auto image = encode(value, input);
  T again;
  if (!decode(image.data(), image.size(), again))
    violated("an encoded value does not decode", input);
  if (encode(again, input) != image)
    violated("decode/encode is not a fixed point", input);
}

/// What the standby's replicator does with a record: decode the state image by kind.
void check_state_image(const std::vector<char>& image, std::string_view input) {
  actors::endpoint_state line;
  if (decode(image.data(), image.size(), line))
    check_fixed_point(line, input);
  actors::call_state call;
  if (decode(image.data(), image.size(), call))
    check_fixed_point(call, input);
}

void check_records(const std::vector<ha::repl_record>& records, std::string_view input) {
  for (const auto& r : records)
    check_state_image(r.state, input);
}

} // namespace

void check_replication(std::string_view input) {
  if (input.empty())
    return;
  const char* data = input.data() + 1;
  std::size_t size = input.size() - 1;
  switch (static_cast<unsigned char>(input[0]) % 5) {
  case 0: {
    ha::repl_batch batch;
    if (decode(data, size, batch)) {
      check_records(batch.records, input);
      check_fixed_point(batch, input);
    }
    break;
  }
  case 1: {
    ha::repl_snapshot_request request;
    if (decode(data, size, request))
      check_fixed_point(request, input);
    break;
  }
  case 2: {
    ha::repl_snapshot snapshot;
    if (decode(data, size, snapshot)) {
      check_records(snapshot.image, input);
      check_fixed_point(snapshot, input);
    }
    break;
  }
  case 3: {
    // A whole message as the middleman delivers it: type names from the registry, then values.
    caf::message message;
    if (decode(data, size, message))
      encode(message, input);
    break;
  }
  default:
    check_state_image(std::vector<char>(data, data + size), input);
  }
}

} // namespace cms::fuzz
