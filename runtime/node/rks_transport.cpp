#include "runtime/node/rks_transport.hpp"

#include <boost/asio/ip/udp.hpp>

#include <stdexcept>

namespace cms {

namespace {

namespace asio = boost::asio;

/// The first address of `hp` (a name is resolved once, at start: the RKS pair is provisioned,
/// not discovered).
asio::ip::udp::endpoint resolve(asio::io_context& io, const config::host_port& hp) {
  asio::ip::udp::resolver resolver{io};
  boost::system::error_code ec;
  auto results = resolver.resolve(hp.host, std::to_string(hp.port), ec);
  if (ec || results.empty())
    throw std::runtime_error("cannot resolve RKS " + hp.host + ": " + ec.message());
  return *results.begin();
}

} // namespace

std::shared_ptr<billing::radius_sender> make_radius_sender(asio::io_context& io,
                                                           const config::node_config& cfg,
                                                           const std::filesystem::path& db_file,
                                                           metrics::registry& metrics) {
  const auto& b = cfg.billing;
  billing::radius_sender_settings s;
  s.primary = billing::rks_endpoint{b.rks_primary->host, b.rks_primary->port};
  s.client.primary = radius::rks_peer{resolve(io, *b.rks_primary), b.secret};
  if (b.rks_secondary) {
    s.secondary = billing::rks_endpoint{b.rks_secondary->host, b.rks_secondary->port};
    s.client.secondary = radius::rks_peer{resolve(io, *b.rks_secondary), b.secret};
  }
  s.client.retry_interval = b.retry_interval;
  s.client.retry_count = static_cast<unsigned>(b.retry_count);
  s.client.source_ports = static_cast<std::size_t>(b.source_ports);
  s.client.dscp = cfg.management.dscp;
  // NAS-IP-Address: the call agent's address when it is a concrete IPv4 address.
  boost::system::error_code ec;
  auto nas = asio::ip::make_address(cfg.mgcp.bind, ec);
  if (!ec && nas.is_v4() && !nas.is_unspecified())
    s.client.envelope.nas_ip_v4 = nas.to_v4().to_uint();
  s.identity.element_id =
    b.element_id.empty() ? billing::default_element_id(cfg.node.cluster_id) : b.element_id;
  s.identity.time_zone = b.time_zone;
  s.identity.financial_entity_id = b.financial_entity_id;
  s.db_file = db_file;
  return std::make_shared<billing::radius_sender>(io, std::move(s), &metrics);
}

} // namespace cms
