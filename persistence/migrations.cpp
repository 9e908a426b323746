#include "persistence/migrations.hpp"

#include "persistence/database.hpp"

namespace cms::persistence {

namespace {

/// Migration 1: the whole product schema. Text keys everywhere an operator types them (directory
/// numbers keep leading zeros; facility and trunk group ids are names people read in logs).
const char* const schema_v1 = R"sql(
CREATE TABLE carriers (
  id   TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE subscribers (
  directory_number TEXT PRIMARY KEY NOT NULL,
  endpoint_name    TEXT NOT NULL UNIQUE,          -- "aaln/1@mta-0001.cable.example"
  mta_fqdn         TEXT NOT NULL,
  mta_address      TEXT NOT NULL,
  mta_port         INTEGER NOT NULL DEFAULT 2427 CHECK (mta_port BETWEEN 1 AND 65535),
  display_name     TEXT NOT NULL DEFAULT '',
  status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended'))
) WITHOUT ROWID;
CREATE INDEX subscribers_by_mta ON subscribers(mta_fqdn);

CREATE TABLE gateways (
  name      TEXT PRIMARY KEY NOT NULL,             -- MGCP domain name of the trunking gateway
  address   TEXT NOT NULL,
  port      INTEGER NOT NULL DEFAULT 2427 CHECK (port BETWEEN 1 AND 65535),
  role      TEXT NOT NULL CHECK (role IN ('active', 'cold_spare')),
  spare_for TEXT REFERENCES gateways(name) DEFERRABLE INITIALLY DEFERRED,
  segment   TEXT NOT NULL CHECK (segment IN ('partner', 'local')),
  CHECK (spare_for IS NULL OR role = 'cold_spare')
) WITHOUT ROWID;

CREATE TABLE facilities (
  id              TEXT PRIMARY KEY NOT NULL,
  gateway         TEXT NOT NULL REFERENCES gateways(name) DEFERRABLE INITIALLY DEFERRED,
  kind            TEXT NOT NULL CHECK (kind IN ('pri', 'ss7')),
  carrier         TEXT NOT NULL REFERENCES carriers(id) DEFERRABLE INITIALLY DEFERRED,
  span            INTEGER NOT NULL CHECK (span >= 1),       -- DS1 number on the gateway
  channels        INTEGER NOT NULL CHECK (channels BETWEEN 1 AND 31),
  backup_facility TEXT REFERENCES facilities(id) DEFERRABLE INITIALLY DEFERRED,
  UNIQUE (gateway, span),
  CHECK (backup_facility IS NULL OR backup_facility <> id)
) WITHOUT ROWID;

CREATE TABLE trunk_groups (
  id      TEXT PRIMARY KEY NOT NULL,
  name    TEXT NOT NULL,
  segment TEXT NOT NULL CHECK (segment IN ('partner', 'local'))
) WITHOUT ROWID;

CREATE TABLE trunk_group_members (
  trunk_group TEXT NOT NULL REFERENCES trunk_groups(id) DEFERRABLE INITIALLY DEFERRED,
  facility    TEXT NOT NULL REFERENCES facilities(id) DEFERRABLE INITIALLY DEFERRED,
  priority    INTEGER NOT NULL,                   -- lower is hunted first; equal shares load
  PRIMARY KEY (trunk_group, facility)
) WITHOUT ROWID;

-- Longest-prefix routing: the longest prefix matching the dialled number selects a route list,
-- tried in priority order. The empty prefix is the default route.
CREATE TABLE routes (
  prefix      TEXT NOT NULL,
  trunk_group TEXT NOT NULL REFERENCES trunk_groups(id) DEFERRABLE INITIALLY DEFERRED,
  priority    INTEGER NOT NULL,
  PRIMARY KEY (prefix, trunk_group)
) WITHOUT ROWID;

CREATE TABLE data_links (
  name           TEXT PRIMARY KEY NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('primary', 'backup')),
  local_address  TEXT NOT NULL,
  remote_address TEXT NOT NULL,
  remote_port    INTEGER NOT NULL CHECK (remote_port BETWEEN 1 AND 65535)
) WITHOUT ROWID;

-- Billing outbox: written in the same transaction as the call state change, replicated to the
-- standby, then sent to the RKS. AUTOINCREMENT so a sequence is never reused after purging.
CREATE TABLE billing_outbox (
  sequence         INTEGER PRIMARY KEY AUTOINCREMENT,
  record_id        TEXT NOT NULL UNIQUE,
  event            TEXT NOT NULL,
  call_id          TEXT NOT NULL,
  calling_number   TEXT NOT NULL DEFAULT '',
  called_number    TEXT NOT NULL DEFAULT '',
  originating      TEXT NOT NULL DEFAULT '',
  terminating      TEXT NOT NULL DEFAULT '',
  route            TEXT NOT NULL DEFAULT '',
  carrier          TEXT NOT NULL DEFAULT '',
  timestamp_ms     INTEGER NOT NULL,
  release_cause    INTEGER NOT NULL DEFAULT 0,
  connection_stats TEXT NOT NULL DEFAULT '',
  created_ms       INTEGER NOT NULL,
  replicated       INTEGER NOT NULL DEFAULT 0 CHECK (replicated IN (0, 1)),
  sent             INTEGER NOT NULL DEFAULT 0 CHECK (sent IN (0, 1))
);
CREATE INDEX billing_outbox_unsent ON billing_outbox(sequence) WHERE sent = 0;

CREATE TABLE ha_meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value NOT NULL                                   -- untyped: integers and text
) WITHOUT ROWID;
INSERT INTO ha_meta (key, value) VALUES ('epoch', 0);

-- Snapshots of replicated actor state (calls, registrations...), tagged with the epoch and
-- per-key sequence they were produced under so a stale update can be recognised.
CREATE TABLE actor_state (
  kind  TEXT NOT NULL,
  key   TEXT NOT NULL,
  data  BLOB NOT NULL,
  epoch INTEGER NOT NULL,
  seq   INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
)sql";

// The operator's administrative states that must survive a restart (runtime/admin_state_store):
// POST /admin/drain ('node', 'calls', 'draining') and POST /admin/{links,gateways}/NAME/
// out-of-service ('data_link' | 'gateway', NAME, 'out_of_service'). A row exists only while the
// object is not in its normal state; returning it deletes the row.
const char* const schema_v2 = R"sql(
CREATE TABLE admin_state (
  kind     TEXT NOT NULL CHECK (kind IN ('node', 'data_link', 'gateway')),
  name     TEXT NOT NULL,
  state    TEXT NOT NULL CHECK (state IN ('draining', 'out_of_service')),
  since_ms INTEGER NOT NULL,
  reason   TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
)sql";

// Acknowledgements from the standby mark records replicated several times a second
// (outbox::mark_replicated). Without this index each mark scanned the outbox from sequence 1 while
// holding the write lock: at 300,000 rows the soak's billing writes waited out their 2 s busy
// timeout about once a minute. Only the unacknowledged tail is indexed, like billing_outbox_unsent.
const char* const schema_v3 = R"sql(
CREATE INDEX billing_outbox_unreplicated ON billing_outbox(sequence) WHERE replicated = 0;
)sql";

