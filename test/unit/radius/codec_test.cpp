// Byte-exact layouts of the BCID, the EM header and the CableLabs attributes, and the RADIUS
// authenticators against a packet captured from radclient (FreeRADIUS 3.2.1's own encoder).

#include "runtime/radius/bcid.hpp"
#include "runtime/radius/cablelabs_attributes.hpp"
#include "runtime/radius/event_message.hpp"
#include "runtime/radius/packet.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

using namespace cms::radius;

namespace {

bytes from_hex(std::string_view hex) {
  bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

template <class C>
std::string hex_of(const C& c) {
  return to_hex(byte_view{reinterpret_cast<const std::uint8_t*>(c.data()), c.size()});
}

bcid sample_bcid() {
  bcid id;
  id.timestamp = 0x5f000001;
  id.element_id = "12345";
  id.time_zone = "0+000000";
  id.event_counter = 7;
  return id;
}

em_header sample_header() {
  em_header h;
  h.version = 1;
  h.billing_correlation_id = sample_bcid();
  h.type = em_type::signaling_start;
  h.element_id = "12345";
  h.sequence = 3;
  h.event_time = "20260101120000.123";
  h.priority = 2;
  h.attribute_count = 5;
  return h;
}

} // namespace

TEST(Bcid, ExactBytes) {
  auto raw = sample_bcid().encode();
  EXPECT_EQ(hex_of(raw), "5f000001"         // timestamp
                         "2020203132333435" // "   12345"
                         "302b303030303030" // "0+000000"
                         "00000007");       // event counter
  EXPECT_EQ(sample_bcid().hex(), hex_of(raw));
}

TEST(Bcid, DecodeRoundTripAndErrors) {
  auto raw = sample_bcid().encode();
  auto back = bcid::decode(byte_view{raw.data(), raw.size()});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->timestamp, 0x5f000001u);
  EXPECT_EQ(back->element_id, "   12345");
  EXPECT_EQ(back->time_zone, "0+000000");
  EXPECT_EQ(back->event_counter, 7u);
  EXPECT_EQ(*back, sample_bcid());
  std::string error;
  EXPECT_FALSE(bcid::decode(byte_view{raw.data(), 23}, &error));
  EXPECT_FALSE(error.empty());
  raw[5] = 0x01; // control character inside the element id
  EXPECT_FALSE(bcid::decode(byte_view{raw.data(), raw.size()}));
}

TEST(Bcid, FieldFormats) {
  EXPECT_EQ(format_element_id("12345"), "   12345");
  EXPECT_EQ(format_element_id("12345678"), "12345678");
  EXPECT_THROW(format_element_id("123456789"), std::invalid_argument);
  EXPECT_EQ(format_time_zone(false, 0), "0+000000");
  EXPECT_EQ(format_time_zone(true, -5 * 3600), "1-050000");
  EXPECT_EQ(format_time_zone(false, 5 * 3600 + 30 * 60), "0+053000");
  EXPECT_THROW(format_time_zone(false, 24 * 3600), std::invalid_argument);
  bcid bad = sample_bcid();
  bad.time_zone = "+0000000";
  EXPECT_THROW(bad.encode(), std::invalid_argument);
}

TEST(EmHeader, ExactBytesAndOffsets) {
  auto raw = encode_em_header(sample_header());
  ASSERT_EQ(raw.size(), 76u);
  // Same vector was hand-built in Python and accepted and decoded by FreeRADIUS + tshark.
  EXPECT_EQ(hex_of(raw),
            "0001"                                             // version
            "5f0000012020203132333435302b30303030303000000007" // BCID
            "0001"                                             // EM type 1
            "0001"                                             // element type CMS
            "2020203132333435"                                 // element id
            "302b303030303030"                                 // time zone
            "00000003"                                         // sequence
            "32303236303130313132303030302e313233"             // event time
            "00000000"                                         // status
            "02"                                               // priority
            "0005"                                             // attribute count
            "00");                                             // event object
  EXPECT_EQ(raw[27], 1);                                       // EM type low octet at 26..27
  EXPECT_EQ(raw[49], 3);                                       // sequence low octet at 46..49
  EXPECT_EQ(raw[50], '2');                                     // event time starts at 50
}

