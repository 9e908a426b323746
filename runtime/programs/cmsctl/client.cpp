#include "runtime/programs/cmsctl/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>

#include <optional>

namespace cms::cmsctl {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

node_address parse_node_address(const std::string& url) {
  std::string rest = url;
  bool tls = false;
  if (rest.rfind("https://", 0) == 0) {
    tls = true;
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  }
  while (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos)
    throw std::invalid_argument("node address must look like http://HOST:PORT, got \"" + url +
                                "\"");
  node_address a;
  a.tls = tls;
  auto colon = rest.rfind(':');
  if (rest.front() == '[') { // [v6]:port
    auto close = rest.find(']');
    if (close == std::string::npos)
      throw std::invalid_argument("bad IPv6 address in \"" + url + "\"");
    a.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':')
      a.port = rest.substr(close + 2);
  } else if (colon != std::string::npos) {
    a.host = rest.substr(0, colon);
    a.port = rest.substr(colon + 1);
  } else {
    a.host = rest;
  }
  if (a.host.empty() || a.port.empty() ||
      a.port.find_first_not_of("0123456789") != std::string::npos || a.port.size() > 5 ||
      std::stoul(a.port) == 0 || std::stoul(a.port) > 65535)
    throw std::invalid_argument("node address must look like http://HOST:PORT, got \"" + url +
                                "\"");
  return a;
}

reply request(const node_address& node, const std::string& method, const std::string& target,
              const std::string& token, const std::string& body, const std::string& content_type,
              std::chrono::milliseconds timeout) {
  boost::asio::io_context io;
  beast::tcp_stream stream{io};
  namespace ssl = boost::asio::ssl;
  std::optional<ssl::context> tls_ctx;
  std::optional<ssl::stream<beast::tcp_stream&>> tls;
  if (node.tls) {
    tls_ctx.emplace(ssl::context::tls_client);
    beast::error_code cec;
    if (node.ca_file.empty())
      tls_ctx->set_default_verify_paths(cec);
    else
      tls_ctx->load_verify_file(node.ca_file, cec);
    if (cec)
      throw std::invalid_argument("cannot load the CA file " + node.ca_file + ": " + cec.message());
    tls_ctx->set_verify_mode(ssl::verify_peer);
    tls.emplace(stream, *tls_ctx);
  }
  tcp::resolver resolver{io};
  beast::error_code ec;
  auto endpoints = resolver.resolve(node.host, node.port, ec);
  if (ec)
    throw unreachable("cannot resolve " + node.host + ": " + ec.message());
  stream.expires_after(timeout);
  stream.connect(endpoints, ec);
  if (ec)
    throw unreachable(ec.message());
  if (tls) {
    // The name cmsctl was given must be in the node's certificate (SNI and host check).
    SSL_set_tlsext_host_name(tls->native_handle(), node.host.c_str());
    SSL_set1_host(tls->native_handle(), node.host.c_str());
    tls->handshake(ssl::stream_base::client, ec);
    if (ec)
      throw unreachable("TLS handshake with " + node.text() + " failed: " + ec.message());
  }

  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, node.host);
  req.set(bhttp::field::user_agent, "cmsctl");
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::connection, "close");
  if (!token.empty())
    req.set(bhttp::field::authorization, "Bearer " + token);
  if (method == "POST") {
    req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
  }
  if (tls)
    bhttp::write(*tls, req, ec);
  else
    bhttp::write(stream, req, ec);
  if (ec)
    throw unreachable("sending the request failed: " + ec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (tls)
    bhttp::read(*tls, buffer, parser, ec);
  else
    bhttp::read(stream, buffer, parser, ec);
  if (ec)
    throw unreachable("no answer: " + ec.message());
  auto& res = parser.get();
  reply r;
  r.status = res.result_int();
  r.content_type = std::string(res[bhttp::field::content_type]);
  r.body = res.body();
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return r;
}

} // namespace cms::cmsctl
