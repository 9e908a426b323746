// Typed parameter helpers: M:, RM:/RD:, K:, P:, L:, N:, C/I/X identifiers, endpoint names.

#include "runtime/mgcp/endpoint_name.hpp"
#include "runtime/mgcp/parameters.hpp"

#include <gtest/gtest.h>

namespace cms::mgcp {
namespace {

TEST(connection_mode, every_rfc_mode_parses_case_insensitively_and_prints_back) {
  for (auto m : {connection_mode::sendonly, connection_mode::recvonly, connection_mode::sendrecv,
                 connection_mode::inactive, connection_mode::confrnce, connection_mode::loopback,
                 connection_mode::conttest, connection_mode::netwloop, connection_mode::netwtest,
                 connection_mode::replcate, connection_mode::data}) {
    auto name = std::string(to_string(m));
    EXPECT_EQ(parse_connection_mode(name), m);
    for (auto& c : name)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(parse_connection_mode(" " + name + " "), m);
  }
  EXPECT_EQ(parse_connection_mode("sendreceive"), std::nullopt);
  EXPECT_EQ(parse_connection_mode(""), std::nullopt);
  EXPECT_TRUE(is_extension_value("X-hold"));
  EXPECT_TRUE(is_extension_value("pkg/mode"));
  EXPECT_FALSE(is_extension_value("hold"));
  EXPECT_FALSE(is_extension_value("/x"));
}

TEST(restart, methods_and_delay) {
  EXPECT_EQ(parse_restart_method("restart"), restart_method::restart);
  EXPECT_EQ(parse_restart_method("FORCED"), restart_method::forced);
  EXPECT_EQ(parse_restart_method("graceful"), restart_method::graceful);
  EXPECT_EQ(parse_restart_method("disconnected"), restart_method::disconnected);
  EXPECT_EQ(parse_restart_method("cancel-graceful"), restart_method::cancel_graceful);
  EXPECT_EQ(to_string(restart_method::cancel_graceful), "cancel-graceful");
  EXPECT_EQ(parse_restart_method("cancel_graceful"), std::nullopt);
  EXPECT_EQ(parse_restart_delay("300"), 300u);
  EXPECT_EQ(parse_restart_delay(" 0 "), 0u);
  EXPECT_EQ(parse_restart_delay("3s"), std::nullopt);
  EXPECT_EQ(parse_restart_delay("1234567890"), std::nullopt);
}

TEST(response_ack, ranges_parse_build_and_cover) {
  auto k = parse_response_ack("6234-6255, 6257");
  ASSERT_TRUE(k);
  ASSERT_EQ(k->size(), 2u);
  EXPECT_EQ((*k)[0], (tid_range{6234, 6255}));
  EXPECT_EQ((*k)[1], (tid_range{6257, 6257}));
  EXPECT_EQ(build_response_ack(*k), "6234-6255, 6257");
  EXPECT_TRUE(acknowledges(*k, 6234));
  EXPECT_TRUE(acknowledges(*k, 6255));
  EXPECT_TRUE(acknowledges(*k, 6257));
  EXPECT_FALSE(acknowledges(*k, 6256));
  EXPECT_FALSE(acknowledges(*k, 6233));
  auto empty = parse_response_ack("  ");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(parse_response_ack("1,"));
  EXPECT_FALSE(parse_response_ack("0"));
  EXPECT_FALSE(parse_response_ack("5-"));
  EXPECT_FALSE(parse_response_ack("1000000000"));
  EXPECT_FALSE(parse_response_ack("7-6"));
}

TEST(identifiers, hex_ids) {
  EXPECT_TRUE(valid_hex_id("A3C47F21456789F0"));
  EXPECT_TRUE(valid_hex_id("1"));
  EXPECT_TRUE(valid_hex_id(std::string(32, 'f')));
  EXPECT_FALSE(valid_hex_id(std::string(33, 'f')));
  EXPECT_FALSE(valid_hex_id(""));
  EXPECT_FALSE(valid_hex_id("12G4"));
}

TEST(connection_parameters, rfc_example_round_trip) {
  const std::string text = "PS=1245, OS=62345, PR=780, OR=45123, PL=10, JI=27, LA=48";
  auto p = parse_connection_parameters(text);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->packets_sent, 1245u);
  EXPECT_EQ(p->octets_sent, 62345u);
  EXPECT_EQ(p->packets_received, 780u);
  EXPECT_EQ(p->octets_received, 45123u);
  EXPECT_EQ(p->packets_lost, 10u);
  EXPECT_EQ(p->jitter_ms, 27u);
  EXPECT_EQ(p->latency_ms, 48u);
  EXPECT_EQ(build_connection_parameters(*p), text);
}

TEST(connection_parameters, extensions_kept_and_junk_refused) {
  auto p = parse_connection_parameters("ps=1, X-RTCP=on");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->packets_sent, 1u);
  ASSERT_EQ(p->extensions.size(), 1u);
  EXPECT_EQ(p->extensions[0].second, "on");
  EXPECT_EQ(build_connection_parameters(*p), "PS=1, X-RTCP=on");
  EXPECT_FALSE(parse_connection_parameters("PS=x"));
  EXPECT_FALSE(parse_connection_parameters("ZZ=1"));
  EXPECT_FALSE(parse_connection_parameters("PS"));
}

