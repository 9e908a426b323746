#pragma once
// HTTPS for the management server: the TLS context built from the node's certificate and key
// ([tls] certificate/key, enabled by [http] tls = true). TLS 1.2 or newer only.

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace cms::http {

/// Loads the PEM certificate chain and private key and checks that they belong together.
/// Throws std::runtime_error naming the file and OpenSSL's reason (missing, unreadable, not PEM,
/// key not matching the certificate).
std::shared_ptr<boost::asio::ssl::context> make_server_tls(const std::string& certificate_file,
                                                           const std::string& key_file);

} // namespace cms::http
