// The session against a scripted, misbehaving CMTS (a raw TCP peer in the test): broken framing
// ends the connection with Client-Close "bad message format"; a broken PacketCable payload inside
// a well-framed RPT is counted and ignored; an answer for an unknown transaction is counted.

#include "cops_rig.hpp"

namespace cms::cops::test {
namespace {

/// A blocking one-connection COPS peer playing the CMTS.
class raw_cmts {
public:
  raw_cmts() : port_(cms::test::free_port()) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 4) != 0)
      throw std::runtime_error("raw_cmts: bind/listen failed");
  }
  ~raw_cmts() {
    if (fd_ >= 0)
      ::close(fd_);
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }

  void accept() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = ::accept(listen_fd_, nullptr, nullptr);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const bytes& b) { ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL); }
  /// The next whole message, or nullopt on EOF / timeout.
  std::optional<message> receive() {
    for (;;) {
      auto n = framer_.next();
      if (!n)
        return std::nullopt;
      if (n.value()) {
        auto m = decode(*n.value());
        if (!m)
          return std::nullopt;
        return m.value();
      }
      std::uint8_t buf[1024];
      auto got = ::recv(fd_, buf, sizeof buf, 0);
      if (got <= 0)
        return std::nullopt;
      framer_.feed(buf, static_cast<std::size_t>(got));
    }
  }
  /// OPN, CAT, REQ: leaves the session ready with handle 00 00 00 2a.
  void handshake() {
    accept();
    framer_.reset();
    send(encode(to_message(client_open{client_type_dqos, "raw"})));
    auto cat = receive();
    ASSERT_TRUE(cat.has_value());
    ASSERT_EQ(cat->op, op_code::cat);
    send(encode(to_message(request{client_type_dqos, handle, context{}, {}})));
  }

  const bytes handle{0, 0, 0, 42};

private:
  std::uint16_t port_;
  int listen_fd_ = -1;
  int fd_ = -1;
  framer framer_;
};

TEST(CopsHostileCmts, BrokenFramingEndsTheConnectionWithClientClose) {
  raw_cmts cmts;
  running_session s{fast_config(cmts.port())};
  s.session().start();
  cmts.handshake();
  ASSERT_TRUE(s.events().wait([](auto& e) { return e.connected == 1; }));
  cmts.send(bytes{0x10, 0x03, 0x80, 0x08, 0xff, 0xff, 0xff, 0xf0}); // length far above the max
  auto cc = cmts.receive();
  ASSERT_TRUE(cc.has_value()) << s.log_text();
  auto parsed = parse_client_close(*cc);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->error, static_cast<std::uint16_t>(error_code::bad_message_format));
  EXPECT_FALSE(cmts.receive().has_value()); // then the session hangs up
  ASSERT_TRUE(s.events().wait([](auto& e) { return e.lost.size() == 1; }));
  EXPECT_EQ(s.session().counters().malformed, 1u);
  // And it comes back.
  cmts.handshake();
  ASSERT_TRUE(s.events().wait([](auto& e) { return e.connected == 2; })) << s.log_text();
}

TEST(CopsHostileCmts, BadPayloadsAndStrayAnswersAreCountedNotFatal) {
  raw_cmts cmts;
  running_session s{fast_config(cmts.port())};
  s.session().start();
  cmts.handshake();
  ASSERT_TRUE(s.events().wait([](auto& e) { return e.connected == 1; }));

  // Send a Gate-Set and read the DEC the CMTS gets.
  auto done = std::make_shared<std::promise<command_outcome>>();
  auto result = done->get_future();
  s.session().send(gate_set_for(0x0a000002),
                   [done](const command_outcome& o) { done->set_value(o); });
  auto dec = cmts.receive();
  ASSERT_TRUE(dec.has_value());
  auto cmd = gate_command_from(*dec);
  ASSERT_TRUE(cmd) << cmd.detail();
  ASSERT_EQ(cmd->command, gate_command_type::gate_set);
  const auto tid = cmd->transaction_id;

  // 1. An RPT whose ClientSI holds a lying PacketCable object.
  report broken{client_type_dqos,
                cmts.handle,
                report_type::success,
                {0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x00, 0x05, 0x00, 0x40, 0x03, 0x01},
                true};
  cmts.send(encode(to_message(broken)));
  // 2. A Set-Ack for a transaction nobody sent.
  gate_command stray;
  stray.command = gate_command_type::set_ack;
  stray.transaction_id = static_cast<std::uint16_t>(tid + 100);
  stray.gate_id = 1;
  cmts.send(encode(to_report(stray, cmts.handle)));
  // 3. A Set-Ack without its Gate ID.
  gate_command incomplete;
  incomplete.command = gate_command_type::set_ack;
  incomplete.transaction_id = tid;
  cmts.send(encode(to_report(incomplete, cmts.handle)));
  // 4. The right answer on a different Client Handle.
  gate_command ack;
  ack.command = gate_command_type::set_ack;
  ack.transaction_id = tid;
  ack.gate_id = 0xabcdef01;
  cmts.send(encode(to_report(ack, bytes{9, 9, 9, 9})));
  // 5. Finally the real answer.
  cmts.send(encode(to_report(ack, cmts.handle)));

  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  auto out = result.get();
  EXPECT_EQ(out.status, command_status::ack);
  EXPECT_EQ(out.answer.gate_id, 0xabcdef01u);
  EXPECT_EQ(s.session().counters().malformed, 4u) << s.log_text();
  EXPECT_TRUE(s.session().ready());
  std::lock_guard lock{s.events().mutex};
  EXPECT_TRUE(s.events().lost.empty());
}

TEST(CopsHostileCmts, ClientCloseFromTheCmtsIsALoss) {
  raw_cmts cmts;
  running_session s{fast_config(cmts.port())};
  s.session().start();
  cmts.handshake();
  ASSERT_TRUE(s.events().wait([](auto& e) { return e.connected == 1; }));
  cmts.send(encode(to_message(client_close{client_type_dqos, 11, 0}))); // shutting down
  ASSERT_TRUE(s.events().wait([](auto& e) { return e.lost.size() == 1; }));
  std::lock_guard lock{s.events().mutex};
  EXPECT_NE(s.events().lost[0].find("Client-Close (error 11"), std::string::npos)
    << s.events().lost[0];
}

} // namespace
} // namespace cms::cops::test
