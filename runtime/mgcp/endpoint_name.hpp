#pragma once
// Endpoint names (RFC 3435 2.1.1/2.1.2, Appendix A): "localname@domain", the local name a sequence
// of "/"-separated terms of which any may be the wildcard "*" (all of) or "$" (any of).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cms::mgcp {

constexpr std::size_t max_local_name = 255;  ///< local endpoint name, RFC 3435 Appendix A
constexpr std::size_t max_domain_name = 255; ///< domain part, RFC 3435 Appendix A / RFC 1035

struct endpoint_name {
  std::vector<std::string> terms; ///< "aaln", "1" for "aaln/1@mta.example"
  std::string domain;             ///< "mta.example" or "[10.0.0.1]", verbatim

  /// Some term is "*" or "$": the name addresses several endpoints (or lets the gateway choose).
  bool wildcarded() const noexcept;
  /// Some term is "*" ("all of").
  bool all_of() const noexcept;
  /// Some term is "$" ("any of").
  bool any_of() const noexcept;
  std::string local_name() const;
  std::string to_string() const;
  /// RFC 3435 says endpoint names are case-insensitive.
  bool same_as(const endpoint_name& other) const noexcept;
  /// True when `concrete` (no wildcard) is one of the endpoints this (possibly wildcarded) name
  /// designates: "aaln/*@mta" covers "aaln/2@mta".
  bool covers(const endpoint_name& concrete) const noexcept;
};

/// nullopt with `why` filled when the text is not a valid endpoint name.
std::optional<endpoint_name> parse_endpoint_name(std::string_view text, std::string* why = nullptr);

/// DomainName of RFC 3435 Appendix A: host name, "#number" or "[IPv4/IPv6 literal]".
bool valid_domain_name(std::string_view domain) noexcept;

} // namespace cms::mgcp