TEST(EmHeader, DecodeRoundTripAndErrors) {
  auto h = sample_header();
  h.type = em_type::qos_commit;
  h.status = em_status::possible_error | em_status::proxied;
  auto raw = encode_em_header(h);
  auto back = decode_em_header(byte_view{raw.data(), raw.size()});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, em_type::qos_commit);
  EXPECT_EQ(back->sequence, 3u);
  EXPECT_EQ(back->status, 9u);
  EXPECT_EQ(back->event_time, "20260101120000.123");
  EXPECT_EQ(back->billing_correlation_id, h.billing_correlation_id);
  EXPECT_FALSE(decode_em_header(byte_view{raw.data(), 75}));
  bytes longer(raw.begin(), raw.end());
  longer.push_back(0);
  EXPECT_FALSE(decode_em_header(byte_view{longer.data(), longer.size()}));
  auto bad = h;
  bad.event_time = "2026";
  EXPECT_THROW(encode_em_header(bad), std::invalid_argument);
}

TEST(EmHeader, EventTimeFormat) {
  using namespace std::chrono;
  auto t = system_clock::time_point{seconds{1767268800} + milliseconds{123}}; // 2026-01-01 12:00
  EXPECT_EQ(format_event_time(t), "20260101120000.123");
}

TEST(EmTypes, NumbersAndAcctStatus) {
  EXPECT_EQ(static_cast<int>(em_type::signaling_start), 1);
  EXPECT_EQ(static_cast<int>(em_type::signaling_stop), 2);
  EXPECT_EQ(static_cast<int>(em_type::qos_reserve), 7);
  EXPECT_EQ(static_cast<int>(em_type::qos_release), 8);
  EXPECT_EQ(static_cast<int>(em_type::interconnect_signaling_start), 13);
  EXPECT_EQ(static_cast<int>(em_type::interconnect_signaling_stop), 14);
  EXPECT_EQ(static_cast<int>(em_type::call_answer), 15);
  EXPECT_EQ(static_cast<int>(em_type::call_disconnect), 16);
  EXPECT_EQ(static_cast<int>(em_type::time_change), 17);
  EXPECT_EQ(static_cast<int>(em_type::qos_commit), 19);
  EXPECT_EQ(acct_status_for(em_type::signaling_start), acct_status::start);
  EXPECT_EQ(acct_status_for(em_type::interconnect_signaling_start), acct_status::start);
  EXPECT_EQ(acct_status_for(em_type::signaling_stop), acct_status::stop);
  EXPECT_EQ(acct_status_for(em_type::interconnect_signaling_stop), acct_status::stop);
  EXPECT_EQ(acct_status_for(em_type::call_answer), acct_status::interim_update);
  EXPECT_EQ(acct_status_for(em_type::qos_commit), acct_status::interim_update);
}

TEST(CableLabsAttributes, NumbersMatchTheDictionaries) {
  EXPECT_EQ(static_cast<int>(cl_attr::mta_endpoint_name), 3);
  EXPECT_EQ(static_cast<int>(cl_attr::calling_party_number), 4);
  EXPECT_EQ(static_cast<int>(cl_attr::called_party_number), 5);
  EXPECT_EQ(static_cast<int>(cl_attr::call_termination_cause), 11);
  EXPECT_EQ(static_cast<int>(cl_attr::related_call_bcid), 13);
  EXPECT_EQ(static_cast<int>(cl_attr::charge_number), 16);
  EXPECT_EQ(static_cast<int>(cl_attr::carrier_identification_code), 23);
  EXPECT_EQ(static_cast<int>(cl_attr::trunk_group_id), 24);
  EXPECT_EQ(static_cast<int>(cl_attr::routing_number), 25);
  EXPECT_EQ(static_cast<int>(cl_attr::qos_descriptor), 32);
  EXPECT_EQ(static_cast<int>(cl_attr::direction_indicator), 37);
  EXPECT_EQ(static_cast<int>(cl_attr::time_adjustment), 38);
  EXPECT_EQ(static_cast<int>(cl_attr::redirected_from_info), 43);
  EXPECT_EQ(static_cast<int>(cl_attr::financial_entity_id), 49);
}

