#include "test/tools/cmtssim/radius_em_sender.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <iostream>

namespace cms::cmtssim {

namespace asio = boost::asio;

namespace {

asio::ip::udp::endpoint endpoint_of(std::uint32_t ip, std::uint16_t port) {
  return {asio::ip::address_v4{ip}, port};
}

/// QoS_Descriptor: the upstream flowspec's token rate, bucket and maximum packet as parameters
/// would need the full bitmask table; the class name alone tells the RKS which session class.
radius::qos_descriptor descriptor_of(const gate& g) {
  radius::qos_descriptor q;
  q.status_bitmask = g.state == gate_state::committed ? 2 : 1; // committed / reserved
  const auto* up = g.upstream();
  q.service_class_name = up && up->session_class == 2 ? "high-priority" : "voice";
  return q;
}

} // namespace

radius_em_sender::radius_em_sender(asio::io_context& io, std::string secret, std::string element_id)
  : io_(io),
    secret_(std::move(secret)),
    element_id_(element_id.substr(0, 8)) {}

radius_em_sender::~radius_em_sender() { stop(); }

void radius_em_sender::stop() {
  for (auto& [key, c] : clients_)
    c->stop();
  clients_.clear();
}

std::shared_ptr<radius::accounting_client>
radius_em_sender::client_for(const cops::event_generation_info& e) {
  auto key = std::make_pair((std::uint64_t{e.primary_rks_ip} << 16) | e.primary_rks_port,
                            (std::uint64_t{e.secondary_rks_ip} << 16) | e.secondary_rks_port);
  if (auto it = clients_.find(key); it != clients_.end())
    return it->second;
  radius::accounting_client_options o;
  o.primary = {endpoint_of(e.primary_rks_ip, e.primary_rks_port), secret_};
  if (e.secondary_rks_ip != 0 && e.secondary_rks_port != 0)
    o.secondary = radius::rks_peer{endpoint_of(e.secondary_rks_ip, e.secondary_rks_port), secret_};
  o.source_ports = 1;
  auto c = radius::accounting_client::create(io_, std::move(o));
  clients_.emplace(key, c);
  return c;
}

void radius_em_sender::send(const gate& g, radius::em_type type) {
  if (!g.event_generation || g.event_generation->primary_rks_ip == 0 ||
      g.event_generation->primary_rks_port == 0) {
    ++skipped_;
    return;
  }
  const auto& e = *g.event_generation;
  std::string error;
  auto id = radius::bcid::decode(radius::byte_view{e.bcid.data(), e.bcid.size()}, &error);
  if (!id) {
    ++skipped_;
    std::cerr << "cmtssim: gate " << g.id << " carries an undecodable BCID: " << error << "\n";
    return;
  }
  radius::event_message em;
  em.header.billing_correlation_id = *id;
  em.header.type = type;
  em.header.element_type = static_cast<std::uint16_t>(radius::element_type::cmts);
  em.header.element_id = element_id_;
  em.header.sequence = ++sequence_;
  em.header.event_time = radius::format_event_time(std::chrono::system_clock::now());
  em.attributes.push_back(radius::attr::qos(descriptor_of(g)));
  std::shared_ptr<radius::accounting_client> client;
  try {
    client = client_for(e);
  } catch (const std::exception& ex) {
    ++skipped_;
    std::cerr << "cmtssim: no RKS client: " << ex.what() << "\n";
    return;
  }
  ++*sent_;
  client->send("gate-" + std::to_string(g.id) + "-" + std::to_string(static_cast<int>(type)), em,
               [acked = acked_, failed = failed_](const radius::send_result& r) {
                 ++*(r.ok ? acked : failed);
               });
}

void radius_em_sender::qos_reserve(const gate& g) { send(g, radius::em_type::qos_reserve); }
void radius_em_sender::qos_commit(const gate& g) { send(g, radius::em_type::qos_commit); }
void radius_em_sender::qos_release(const gate& g, const std::string&) {
  send(g, radius::em_type::qos_release);
}

boost::json::value radius_em_sender::counters_json() const {
  return boost::json::object{{"sent", sent_->load()},
                             {"acked", acked_->load()},
                             {"failed", failed_->load()},
                             {"skipped", skipped_}};
}

} // namespace cms::cmtssim
