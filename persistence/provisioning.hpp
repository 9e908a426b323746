#pragma once
// Provisioning data as plain structs: what the operator provisions (config/provisioning.toml) and
// the node loads at start. No behaviour here; routing and hunting live in the actors.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cms::persistence {

class database;

struct subscriber {
  std::string directory_number; ///< "5551001"
  std::string endpoint_name;    ///< "aaln/1@mta-0001.cable.example"
  std::string mta_fqdn;         ///< "mta-0001.cable.example"
  std::string mta_address;      ///< IP the MTA is reached on
  std::uint16_t mta_port = 2427;
  std::string display_name;
  std::string status = "active"; ///< "active" | "suspended"
  bool operator==(const subscriber& o) const;
};

struct carrier {
  std::string id;
  std::string name;
  bool operator==(const carrier& o) const { return id == o.id && name == o.name; }
};

struct gateway {
  std::string name; ///< MGCP domain of the trunking gateway
  std::string address;
  std::uint16_t port = 2427;
  std::string role; ///< "active" | "cold_spare"
  std::optional<std::string>
    spare_for;         ///< cold spare: the gateway it stands in for (none: any in segment)
  std::string segment; ///< "partner" | "local"
  bool operator==(const gateway& o) const;
};

struct facility {
  std::string id;
  std::string gateway;
  std::string kind; ///< "pri" | "ss7"
  std::string carrier;
  int span = 1;                               ///< DS1 number on the gateway
  int channels = 23;                          ///< bearer channels
  std::optional<std::string> backup_facility; ///< taken when this one is out of service
  bool operator==(const facility& o) const;
};

struct trunk_group_member {
  std::string facility;
  int priority = 1; ///< lower hunted first; equal values share load
  bool operator==(const trunk_group_member& o) const {
    return facility == o.facility && priority == o.priority;
  }
};

struct trunk_group {
  std::string id;
  std::string name;
  std::string segment;                     ///< "partner" | "local"
  std::vector<trunk_group_member> members; ///< ordered by priority, then facility id
  bool operator==(const trunk_group& o) const;
};

struct route {
  std::string prefix; ///< dialled-digit prefix; "" is the default route
  std::string trunk_group;
  int priority = 1; ///< within one prefix: lower tried first
  bool operator==(const route& o) const {
    return prefix == o.prefix && trunk_group == o.trunk_group && priority == o.priority;
  }
};

struct data_link {
  std::string name;
  std::string kind; ///< "primary" | "backup"
  std::string local_address;
  std::string remote_address;
  std::uint16_t remote_port = 0;
  bool operator==(const data_link& o) const;
};

/// A CMTS the gate controller speaks DQoS (COPS) to, and the MTAs behind it. An MTA whose address
/// is in no CMTS's `subnets`, or behind a CMTS with `dqos` false, gets best-effort access.
struct cmts {
  std::string name;                 ///< "cmts-north"
  std::string address;              ///< COPS address (IPv4)
  std::uint16_t port = 2126;        ///< COPS port
  bool dqos = true;                 ///< false: best effort, no gates for its MTAs
  std::vector<std::string> subnets; ///< MTA addresses or IPv4 subnets ("10.1.0.0/16", "10.2.0.7")
  bool operator==(const cmts& o) const {
    return name == o.name && address == o.address && port == o.port && dqos == o.dqos &&
           subnets == o.subnets;
  }
};

/// Everything provisioned, as loaded at start. Vectors are sorted by key (routes: by prefix length
/// descending, then priority) so consumers and tests see a stable order.
struct provisioning {
  std::vector<subscriber> subscribers;
  std::vector<carrier> carriers;
  std::vector<gateway> gateways;
  std::vector<facility> facilities;
  std::vector<trunk_group> trunk_groups;
  std::vector<route> routes;
  std::vector<data_link> data_links;
  std::vector<cmts> cmtses;
};

/// Reads provisioning tables. Holds a reference: the database must outlive the store.
class provisioning_store {
public:
  explicit provisioning_store(database& db) : db_(db) {}

  provisioning load_all();
  std::vector<subscriber> subscribers();
  std::optional<subscriber> subscriber_by_number(const std::string& directory_number);
  std::vector<carrier> carriers();
  std::vector<gateway> gateways();
  std::vector<facility> facilities();
  std::vector<trunk_group> trunk_groups();
  std::vector<route> routes();
  std::vector<data_link> data_links();
  std::vector<cmts> cmtses();

private:
  database& db_;
};

} // namespace cms::persistence
