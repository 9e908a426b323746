#pragma once
// cmsctl's HTTP client: one synchronous request per call over Boost.Beast, with a deadline, to
// the node's management address ("http://host:port", or "https://host:port" for a node with
// [http] tls = true: the node's certificate is verified against --ca FILE, else the system's CAs).

#include <chrono>
#include <stdexcept>
#include <string>

namespace cms::cmsctl {

/// The node could not be reached at all (refused, unresolvable, timed out).
class unreachable : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct node_address {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  bool tls = false;    ///< https://
  std::string ca_file; ///< PEM CA bundle that signed the node's certificate; empty: system CAs
  std::string text() const { return std::string(tls ? "https://" : "http://") + host + ":" + port; }
};

/// Parses "http://host:port", "https://host:port", "host:port" or "host". Throws
/// std::invalid_argument.
node_address parse_node_address(const std::string& url);

struct reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

/// GET or POST `target`; `token` non-empty adds "Authorization: Bearer <token>".
reply request(const node_address& node, const std::string& method, const std::string& target,
              const std::string& token, const std::string& body = {},
              const std::string& content_type = "application/json",
              std::chrono::milliseconds timeout = std::chrono::seconds{10});

} // namespace cms::cmsctl