TEST(CableLabsAttributes, StructuredEncodings) {
  auto ctc = attr::termination_cause({1, 16});
  EXPECT_EQ(ctc.type, 11);
  EXPECT_EQ(hex_of(ctc.value), "000100000010");
  auto tg = attr::trunk_group({9, 42});
  EXPECT_EQ(tg.type, 24);
  EXPECT_EQ(hex_of(tg.value), "00090000002a");
  auto adj = attr::time_adjustment(-1500);
  EXPECT_EQ(hex_of(adj.value), "fffffffffffffa24");
  EXPECT_EQ(decode_time_adjustment(byte_view{adj.value.data(), adj.value.size()}), -1500);
  auto dir = attr::direction_indicator(direction::terminating);
  EXPECT_EQ(hex_of(dir.value), "00000002");
  auto rel = attr::related_call_bcid(sample_bcid());
  EXPECT_EQ(rel.type, 13);
  EXPECT_EQ(hex_of(rel.value), sample_bcid().hex());
  auto rfi = attr::redirected_from({"5551000", "5552000", 2});
  ASSERT_EQ(rfi.value.size(), 42u);
  auto rfi_back = decode_redirected_from(byte_view{rfi.value.data(), rfi.value.size()});
  ASSERT_TRUE(rfi_back);
  EXPECT_EQ(rfi_back->last_redirecting_party, "5551000");
  EXPECT_EQ(rfi_back->original_called_party, "5552000");
  EXPECT_EQ(rfi_back->number_of_redirections, 2);
  qos_descriptor q{1u | (1u << 3) | (1u << 6), "voice", {20000, 232}};
  auto qa = attr::qos(q);
  ASSERT_EQ(qa.value.size(), 4u + 16u + 8u);
  auto qb = decode_qos(byte_view{qa.value.data(), qa.value.size()});
  ASSERT_TRUE(qb);
  EXPECT_EQ(qb->service_class_name, "voice");
  EXPECT_EQ(qb->parameters, (std::vector<std::uint32_t>{20000, 232}));
  EXPECT_THROW(attr::qos({1u << 3, "x", {}}), std::invalid_argument);
  EXPECT_FALSE(decode_termination_cause(byte_view{ctc.value.data(), 5}));
  EXPECT_FALSE(decode_qos(byte_view{qa.value.data(), qa.value.size() - 1}));
  EXPECT_THROW(attr::calling_party_number(std::string(248, '1')), std::invalid_argument);
}

TEST(EventMessage, RadiusAttributes) {
  event_message em;
  em.header = sample_header();
  em.header.attribute_count = 0; // filled in by the encoder
  em.attributes = {attr::calling_party_number("5551234"), attr::termination_cause({1, 16})};
  auto attrs = encode_event_message(em, em_envelope{0x7f000001});
  ASSERT_EQ(attrs.size(), 6u);
  EXPECT_EQ(attrs[0].type, 40);
  EXPECT_EQ(hex_of(attrs[0].value), "00000001"); // Start
  EXPECT_EQ(attrs[1].type, 4);
  EXPECT_EQ(hex_of(attrs[1].value), "7f000001");
  EXPECT_EQ(attrs[2].type, 44);
  EXPECT_EQ(std::string(attrs[2].value.begin(), attrs[2].value.end()), sample_bcid().hex());
  EXPECT_EQ(attrs[3].type, 26);
  ASSERT_EQ(attrs[3].value.size(), 4u + 2u + 76u);
  EXPECT_EQ(hex_of(bytes(attrs[3].value.begin(), attrs[3].value.begin() + 6)), "0000118b014e");
  EXPECT_EQ(attrs[3].value[6 + 74], 2); // attribute count = 2 typed attributes
  EXPECT_EQ(hex_of(attrs[4].value), "0000118b0409" + hex_of(std::string("5551234")));
  EXPECT_EQ(hex_of(attrs[5].value), "0000118b0b08000100000010");

  auto wire = encode_accounting_request(9, attrs, "s3cret");
  auto p = decode(byte_view{wire.data(), wire.size()});
  ASSERT_TRUE(p);
  auto back = decode_event_message(*p);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->header.sequence, 3u);
  EXPECT_EQ(back->header.attribute_count, 2);
  ASSERT_EQ(back->attributes.size(), 2u);
  EXPECT_EQ(back->attributes[1], attr::termination_cause({1, 16}));
}

