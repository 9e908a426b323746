// COPS common header and objects: exact bytes of what we send, and round trips of every typed
// message through encode -> decode -> parse.

#include "runtime/cops/message.hpp"

#include <gtest/gtest.h>

namespace cms::cops {
namespace {

bytes encoded(const message& m) { return encode(m); }

TEST(CopsMessage, ClientAcceptBytes) {
  client_accept cat;
  cat.keepalive_s = 30;
  const bytes expected{0x10, 0x07, 0x80, 0x08, 0x00, 0x00, 0x00, 0x10,  // v1, CAT, 0x8008, len 16
                       0x00, 0x08, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x1e}; // KA timer 30 s
  EXPECT_EQ(encoded(to_message(cat)), expected);
}

TEST(CopsMessage, ClientAcceptWithAccountingTimer) {
  client_accept cat;
  cat.keepalive_s = 1;
  cat.accounting_s = 600;
  const bytes expected{0x10, 0x07, 0x80, 0x08, 0x00, 0x00, 0x00, 0x18, 0x00, 0x08, 0x0a, 0x01,
                       0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x0f, 0x01, 0x00, 0x00, 0x02, 0x58};
  EXPECT_EQ(encoded(to_message(cat)), expected);
  auto back = parse_client_accept(decode(expected).value());
  ASSERT_TRUE(back) << back.detail();
  EXPECT_EQ(back->keepalive_s, 1);
  ASSERT_TRUE(back->accounting_s.has_value());
  EXPECT_EQ(*back->accounting_s, 600);
}

TEST(CopsMessage, ClientOpenPadsThePepIdButCountsItsNul) {
  client_open opn;
  opn.pep_id = "cmts1"; // 5 chars + NUL = 6 bytes: object length 10, padded to 12
  const bytes expected{0x10, 0x06, 0x80, 0x08, 0x00, 0x00, 0x00, 0x14, 0x00, 0x0a,
                       0x0b, 0x01, 'c',  'm',  't',  's',  '1',  0x00, 0x00, 0x00};
  EXPECT_EQ(encoded(to_message(opn)), expected);
  auto back = parse_client_open(decode(expected).value());
  ASSERT_TRUE(back) << back.detail();
  EXPECT_EQ(back->pep_id, "cmts1");
  EXPECT_EQ(back->client_type, client_type_dqos);
}

TEST(CopsMessage, KeepAliveHasClientTypeZeroAndNoObjects) {
  const bytes expected{0x10, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08};
  EXPECT_EQ(encoded(to_message(keep_alive{})), expected);
  EXPECT_TRUE(parse_keep_alive(decode(expected).value()));
}

TEST(CopsMessage, DecisionLayout) {
  decision d;
  d.handle = {0x00, 0xc0, 0xff, 0xee};
  d.client_data = {0x00, 0x08, 0x01, 0x01, 0x00, 0x07, 0x00, 0x04};
  const bytes expected{
    0x10, 0x02, 0x80, 0x08, 0x00, 0x00, 0x00, 0x2c, // DEC, length 44
    0x00, 0x08, 0x01, 0x01, 0x00, 0xc0, 0xff, 0xee, // Handle
    0x00, 0x08, 0x02, 0x01, 0x00, 0x08, 0x00, 0x00, // Context: R-Type 8 (configuration), M-Type 0
    0x00, 0x08, 0x06, 0x01, 0x00, 0x01, 0x00, 0x00, // Decision flags: Install, no flags
    0x00, 0x0c, 0x06, 0x04,                         // Decision client-specific data
    0x00, 0x08, 0x01, 0x01, 0x00, 0x07, 0x00, 0x04};
  EXPECT_EQ(encoded(to_message(d)), expected);
  auto back = parse_decision(decode(expected).value());
  ASSERT_TRUE(back) << back.detail();
  EXPECT_EQ(back->handle, d.handle);
  EXPECT_EQ(back->command, command_code::install);
  EXPECT_EQ(back->client_data, d.client_data);
  EXPECT_EQ(back->ctx, (context{8, 0}));
}

TEST(CopsMessage, ReportLayoutAndSolicitedFlag) {
  report r;
  r.handle = {0, 0, 0, 7};
  r.type = report_type::failure;
  const bytes expected{0x11, 0x03, 0x80, 0x08, 0x00, 0x00, 0x00, 0x18, 0x00, 0x08, 0x01, 0x01,
                       0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x0c, 0x01, 0x00, 0x02, 0x00, 0x00};
  EXPECT_EQ(encoded(to_message(r)), expected);
  r.solicited = false;
  EXPECT_EQ(encoded(to_message(r))[0], 0x10);
  auto back = parse_report(decode(expected).value());
  ASSERT_TRUE(back) << back.detail();
  EXPECT_TRUE(back->solicited);
  EXPECT_EQ(back->type, report_type::failure);
}

TEST(CopsMessage, ClientCloseAndDeleteRequestBytes) {
  client_close cc;
  cc.error = static_cast<std::uint16_t>(error_code::unsupported_client);
  cc.error_subcode = 0x8008;
  const bytes cc_bytes{0x10, 0x08, 0x80, 0x08, 0x00, 0x00, 0x00, 0x10,
                       0x00, 0x08, 0x08, 0x01, 0x00, 0x06, 0x80, 0x08};
  EXPECT_EQ(encoded(to_message(cc)), cc_bytes);

  delete_request drq;
  drq.handle = {1, 2, 3, 4};
  drq.reason = 2;
  const bytes drq_bytes{0x10, 0x04, 0x80, 0x08, 0x00, 0x00, 0x00, 0x18, 0x00, 0x08, 0x01, 0x01,
                        0x01, 0x02, 0x03, 0x04, 0x00, 0x08, 0x05, 0x01, 0x00, 0x02, 0x00, 0x00};
  EXPECT_EQ(encoded(to_message(drq)), drq_bytes);
}

TEST(CopsMessage, EveryTypedMessageRoundTrips) {
  request req;
  req.handle = {9, 9, 9, 9};
  req.client_si = {1, 2, 3}; // padded on the wire, exact after decoding
  auto r = parse_request(decode(encode(to_message(req))).value());
  ASSERT_TRUE(r) << r.detail();
  EXPECT_EQ(r->handle, req.handle);
  EXPECT_EQ(r->client_si, req.client_si);
  EXPECT_EQ(r->ctx.r_type, r_type_configuration);

  client_close cc{client_type_dqos, 3, 1};
  auto c = parse_client_close(decode(encode(to_message(cc))).value());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->error, 3);
  EXPECT_EQ(c->error_subcode, 1);

