#include "actors/qos/flowspec.hpp"

namespace cms::qos {

std::optional<unsigned> codec_bits_per_second(const std::string& codec) {
  if (codec == "PCMU" || codec == "PCMA")
    return 64000;
  if (codec == "G726-32")
    return 32000;
  if (codec == "G728")
    return 16000;
  if (codec == "G729")
    return 8000;
  return std::nullopt;
}

std::optional<flowspec> voice_flowspec(const std::string& codec, unsigned packet_period_ms) {
  auto bits = codec_bits_per_second(codec);
  if (!bits || packet_period_ms == 0 || (*bits / 8 * packet_period_ms) % 1000 != 0)
    return std::nullopt;
  const unsigned payload = *bits / 8 * packet_period_ms / 1000;
  const unsigned packet = payload + voice_header_bytes;
  flowspec f;
  f.r = static_cast<float>(packet) * 1000.0f / static_cast<float>(packet_period_ms);
  f.b = static_cast<float>(packet);
  f.p = f.r;
  f.m = packet;
  f.M = packet;
  f.R = f.r;
  f.S = 0;
  return f;
}

} // namespace cms::qos
