#include "raw_tls_client.hpp"

#include "persistence/rks_protocol.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace cms::test {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;

namespace {

ssl::context make_context(const std::string& ca, const std::string& cert, const std::string& key) {
  ssl::context ctx{ssl::context::tls_client};
  ctx.load_verify_file(ca);
  if (!cert.empty()) {
    ctx.use_certificate_chain_file(cert);
    ctx.use_private_key_file(key, ssl::context::pem);
  }
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

} // namespace

raw_tls_client::raw_tls_client(const std::string& ca, const std::string& cert,
                               const std::string& key)
  : tls_(make_context(ca, cert, key)),
    stream_(io_, tls_) {}

bool raw_tls_client::run_until(const bool& done) {
  io_.restart();
  const auto end = std::chrono::steady_clock::now() + deadline_;
  while (!done && std::chrono::steady_clock::now() < end)
    io_.run_one_for(std::chrono::milliseconds{50});
  if (done)
    return true;
  abort(); // cancels the pending operation; let it complete before returning
  io_.restart();
  io_.run_for(std::chrono::milliseconds{500});
  return false;
}

std::string raw_tls_client::connect(std::uint16_t port) {
  bool done = false;
  error_code result;
  stream_.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port},
                                     [&](const error_code& ec) {
                                       result = ec;
                                       done = true;
                                     });
  if (!run_until(done))
    return "connect timeout";
  if (result)
    return "connect: " + result.message();
  done = false;
  stream_.async_handshake(ssl::stream_base::client, [&](const error_code& ec) {
    result = ec;
    done = true;
  });
  if (!run_until(done))
    return "handshake timeout";
  return result ? "handshake: " + result.message() : std::string{};
}

std::string raw_tls_client::write(const std::string& bytes) {
  bool done = false;
  error_code result;
  asio::async_write(stream_, asio::buffer(bytes), [&](const error_code& ec, std::size_t) {
    result = ec;
    done = true;
  });
  if (!run_until(done))
    return "write timeout";
  return result ? "write: " + result.message() : std::string{};
}

std::optional<boost::json::object> raw_tls_client::read_reply(std::string& error) {
  unsigned char prefix[billing::rks::length_prefix_size];
  bool done = false;
  error_code result;
  asio::async_read(stream_, asio::buffer(prefix), [&](const error_code& ec, std::size_t) {
    result = ec;
    done = true;
  });
  if (!run_until(done) || result) {
    error = done ? "read: " + result.message() : "read timeout";
    return std::nullopt;
  }
  const auto len = billing::rks::decode_length(prefix);
  if (len > (1u << 20)) {
    error = "reply too large";
    return std::nullopt;
  }
  std::string body(len, '\0');
  done = false;
  asio::async_read(stream_, asio::buffer(body), [&](const error_code& ec, std::size_t) {
    result = ec;
    done = true;
  });
  if (!run_until(done) || result) {
    error = done ? "read: " + result.message() : "read timeout";
    return std::nullopt;
  }
  auto frame = billing::rks::decode_body(body);
  if (!frame.ok()) {
    error = frame.error;
    return std::nullopt;
  }
  return std::move(frame.message);
}

bool raw_tls_client::closed_by_peer() {
  char byte;
  bool done = false;
  error_code result;
  stream_.async_read_some(asio::buffer(&byte, 1), [&](const error_code& ec, std::size_t) {
    result = ec;
    done = true;
  });
  return run_until(done) && result;
}

void raw_tls_client::abort() {
  error_code ignored;
  stream_.next_layer().close(ignored);
}

} // namespace cms::test
