#include "test/tools/cmtssim/control_server.hpp"

#include <boost/json.hpp>

namespace cms::cmtssim {

namespace asio = boost::asio;
namespace json = boost::json;

control_server::control_server(asio::io_context& io, const std::string& address, std::uint16_t port,
                               executor exec)
  : socket_(io, asio::ip::udp::endpoint{asio::ip::make_address(address), port}),
    exec_(std::move(exec)) {
  receive();
}

std::uint16_t control_server::port() const { return socket_.local_endpoint().port(); }

void control_server::stop() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void control_server::receive() {
  socket_.async_receive_from(
    asio::buffer(buffer_), from_, [this](const boost::system::error_code& e, std::size_t n) {
      if (e == asio::error::operation_aborted || !socket_.is_open())
        return;
      if (!e) {
        json::value reply;
        boost::system::error_code pec;
        auto request = json::parse(json::string_view(buffer_.data(), n), pec);
        if (pec || !request.is_object()) {
          reply = json::object{{"ok", false}, {"error", "request must be a JSON object"}};
        } else {
          try {
            reply = exec_(request.as_object());
          } catch (const std::exception& ex) {
            reply = json::object{{"ok", false}, {"error", ex.what()}};
          }
        }
        auto text = json::serialize(reply);
        boost::system::error_code ignored;
        socket_.send_to(asio::buffer(text), from_, 0, ignored);
      }
      receive();
    });
}

} // namespace cms::cmtssim
