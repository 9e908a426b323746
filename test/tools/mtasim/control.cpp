#include "test/tools/mtasim/control.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <istream>

namespace cms::sim {

class control_server::session : public std::enable_shared_from_this<session> {
public:
  session(boost::asio::ip::tcp::socket socket, executor& exec)
    : socket_(std::move(socket)),
      exec_(exec) {}

  void read() {
    auto self = shared_from_this();
    boost::asio::async_read_until(
      socket_, buffer_, '\n', [self](const boost::system::error_code& ec, std::size_t) {
        if (ec)
          return; // peer closed or the line grew past the limit: drop the session
        std::istream in(&self->buffer_);
        std::string request;
        std::getline(in, request);
        if (!request.empty() && request.back() == '\r')
          request.pop_back();
        std::string reply;
        try {
          reply = self->exec_(request);
        } catch (const std::exception& e) {
          reply = std::string("error ") + e.what();
        }
        self->reply_ = reply + "\n";
        boost::asio::async_write(self->socket_, boost::asio::buffer(self->reply_),
                                 [self](const boost::system::error_code& wec, std::size_t) {
                                   if (!wec)
                                     self->read();
                                 });
      });
  }

private:
  boost::asio::ip::tcp::socket socket_;
  executor& exec_;
  boost::asio::streambuf buffer_{64 * 1024}; ///< a request line longer than this closes the session
  std::string reply_;
};

control_server::control_server(boost::asio::io_context& io, const std::string& address,
                               std::uint16_t port, executor exec)
  : acceptor_(io),
    exec_(std::move(exec)) {
  boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address(address), port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  accept();
}

control_server::~control_server() { stop(); }

std::uint16_t control_server::port() const { return acceptor_.local_endpoint().port(); }

void control_server::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void control_server::accept() {
  acceptor_.async_accept(
    [this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
      if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open())
        return;
      if (!ec)
        std::make_shared<session>(std::move(socket), exec_)->read();
      accept();
    });
}

} // namespace cms::sim