// The CMTSs of the DQoS gate controller (provisioning [[cmts]]): where each one's COPS listener
// is, whether its MTAs get gates, and the MTA subnets behind it (space-separated).
const char* const schema_v4 = R"sql(
CREATE TABLE cmts (
  name    TEXT PRIMARY KEY,
  address TEXT NOT NULL,
  port    INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  dqos    INTEGER NOT NULL CHECK (dqos IN (0, 1)),
  subnets TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
)sql";

// Time_Change event messages (docs/billing.md): a call's record of a wall-clock step carries
// the step in milliseconds.
const char* const schema_v5 = R"sql(
ALTER TABLE billing_outbox ADD COLUMN time_adjustment_ms INTEGER NOT NULL DEFAULT 0;
)sql";

} // namespace

const std::vector<migration>& schema_migrations() {
  static const std::vector<migration> steps = {
    {1, "provisioning, billing outbox and HA metadata", schema_v1},
    {2, "operator admin states (drain, out of service)", schema_v2},
    {3, "index of the billing records not yet replicated", schema_v3},
    {4, "CMTSs of the DQoS gate controller", schema_v4},
    {5, "wall-clock steps of billing records (Time_Change)", schema_v5},
  };
  return steps;
}

int latest_schema_version() { return schema_migrations().back().version; }

int apply_migrations(database& db, const std::vector<migration>& steps) {
  int applied = 0;
  int expected = 1;
  for (const auto& step : steps) {
    if (step.version != expected++)
      throw store_error(store_errc::migration_failed,
                        db.file().string() + ": migration list is not numbered 1, 2, 3... (found " +
                          std::to_string(step.version) + ")");
  }
  for (const auto& step : steps) {
    transaction tx(db, transaction::mode::immediate);
    // Re-read inside the transaction: another process may have migrated meanwhile.
    if (step.version <= db.schema_version())
      continue;
    try {
      if (step.version == 1)
        db.exec("PRAGMA application_id = " + std::to_string(cms_application_id));
      db.exec(step.sql);
      db.exec("PRAGMA user_version = " + std::to_string(step.version));
      tx.commit();
    } catch (const store_error& e) {
      if (e.code() == store_errc::locked)
        throw;
      throw store_error(store_errc::migration_failed,
                        "migration " + std::to_string(step.version) + " (" + step.description +
                          ") failed, database left at version " + std::to_string(step.version - 1) +
                          ": " + e.what());
    }
    ++applied;
  }
  return applied;
}

} // namespace cms::persistence
