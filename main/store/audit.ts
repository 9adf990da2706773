import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from './db.js';

/*
 * The audit log, a keyed chain: row i's hash is HMAC-SHA256(K, hash of row i-1 ‖ canonical JSON of
 * row i), the first row chaining from GENESIS, with K derived from the store's data key (Sealer.macKey).
 * Without K nobody can write a row that verifies, so editing, forging, deleting or reordering rows is
 * named by verify. audit_head holds the newest row and its hash under a MAC of its own: the hash of an
 * older row is in plain sight, and without the MAC a forger could drop the newest rows and point the
 * head back at it. Details are written by the service and never carry secrets.
 *
 * Stores written before the chain had a key carry a plain SHA-256 chain; the migration that brings a
 * store to schema 4 verifies that chain and re-chains every row under K in the same transaction
 * (rechainUnkeyed), recording what it found.
 */

const GENESIS = '0'.repeat(64);

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly detail: unknown;
}

export type AuditVerdict =
  | { readonly ok: true; readonly rows: number }
  | { readonly ok: false; readonly rows: number; readonly firstBad: number; readonly reason: string };

/** JSON with object keys sorted at every depth, so the hash does not depend on insertion order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * canonicalJson of an entry, given its detail already canonical: the keys in sorted order written out,
 * so a detail listing 10^5 meters is serialised once per append rather than three times.
 */
const entryJson = (entry: Omit<AuditEntry, 'detail'>, detailJson: string) =>
  `{"action":${JSON.stringify(entry.action)},"actor":${JSON.stringify(entry.actor)},"at":${JSON.stringify(entry.at)},"detail":${detailJson},"id":${entry.id}}`;

const chainHash = (key: Uint8Array, previous: string, entry: AuditEntry): string => chainHashOf(key, previous, canonicalJson(entry));
const chainHashOf = (key: Uint8Array, previous: string, entryCanonical: string): string => createHmac('sha256', key).update(previous).update(entryCanonical).digest('hex');

const headMac = (key: Uint8Array, lastRow: number, hash: string): string => createHmac('sha256', key).update(`audit head ${lastRow} ${hash}`).digest('hex');

const sameHex = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

interface StoredRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  detail: string;
  hash: string;
}

function writeHead(db: Db, key: Uint8Array, lastRow: number, hash: string): void {
  db.prepare('INSERT INTO audit_head (id, last_row, hash, mac) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_row = excluded.last_row, hash = excluded.hash, mac = excluded.mac')
    .run(lastRow, hash, headMac(key, lastRow, hash));
}

/** Appends one entry; call inside the transaction of the action it records. */
export function appendAudit(db: Db, key: Uint8Array, actor: string, action: string, detail: unknown, at = new Date()): AuditEntry {
  const head = db.prepare('SELECT last_row, hash FROM audit_head WHERE id = 1').get() as { last_row: number; hash: string } | undefined;
  const detailJson = canonicalJson(detail);
  const fields = { id: (head?.last_row ?? 0) + 1, at: at.toISOString(), actor, action };
  const hash = chainHashOf(key, head?.hash ?? GENESIS, entryJson(fields, detailJson));
  const entry: AuditEntry = { ...fields, detail: JSON.parse(detailJson) as unknown };
  db.prepare('INSERT INTO audit_log (id, at, actor, action, detail, hash) VALUES (?, ?, ?, ?, ?, ?)').run(entry.id, entry.at, actor, action, detailJson, hash);
  writeHead(db, key, entry.id, hash);
  return entry;
}

export function auditEntries(db: Db): AuditEntry[] {
  const rows = db.prepare('SELECT id, at, actor, action, detail FROM audit_log ORDER BY id').all() as { id: number; at: string; actor: string; action: string; detail: string }[];
  return rows.map((row) => ({ ...row, detail: JSON.parse(row.detail) as unknown }));
}

