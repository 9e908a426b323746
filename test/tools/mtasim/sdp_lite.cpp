#include "test/tools/mtasim/sdp_lite.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <sstream>
#include <vector>

namespace cms::sim {

std::string make_audio_sdp(const std::string& address, std::uint16_t port,
                           std::uint64_t session_id) {
  std::ostringstream os;
  os << "v=0\r\n"
     << "o=- " << session_id << " 1 IN IP4 " << address << "\r\n"
     << "s=-\r\n"
     << "c=IN IP4 " << address << "\r\n"
     << "t=0 0\r\n"
     << "m=audio " << port << " RTP/AVP 0\r\n"
     << "a=rtpmap:0 PCMU/8000\r\n"
     << "a=ptime:20\r\n";
  return os.str();
}

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ')
      ++i;
    auto start = i;
    while (i < line.size() && line[i] != ' ')
      ++i;
    if (i > start)
      out.push_back(line.substr(start, i - start));
  }
  return out;
}

} // namespace

std::optional<boost::asio::ip::udp::endpoint> parse_media_target(std::string_view sdp) {
  std::optional<boost::asio::ip::address> session_addr, media_addr;
  std::optional<std::uint16_t> port;
  bool in_audio = false, seen_media = false;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    auto eol = sdp.find('\n', pos);
    auto line = sdp.substr(pos, eol == std::string_view::npos ? sdp.npos : eol - pos);
    pos = eol == std::string_view::npos ? sdp.size() : eol + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.size() < 2 || line[1] != '=')
      continue;
    char type = line[0];
    auto w = words(line.substr(2));
    if (type == 'm') {
      seen_media = true;
      in_audio = !w.empty() && w[0] == "audio";
      if (in_audio && w.size() >= 2 && !port) {
        unsigned v = 0;
        auto slash = w[1].find('/'); // "port/count"
        auto p = w[1].substr(0, slash);
        auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (ec != std::errc() || ptr != p.data() + p.size() || v > 65535)
          return std::nullopt;
        port = static_cast<std::uint16_t>(v);
      }
    } else if (type == 'c' && w.size() >= 3 && w[0] == "IN" && w[1] == "IP4") {
      boost::system::error_code ec;
      auto host = w[2].substr(0, w[2].find('/')); // multicast TTL suffix
      auto a = boost::asio::ip::make_address_v4(std::string(host), ec);
      if (ec)
        return std::nullopt;
      if (!seen_media)
        session_addr = a;
      else if (in_audio)
        media_addr = a;
    }
  }
  auto addr = media_addr ? media_addr : session_addr;
  if (!addr || !port || *port == 0 || addr->is_unspecified())
    return std::nullopt;
  return boost::asio::ip::udp::endpoint(*addr, *port);
}

} // namespace cms::sim
