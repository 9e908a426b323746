#include "runtime/http/tls.hpp"

#include <filesystem>
#include <stdexcept>

namespace cms::http {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_server_tls(const std::string& certificate_file,
                                              const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  auto load = [](const char* what, const std::string& file, auto&& step) {
    std::error_code fs_ec;
    if (!std::filesystem::is_regular_file(file, fs_ec))
      throw std::runtime_error(std::string("https: ") + what + " file " + file + " does not exist");
    boost::system::error_code ec;
    step(ec);
    if (ec)
      throw std::runtime_error(std::string("https: cannot load the ") + what + " " + file + ": " +
                               ec.message());
  };
  load("certificate", certificate_file, [&](boost::system::error_code& ec) {
    ctx->use_certificate_chain_file(certificate_file, ec);
  });
  load("private key", key_file, [&](boost::system::error_code& ec) {
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  });
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("https: private key " + key_file + " does not match certificate " +
                             certificate_file);
  return ctx;
}

} // namespace cms::http
