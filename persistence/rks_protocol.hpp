#pragma once
// Wire protocol between a node's billing forwarder and the Record Keeping Server (docs/billing.md).
// A frame is a 4-byte big-endian length, then a JSON text, then the 32-byte SHA-256 of that text:
// the digest makes a corrupted or truncated batch detectable before anything is parsed or stored.

#include "persistence/billing_record.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cms::billing::rks {

constexpr std::size_t length_prefix_size = 4;
constexpr std::size_t digest_size = 32;
/// Bodies above this are refused unread: a bad length must not make either side allocate gigabytes.
constexpr std::size_t default_max_frame_size = 16u << 20;

/// Raw SHA-256 of the given bytes.
std::array<unsigned char, digest_size> sha256(std::string_view bytes);

/// Length prefix + JSON text + digest of the JSON text.
std::string encode_frame(const boost::json::object& message);

/// The body length announced by a 4-byte prefix.
std::uint32_t decode_length(const unsigned char* prefix);

/// Outcome of checking a frame body (JSON text + digest); `error` empty means `message` is valid.
struct decoded_frame {
  boost::json::object message;
  std::string error;
  bool ok() const noexcept { return error.empty(); }
};

/// Verifies the digest and parses the JSON object of one frame body (without the length prefix).
decoded_frame decode_body(std::string_view body);

boost::json::object record_to_json(const billing_record& r);

/// Converts one JSON record; returns false and sets `error` on a missing or mistyped field.
bool record_from_json(const boost::json::value& v, billing_record& out, std::string& error);

/// One batch of records, in sequence order, from one node.
struct batch {
  std::string node;
  std::vector<billing_record> records;
};

boost::json::object make_batch(const batch& b);

/// Validates a decoded "batch" message: records present, ids non-empty and unique, sequences
/// strictly ascending and starting at first_seq. Returns an empty string when valid.
std::string parse_batch(const boost::json::object& message, batch& out);

/// The RKS's answer: an ack after commit, or a nack with the reason the batch was refused.
struct reply {
  bool ack = false;
  std::uint64_t up_to_sequence = 0;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::string reason; ///< nack only
};

boost::json::object make_ack(std::uint64_t up_to_sequence, std::uint64_t accepted,
                             std::uint64_t duplicates);
boost::json::object make_nack(std::string_view reason);

/// Validates a decoded "ack"/"nack" message. Returns an empty string when valid.
std::string parse_reply(const boost::json::object& message, reply& out);

} // namespace cms::billing::rks
