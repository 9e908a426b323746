#pragma once
// The node's billing transport from its configuration: [billing] rks_primary / rks_secondary
// resolved once at start, the shared secret (read_node_secrets), the RADIUS retry rule, the EM
// identity of the pair (element id, time zone) and the management DSCP.

#include "actors/billing/radius_sender.hpp"
#include "runtime/base/config.hpp"

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>

namespace cms {

/// Throws std::runtime_error when an RKS address does not resolve or a socket cannot be opened.
std::shared_ptr<billing::radius_sender> make_radius_sender(boost::asio::io_context& io,
                                                           const config::node_config& cfg,
                                                           const std::filesystem::path& db_file,
                                                           metrics::registry& metrics);

} // namespace cms
