-- PacketCable Event Message store of the test/lab RKS (FreeRADIUS 3.2 + rlm_sql_sqlite).
-- One row per distinct EM: the UNIQUE key is what the spec says identifies an EM (BCID, EM type,
-- sequence number), so a retransmitted or replayed Accounting-Request is stored once
-- (INSERT OR IGNORE) but still answered.
CREATE TABLE IF NOT EXISTS event_message (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  client_ip        TEXT    NOT NULL,          -- source address of the Accounting-Request
  bcid             TEXT    NOT NULL,          -- 24-octet BCID, 48 lower-case hex digits
  bcid_timestamp   INTEGER NOT NULL,          -- BCID octets 0..3
  bcid_element_id  TEXT    NOT NULL,          -- BCID octets 4..11 (ASCII, right-justified)
  bcid_counter     INTEGER NOT NULL,          -- BCID octets 20..23
  em_type          INTEGER NOT NULL,          -- EM header octets 26..27
  element_type     INTEGER NOT NULL,          -- EM header octets 28..29 (1 = CMS)
  element_id       TEXT    NOT NULL,          -- EM header octets 30..37
  sequence         INTEGER NOT NULL,          -- EM header octets 46..49
  event_time       TEXT    NOT NULL,          -- EM header octets 50..67, yyyymmddhhmmss.mmm
  status           INTEGER NOT NULL,          -- EM header octets 68..71
  attribute_count  INTEGER NOT NULL,          -- EM header octets 73..74
  em_header_hex    TEXT    NOT NULL,          -- the whole 76-octet CableLabs-Event-Message
  acct_status_type TEXT,
  acct_session_id  TEXT,
  nas_ip           TEXT,
  mta_endpoint     TEXT,                      -- CableLabs-MTA-Endpoint-Name (3)
  calling_party    TEXT,                      -- CableLabs-Calling-Party-Number (4)
  called_party     TEXT,                      -- CableLabs-Called-Party-Number (5)
  routing_number   TEXT,                      -- CableLabs-Routing-Number (25)
  charge_number    TEXT,                      -- CableLabs-Charge-Number (16)
  direction        TEXT,                      -- CableLabs-Direction-indicator (37)
  termination_source_document INTEGER,        -- CableLabs-Call-Termination-Cause (11) octets 0..1
  termination_cause INTEGER,                  -- CableLabs-Call-Termination-Cause (11) octets 2..5
  trunk_type       INTEGER,                   -- CableLabs-Trunk-Group-ID (24) octets 0..1
  trunk_number     INTEGER,                   -- CableLabs-Trunk-Group-ID (24) octets 2..5
  related_bcid     TEXT,                      -- CableLabs-Related-Call-Billing-Crl-ID (13), hex
  attributes       TEXT,                      -- every request attribute, FreeRADIUS %{pairs:}
  UNIQUE (bcid, em_type, sequence)
);
