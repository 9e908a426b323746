#pragma once
// Endpoint name -> current endpoint actor. Read on the MGCP io thread for every inbound command
// (shared lock, no actor round trip), written only when an endpoint actor starts or restarts.
// Also the dial plan's view of the lines: a call finds the called line's actor here.

#include "runtime/mgcp/endpoint_name.hpp"

#include <boost/asio/ip/address.hpp>

#include <caf/actor.hpp>

#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cms::actors {

class endpoint_directory {
public:
  /// Registers (or replaces, after a restart) the actor of `name` (case-insensitive).
  void put(const std::string& name, caf::actor handle);
  /// Removes `name` only while it still maps to `handle` (a restarted actor may have replaced it).
  void erase(const std::string& name, const caf::actor& handle);
  /// The actor of a concrete endpoint name, or an invalid handle.
  caf::actor find(std::string_view name) const;
  /// Every registered line a wildcarded name covers ("*@mta", "aaln/*@mta").
  std::vector<caf::actor> covered_by(const mgcp::endpoint_name& wildcard) const;
  std::size_t size() const;

  /// Binds an MGCP domain (an MTA's FQDN, a trunking gateway's name) to an address its commands
  /// may come from (provisioning; a domain may get several). Checked on the io thread before a
  /// command reaches any actor: a forged RSIP or NTFY then costs a counter, not a state change.
  void bind_source(const std::string& domain, const boost::asio::ip::address& address);
  enum class source_check { unbound, allowed, refused };
  /// Whether a command for `domain` may come from `from` (unbound: no address is provisioned).
  source_check check_source(std::string_view domain, const boost::asio::ip::address& from) const;
  /// Drops every entry (shutdown: the handles keep actors alive).
  void clear();

private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, caf::actor> by_name_;
  /// domain -> names on that MTA, for wildcard fan-out.
  std::multimap<std::string, std::string> by_domain_;
  /// domain -> the addresses its commands may come from.
  std::unordered_map<std::string, std::vector<boost::asio::ip::address>> sources_;
};

} // namespace cms::actors
