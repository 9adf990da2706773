import { createHash } from 'node:crypto';
import type { Db } from './db.js';

/*
 * The hash-chained audit log: row i's hash is SHA-256(hash of row i-1 ‖ canonical JSON of row i), the
 * first row chaining from GENESIS, and audit_head holds the newest row and hash. Editing a row breaks
 * its own hash, deleting or reordering rows breaks the next row's link, and deleting the newest rows
 * leaves the head pointing past the end. Details are written by the service and never carry secrets.
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

function chainHash(previous: string, entry: AuditEntry): string {
  return createHash('sha256').update(previous).update(canonicalJson(entry)).digest('hex');
}

/** Appends one entry; call inside the transaction of the action it records. */
export function appendAudit(db: Db, actor: string, action: string, detail: unknown, at = new Date()): AuditEntry {
  const head = db.prepare('SELECT last_row, hash FROM audit_head WHERE id = 1').get() as { last_row: number; hash: string } | undefined;
  const entry: AuditEntry = { id: (head?.last_row ?? 0) + 1, at: at.toISOString(), actor, action, detail: JSON.parse(canonicalJson(detail)) };
  const hash = chainHash(head?.hash ?? GENESIS, entry);
  db.prepare('INSERT INTO audit_log (id, at, actor, action, detail, hash) VALUES (?, ?, ?, ?, ?, ?)').run(entry.id, entry.at, actor, action, canonicalJson(entry.detail), hash);
  db.prepare('INSERT INTO audit_head (id, last_row, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET last_row = excluded.last_row, hash = excluded.hash').run(entry.id, hash);
  return entry;
}

export function auditEntries(db: Db): AuditEntry[] {
  const rows = db.prepare('SELECT id, at, actor, action, detail FROM audit_log ORDER BY id').all() as { id: number; at: string; actor: string; action: string; detail: string }[];
  return rows.map((row) => ({ ...row, detail: JSON.parse(row.detail) as unknown }));
}

/** Walks the chain in id order and names the first row that does not verify. */
export function verifyAudit(db: Db): AuditVerdict {
  const rows = db.prepare('SELECT id, at, actor, action, detail, hash FROM audit_log ORDER BY rowid').all() as { id: number; at: string; actor: string; action: string; detail: string; hash: string }[];
  let previous = GENESIS;
  for (const [index, row] of rows.entries()) {
    const bad = (reason: string): AuditVerdict => ({ ok: false, rows: rows.length, firstBad: row.id, reason });
    if (row.id !== index + 1) return bad(`row ${index + 1} is missing before row ${row.id}`);
    let detail: unknown;
    try {
      detail = JSON.parse(row.detail);
    } catch {
      return bad(`row ${row.id} has a detail that is not JSON`);
    }
    const expected = chainHash(previous, { id: row.id, at: row.at, actor: row.actor, action: row.action, detail });
    if (expected !== row.hash) return bad(`row ${row.id} does not match its hash: it was edited, or a row before it was replaced`);
    previous = row.hash;
  }
  const head = db.prepare('SELECT last_row, hash FROM audit_head WHERE id = 1').get() as { last_row: number; hash: string } | undefined;
  if ((head?.last_row ?? 0) !== rows.length || (head?.hash ?? GENESIS) !== previous) {
    return { ok: false, rows: rows.length, firstBad: rows.length + 1, reason: `the log ends at row ${rows.length} but its head records row ${head?.last_row ?? 0}: the newest rows were deleted` };
  }
  return { ok: true, rows: rows.length };
}
