/**
 * Numbered schema migrations: MIGRATIONS[i] takes the store from version i to i + 1, in one
 * transaction. Append only; a shipped migration is never edited.
 *
 * Secret columns are named sealed_* and hold AES-GCM boxes (sealing.ts). Members carry no key
 * material: node keys live only inside the sealed KM state.
 */
/** "GREP" in the SQLite header: what tells a Key Manager store from any other SQLite file (db.ts). */
export const APPLICATION_ID = 0x47524550;

export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE keyring (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      salt BLOB NOT NULL, cost INTEGER NOT NULL, block_size INTEGER NOT NULL, parallelism INTEGER NOT NULL,
      wrapped_data_key BLOB NOT NULL)`,
    `CREATE TABLE groups (
      id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, subgroup_cap INTEGER NOT NULL, epoch INTEGER NOT NULL,
      km_public_key BLOB NOT NULL, sealed_state BLOB NOT NULL, sealed_signing_key BLOB NOT NULL)`,
    `CREATE TABLE members (
      group_id INTEGER NOT NULL REFERENCES groups(id), meter_id INTEGER NOT NULL, serial TEXT NOT NULL, model TEXT NOT NULL,
      subgroup INTEGER NOT NULL, position INTEGER NOT NULL, joined_epoch INTEGER NOT NULL, removed_epoch INTEGER,
      status TEXT NOT NULL CHECK (status IN ('member', 'left', 'recovered')),
      PRIMARY KEY (group_id, meter_id))`,
    `CREATE TABLE sync_state (
      group_id INTEGER NOT NULL REFERENCES groups(id), meter_id INTEGER NOT NULL, acked_epoch INTEGER, fingerprint TEXT,
      last_seen TEXT, status TEXT NOT NULL CHECK (status IN ('in sync', 'lagging', 'unreachable', 'removed')),
      PRIMARY KEY (group_id, meter_id))`,
    `CREATE TABLE rekey_history (
      id INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER NOT NULL REFERENCES groups(id), plan_id TEXT NOT NULL,
      operation TEXT NOT NULL, epoch_from INTEGER NOT NULL, epoch_to INTEGER NOT NULL, messages TEXT NOT NULL,
      bytes INTEGER NOT NULL, actor TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, duration_ms INTEGER,
      result TEXT NOT NULL)`,
    // AUTOINCREMENT: an outbox id is a transfer id, and the DC drops ids it has seen, so none is ever reused
    `CREATE TABLE outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER NOT NULL REFERENCES groups(id), epoch INTEGER NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('broadcast', 'unicast', 'keyUpdate')), member INTEGER,
      payload BLOB NOT NULL, state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')))`,
    `CREATE INDEX outbox_pending ON outbox (group_id, state, id)`,
    `CREATE TABLE audit_log (
      id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL,
      hash TEXT NOT NULL)`,
    // the chain's head, so that deleting the newest rows is detected too
    `CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), last_row INTEGER NOT NULL, hash TEXT NOT NULL)`,
    `CREATE TABLE dc_profiles (
      name TEXT PRIMARY KEY, transport TEXT NOT NULL CHECK (transport IN ('tcp', 'serial')), host TEXT, port INTEGER,
      serial_path TEXT, baud INTEGER, sealed_pairing_key BLOB NOT NULL)`,
    `CREATE TABLE plans (
      id TEXT PRIMARY KEY, group_id INTEGER NOT NULL REFERENCES groups(id), operation TEXT NOT NULL,
      parameters TEXT NOT NULL, sealed_secrets BLOB, epoch INTEGER NOT NULL, created_at TEXT NOT NULL, consumed_at TEXT)`,
  ],
  // group commands (GREP.md §10): a meter executes only a seq above the last one it executed, so the seq must survive restarts
  ['ALTER TABLE groups ADD COLUMN command_seq INTEGER NOT NULL DEFAULT 0'],
  // firmware campaigns (GREP.md §10): staged packages, the vendor keys staging trusts, campaigns as the
  // engine's JSON state with their sealed content key, and per model the highest sequence activated
  // (anti-rollback for later staging)
  [
    `CREATE TABLE firmware_keys (
      id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT NOT NULL, public_key BLOB NOT NULL UNIQUE, added_at TEXT NOT NULL)`,
    // the package as staged, byte for byte: the campaign's frames are cut from it and the vendor signature is over it
    `CREATE TABLE firmware_packages (
      id INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER NOT NULL REFERENCES groups(id), vendor TEXT NOT NULL, model TEXT NOT NULL,
      version TEXT NOT NULL, sequence INTEGER NOT NULL, size INTEGER NOT NULL, digest TEXT NOT NULL, package_digest TEXT NOT NULL,
      bytes BLOB NOT NULL, staged_at TEXT NOT NULL)`,
    // AUTOINCREMENT: the id is the campaign id in every frame, and a meter's slot keys on it
    `CREATE TABLE firmware_campaigns (
      id INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER NOT NULL REFERENCES groups(id),
      package_id INTEGER NOT NULL REFERENCES firmware_packages(id), block_size INTEGER NOT NULL, sealed_kfw BLOB NOT NULL,
      audience TEXT NOT NULL, status TEXT NOT NULL, state TEXT NOT NULL, round_sends TEXT NOT NULL, sent_bytes INTEGER NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    `CREATE TABLE firmware_versions (
      group_id INTEGER NOT NULL REFERENCES groups(id), model TEXT NOT NULL, sequence INTEGER NOT NULL, version TEXT NOT NULL,
      campaign_id INTEGER NOT NULL, activated_at TEXT NOT NULL, PRIMARY KEY (group_id, model))`,
  ],
  // the store marks itself as ours (db.ts checkOurs), and the audit chain is keyed (audit.ts): the head
  // carries a MAC over (last row, hash) so dropping the newest rows is caught; rows written before this
  // version are re-chained under the key on the first open that has it (KmStore.open)
  [
    `PRAGMA application_id = ${APPLICATION_ID}`,
    'ALTER TABLE audit_head ADD COLUMN mac TEXT',
  ],
  // the outbox is the replay log (GREP.md §7, §11): each row says why it was sent and, for a GREP
  // message, its type and audience, so convergence replays from stored rows after a restart; rows from
  // before this version are 'legacy': sent again if pending, never replayed, pruned once accepted
  [
    `ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'legacy' CHECK (purpose IN ('legacy', 'rekey', 'repair', 'key', 'command', 'firmware'))`,
    'ALTER TABLE outbox ADD COLUMN message TEXT',
    'CREATE INDEX outbox_log ON outbox (group_id, purpose, epoch)',
  ],
  // which vendor keys each meter model's meters trust (modelKeys.ts): staging and push refuse a
  // package the model's meters would reject. The simulator's models (sim/fleet.ts METER_MODELS) trust the
  // demo vendor key (resources/firmware/demo-vendor.pub): recorded for every group there is and, by the
  // trigger, every group created later. The record adds no trust of its own: staging still needs the
  // key among the staging-trusted keys (firmware_keys)
  [
    `CREATE TABLE model_trusted_keys (
      group_id INTEGER NOT NULL REFERENCES groups(id), model TEXT NOT NULL, public_key BLOB NOT NULL, label TEXT NOT NULL,
      added_at TEXT NOT NULL, PRIMARY KEY (group_id, model, public_key))`,
    `CREATE VIEW demo_model_trust (model, public_key, label) AS
      SELECT column1, x'cabf0338117450f0841f46a03d57dae4a2cdbe35b3768f64fc70339e8addb15b', 'demo vendor (simulator)'
      FROM (VALUES ('GX-110 single-phase'), ('GX-310 three-phase'), ('GX-320 three-phase CT'), ('GX-90 prepayment'))`,
    `INSERT INTO model_trusted_keys (group_id, model, public_key, label, added_at)
      SELECT groups.id, model, public_key, label, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM groups, demo_model_trust`,
    `CREATE TRIGGER groups_demo_model_trust AFTER INSERT ON groups BEGIN
      INSERT INTO model_trusted_keys (group_id, model, public_key, label, added_at)
      SELECT NEW.id, model, public_key, label, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM demo_model_trust;
    END`,
  ],
  // a sync state the meters have not confirmed since the DC link came back is 'unknown' (shown so
  // until they are heard from): SQLite cannot widen a CHECK in place, so the table is rebuilt
  [
    `CREATE TABLE sync_state_v7 (
      group_id INTEGER NOT NULL REFERENCES groups(id), meter_id INTEGER NOT NULL, acked_epoch INTEGER, fingerprint TEXT,
      last_seen TEXT, status TEXT NOT NULL CHECK (status IN ('in sync', 'lagging', 'unreachable', 'unknown', 'removed')),
      PRIMARY KEY (group_id, meter_id))`,
    'INSERT INTO sync_state_v7 SELECT group_id, meter_id, acked_epoch, fingerprint, last_seen, status FROM sync_state',
    'DROP TABLE sync_state',
    'ALTER TABLE sync_state_v7 RENAME TO sync_state',
  ],
  // each meter's disconnector as its last command confirmation said (GREP.md §10): kept, so a restart
  // does not turn every disconnector back to "unknown"; a confirmation of an older seq never overrides
  [
    `CREATE TABLE disconnector_states (
      group_id INTEGER NOT NULL REFERENCES groups(id), meter_id INTEGER NOT NULL, state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
      seq INTEGER NOT NULL, reported_at TEXT NOT NULL, PRIMARY KEY (group_id, meter_id))`,
  ],
  // a group is bound to the DC its meters sit behind: commands on it pick that DC without --dc
  ['ALTER TABLE groups ADD COLUMN dc_profile TEXT'],
];