  delete_request drq{client_type_dqos, {5, 6}, 8, 1};
  auto d = parse_delete_request(decode(encode(to_message(drq))).value());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->handle, drq.handle);
  EXPECT_EQ(d->reason, 8);

  sync_request ssq{client_type_dqos, {}};
  auto q = parse_sync_request(decode(encode(to_message(ssq))).value());
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->handle.empty());
  sync_complete ssc{client_type_dqos, {1, 2, 3, 4}};
  auto s = parse_sync_complete(decode(encode(to_message(ssc))).value());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->handle, ssc.handle);
}

TEST(CopsMessage, TypedParsersRefuseOtherOpCodes) {
  auto ka = decode(encode(to_message(keep_alive{}))).value();
  EXPECT_EQ(parse_client_open(ka).error(), decode_error::wrong_message);
  EXPECT_EQ(parse_decision(ka).error(), decode_error::wrong_message);
  EXPECT_EQ(parse_report(ka).error(), decode_error::wrong_message);
}

TEST(CopsMessage, TypedParsersRequireTheirObjects) {
  message cat{op_code::cat, 0, client_type_dqos, {}};
  EXPECT_EQ(parse_client_accept(cat).error(), decode_error::missing_object);
  cat.objects.push_back({10, 1, {0, 0, 1}}); // 3-byte KA timer body
  EXPECT_EQ(parse_client_accept(cat).error(), decode_error::bad_object);

  message opn{op_code::opn, 0, client_type_dqos, {{11, 1, {'a', 'b'}}}}; // no NUL
  EXPECT_EQ(parse_client_open(opn).error(), decode_error::bad_object);

  message req{op_code::req, 0, client_type_dqos, {{1, 1, {}}, {2, 1, {0, 8, 0, 0}}}};
  EXPECT_EQ(parse_request(req).error(), decode_error::bad_object); // empty handle

  message dec{op_code::dec, 0, client_type_dqos, {{1, 1, {1}}, {2, 1, {0, 8, 0, 0}}}};
  EXPECT_EQ(parse_decision(dec).error(), decode_error::missing_object); // no Decision flags
  dec.objects.push_back({6, 1, {0, 9, 0, 0}});
  EXPECT_EQ(parse_decision(dec).error(), decode_error::bad_object); // command code 9

  message rpt{op_code::rpt, 0, client_type_dqos, {{1, 1, {1}}, {12, 1, {0, 4, 0, 0}}}};
  EXPECT_EQ(parse_report(rpt).error(), decode_error::bad_object); // report type 4
}

} // namespace
} // namespace cms::cops
