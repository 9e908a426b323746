#pragma once
// Endpoint name -> current endpoint actor. Read on the MGCP io thread for every inbound command
// (shared lock, no actor round trip), written only when an endpoint actor starts or restarts.
// Also the dial plan's view of the lines: a call finds the called line's actor here.

#include "runtime/mgcp/endpoint_name.hpp"

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
  /// Drops every entry (shutdown: the handles keep actors alive).
  void clear();

private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, caf::actor> by_name_;
  /// domain -> names on that MTA, for wildcard fan-out.
  std::multimap<std::string, std::string> by_domain_;
};

} // namespace cms::actors