// Captured from: radclient -S <secret "testing123"> ... acct with
//   Acct-Status-Type = Start, Acct-Session-Id = "abc", CableLabs-Calling-Party-Number = "5551234"
TEST(Packet, AccountingRequestAuthenticatorMatchesRadclient) {
  const auto expected = from_hex("0490002ed4484942a9d7d6cb567202711bae4aff280600000001"
                                 "2c05616263"
                                 "1a0f0000118b040935353531323334");
  std::string number = "5551234";
  std::vector<attribute> attrs{
    make_u32(attr_type::acct_status_type, 1), make_string(attr_type::acct_session_id, "abc"),
    make_vsa(cablelabs_vendor_id, 4,
             byte_view{reinterpret_cast<const std::uint8_t*>(number.data()), number.size()})};
  auto wire = encode_accounting_request(0x90, attrs, "testing123");
  EXPECT_EQ(hex_of(wire), hex_of(expected));
  EXPECT_TRUE(verify_accounting_request(byte_view{wire.data(), wire.size()}, "testing123"));
  EXPECT_FALSE(verify_accounting_request(byte_view{wire.data(), wire.size()}, "testing124"));
}

TEST(Packet, ResponseAuthenticator) {
  auto req = encode_accounting_request(5, {make_u32(attr_type::acct_status_type, 3)}, "k");
  auto auth = authenticator_of(byte_view{req.data(), req.size()});
  auto resp = encode_response(code::accounting_response, 5, auth, {}, "k");
  EXPECT_EQ(resp.size(), 20u);
  EXPECT_TRUE(verify_response(byte_view{resp.data(), resp.size()}, auth, "k"));
  EXPECT_FALSE(verify_response(byte_view{resp.data(), resp.size()}, auth, "other"));
  auto other_auth = auth;
  other_auth[0] ^= 1;
  EXPECT_FALSE(verify_response(byte_view{resp.data(), resp.size()}, other_auth, "k"));
  resp[19] ^= 0x80;
  EXPECT_FALSE(verify_response(byte_view{resp.data(), resp.size()}, auth, "k"));
}

TEST(Packet, StatusServerMessageAuthenticator) {
  auto auth = random_authenticator();
  auto ss = encode_status_server(77, auth, "k");
  ASSERT_EQ(ss.size(), 38u);
  EXPECT_EQ(ss[0], 12);
  EXPECT_EQ(ss[20], 80);
  EXPECT_EQ(ss[21], 18);
  EXPECT_TRUE(verify_message_authenticator(byte_view{ss.data(), ss.size()}, "k", true));
  EXPECT_FALSE(verify_message_authenticator(byte_view{ss.data(), ss.size()}, "x", true));
  // The answer may carry its own Message-Authenticator: both must verify.
  auto resp = encode_response(code::accounting_response, 77, auth, {}, "k", true);
  EXPECT_TRUE(verify_response(byte_view{resp.data(), resp.size()}, auth, "k"));
  // Corrupt only the Message-Authenticator, then re-sign the Response Authenticator so that only
  // the HMAC check can catch it.
  resp[25] ^= 1;
  bytes copy = resp;
  std::copy(auth.begin(), auth.end(), copy.begin() + 4);
  std::string secret = "k";
  auto ra = md5({byte_view{copy.data(), copy.size()},
                 byte_view{reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()}});
  std::copy(ra.begin(), ra.end(), resp.begin() + 4);
  EXPECT_FALSE(verify_response(byte_view{resp.data(), resp.size()}, auth, "k"));
  resp[25] ^= 1; // restore the MAC: now only the Response Authenticator is stale
  EXPECT_FALSE(verify_response(byte_view{resp.data(), resp.size()}, auth, "k"));
}