TEST(local_connection_options, ncs_options) {
  auto l = parse_local_connection_options("p:20, a:PCMU;G729, e:on, s:off, nt:IN");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->packetization_ms(), 20u);
  EXPECT_EQ(l->codecs(), (std::vector<std::string>{"PCMU", "G729"}));
  ASSERT_NE(l->get("E"), nullptr);
  EXPECT_EQ(*l->get("e"), "on");
  EXPECT_EQ(build_local_connection_options(*l), "p:20, a:PCMU;G729, e:on, s:off, nt:IN");
  l->set("P", "10-20");
  EXPECT_EQ(l->packetization_ms(), 10u);
  l->set("fxr/fx", "t38");
  EXPECT_EQ(build_local_connection_options(*l),
            "p:10-20, a:PCMU;G729, e:on, s:off, nt:IN, fxr/fx:t38");
  EXPECT_FALSE(parse_local_connection_options("p20"));
  EXPECT_FALSE(parse_local_connection_options(":20"));
  EXPECT_TRUE(parse_local_connection_options("")->options.empty());
}

TEST(notified_entity, forms) {
  auto a = parse_notified_entity("ca@[127.0.0.1]:2727");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->local, "ca");
  EXPECT_EQ(a->domain, "[127.0.0.1]");
  EXPECT_EQ(a->host(), "127.0.0.1");
  EXPECT_EQ(a->port, 2727);
  EXPECT_EQ(a->to_string(), "ca@[127.0.0.1]:2727");
  auto b = parse_notified_entity("ca@ca1.whatever.net");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->port);
  EXPECT_EQ(b->host(), "ca1.whatever.net");
  auto c = parse_notified_entity("[128.96.41.12]");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->local, "");
  auto d = parse_notified_entity("ca@[2001:db8::1]:2727");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->host(), "2001:db8::1");
  EXPECT_EQ(d->port, 2727);
  EXPECT_FALSE(parse_notified_entity("ca@host:0"));
  EXPECT_FALSE(parse_notified_entity("ca@host:"));
  EXPECT_FALSE(parse_notified_entity("@host"));
  EXPECT_FALSE(parse_notified_entity("ca@"));
  EXPECT_FALSE(parse_notified_entity("ca@ho st"));
}

TEST(endpoint_name, parse_and_wildcards) {
  auto e = parse_endpoint_name("aaln/1@mta-1.cable.example");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->terms, (std::vector<std::string>{"aaln", "1"}));
  EXPECT_FALSE(e->wildcarded());
  EXPECT_EQ(e->to_string(), "aaln/1@mta-1.cable.example");
  auto all = parse_endpoint_name("aaln/*@mta-1.cable.example");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->all_of());
  EXPECT_FALSE(all->any_of());
  EXPECT_TRUE(all->covers(*e));
  EXPECT_FALSE(e->covers(*all));
  auto any = parse_endpoint_name("ds/ds1-1/$@tgw");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->any_of());
  EXPECT_TRUE(parse_endpoint_name("ds/*@tgw")->covers(*parse_endpoint_name("ds/ds1-1/7@TGW")));
  EXPECT_FALSE(parse_endpoint_name("ds/x/*@tgw")->covers(*parse_endpoint_name("ds/y/7@tgw")));
  EXPECT_TRUE(parse_endpoint_name("AALN/1@MTA-1.cable.example")->same_as(*e));
  std::string why;
  EXPECT_FALSE(parse_endpoint_name("aaln/1*@mta", &why));
  EXPECT_NE(why.find("wildcard"), std::string::npos);
  EXPECT_FALSE(parse_endpoint_name("aaln/1@", &why));
  EXPECT_FALSE(parse_endpoint_name("aaln 1@mta"));
  EXPECT_FALSE(parse_endpoint_name("/1@mta"));
  EXPECT_TRUE(parse_endpoint_name("aaln/1@[10.0.0.1]"));
  EXPECT_FALSE(parse_endpoint_name("aaln/1@[10.0.0]"));
  EXPECT_FALSE(parse_endpoint_name("aaln/1@[10.0.0.1"));
}

} // namespace
} // namespace cms::mgcp
