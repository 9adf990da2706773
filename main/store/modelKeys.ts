import type { Db } from './db.js';

/*
 * Which vendor signing keys the meters of each model were provisioned to trust, per group (issue 15).
 * A meter checks a firmware image's signature against its factory keys only at the very end of a
 * campaign, so the Key Manager keeps what it was told about those keys and refuses, before a frame
 * goes out, a package the target model's meters would reject. Table model_trusted_keys (migration 5):
 * the demo fleet's models (sim/fleet.ts METER_MODELS) are recorded with the demo vendor key
 * (resources/firmware/demo-vendor.pub) for every group, by the migration and by a trigger on new groups.
 */

export interface ModelTrustRecord {
  readonly model: string;
  readonly label: string;
  readonly publicKey: Uint8Array;
  readonly addedAt: string;
}

interface Row {
  readonly model: string;
  readonly label: string;
  readonly public_key: Buffer;
  readonly added_at: string;
}

const record = (row: Row): ModelTrustRecord => ({ model: row.model, label: row.label, publicKey: new Uint8Array(row.public_key), addedAt: row.added_at });

/** Records that the model's meters trust the key; a key already recorded for the model keeps its first label. Returns whether it was added. */
export function recordModelTrust(db: Db, groupId: number, trust: { readonly model: string; readonly label: string; readonly publicKey: Uint8Array }, at: Date): boolean {
  return db.prepare('INSERT INTO model_trusted_keys (group_id, model, public_key, label, added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
    .run(groupId, trust.model, trust.publicKey, trust.label, at.toISOString()).changes === 1;
}

/** Every model's recorded keys, by model then in the order they were recorded. */
export function modelTrust(db: Db, groupId: number): ModelTrustRecord[] {
  const rows = db.prepare('SELECT model, label, public_key, added_at FROM model_trusted_keys WHERE group_id = ? ORDER BY model, rowid').all(groupId) as Row[];
  return rows.map(record);
}

/** The keys recorded for one model: none means nobody told the Key Manager what its meters trust. */
export function keysTrustedByModel(db: Db, groupId: number, model: string): ModelTrustRecord[] {
  const rows = db.prepare('SELECT model, label, public_key, added_at FROM model_trusted_keys WHERE group_id = ? AND model = ? ORDER BY rowid').all(groupId, model) as Row[];
  return rows.map(record);
}