/** Walks the chain in storage order, checks the head, and names the first thing that does not verify. */
export function verifyAudit(db: Db, key: Uint8Array): AuditVerdict {
  const rows = db.prepare('SELECT id, at, actor, action, detail, hash FROM audit_log ORDER BY rowid').all() as StoredRow[];
  const walked = walkChain(rows, (previous, entry) => chainHash(key, previous, entry));
  if (!walked.ok) return walked;
  const head = db.prepare('SELECT last_row, hash, mac FROM audit_head WHERE id = 1').get() as { last_row: number; hash: string; mac: string | null } | undefined;
  const end = rows.length;
  const bad = (reason: string): AuditVerdict => ({ ok: false, rows: end, firstBad: end + 1, reason });
  if (!head) return end === 0 ? { ok: true, rows: 0 } : bad(`the log has ${end} rows but no head: the head was deleted`);
  if (!head.mac || !sameHex(head.mac, headMac(key, head.last_row, head.hash))) return bad('the head does not match its MAC: it was rewritten by something without the store\'s key');
  if (head.last_row !== end || head.hash !== walked.last) {
    return bad(head.last_row > end ? `the log ends at row ${end} but its head records row ${head.last_row}: the newest rows were deleted` : `the log runs to row ${end} past its head at row ${head.last_row}: rows were added without the key`);
  }
  return { ok: true, rows: end };
}

function walkChain(rows: readonly StoredRow[], hashOf: (previous: string, entry: AuditEntry) => string): AuditVerdict & { last?: string } {
  let previous = GENESIS;
  for (const [index, row] of rows.entries()) {
    const bad = (reason: string): AuditVerdict => ({ ok: false, rows: rows.length, firstBad: row.id, reason });
    if (row.id !== index + 1) return bad(row.id > index + 1 ? `row ${index + 1} is missing before row ${row.id}` : `row ${row.id} stands after row ${index}: rows were reordered or duplicated`);
    let detail: unknown;
    try {
      detail = JSON.parse(row.detail);
    } catch {
      return bad(`row ${row.id} has a detail that is not JSON`);
    }
    if (!sameHex(hashOf(previous, { id: row.id, at: row.at, actor: row.actor, action: row.action, detail }), row.hash)) {
      return bad(`row ${row.id} does not match its MAC: it was edited or forged, or a row before it was replaced`);
    }
    previous = row.hash;
  }
  return { ok: true, rows: rows.length, last: previous };
}

/** What the store found in a chain written before the chain had a key, when it re-chained it. */
export interface Rechained {
  readonly rows: number;
  /** how the unkeyed chain verified before it was re-chained */
  readonly before: AuditVerdict;
}

/**
 * Re-chains an unkeyed (SHA-256) log under `key`, in the caller's transaction (the migration to
 * schema 4). The verdict on the old chain is recorded as the first keyed row's neighbour, so a log
 * that was already broken before it got its key says so for ever.
 */
export function rechainUnkeyed(db: Db, key: Uint8Array, actor: string): Rechained {
  const rows = db.prepare('SELECT rowid AS rowid, id, at, actor, action, detail, hash FROM audit_log ORDER BY rowid').all() as (StoredRow & { rowid: number })[];
  const head = db.prepare('SELECT last_row, hash FROM audit_head WHERE id = 1').get() as { last_row: number; hash: string } | undefined;
  const walked = walkChain(rows, (previous, entry) => createHash('sha256').update(previous).update(canonicalJson(entry)).digest('hex'));
  const before: AuditVerdict = !walked.ok
    ? walked
    : (head?.last_row ?? 0) !== rows.length || (head?.hash ?? GENESIS) !== walked.last
      ? { ok: false, rows: rows.length, firstBad: rows.length + 1, reason: `the log ended at row ${rows.length} but its head recorded row ${head?.last_row ?? 0}` }
      : { ok: true, rows: rows.length };
  const update = db.prepare('UPDATE audit_log SET hash = ? WHERE rowid = ?');
  let previous = GENESIS;
  for (const row of rows) {
    previous = chainHash(key, previous, { id: row.id, at: row.at, actor: row.actor, action: row.action, detail: parseOrRaw(row.detail) });
    update.run(previous, row.rowid);
  }
  if (rows.length > 0) writeHead(db, key, rows[rows.length - 1]!.id, previous);
  appendAudit(db, key, actor, 'audit chain keyed', { rows: rows.length, before: before.ok ? 'intact' : before.reason });
  return { rows: rows.length, before };
}

/** A detail that is not JSON keeps its text; verify names that row for ever after. */
function parseOrRaw(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
