import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { type AuditEntry, type AuditVerdict, appendAudit, auditEntries, rechainUnkeyed, verifyAudit } from './audit.js';
import { type Db, hasTable, migrate, openDatabase } from './db.js';
import { StoreError } from './errors.js';
import { FirmwareRepo } from './firmwareRepo.js';
import { type ScryptCost, Sealer } from './sealing.js';
import { WriterLock } from './writerLock.js';
import type { Audience, MessageType, Outgoing } from '../grep/index.js';

/*
 * The Key Manager's repositories over one SQLite file. Secrets go in and out of here only through the
 * Sealer, with the row's identity as AAD; everything else is plain data the operator may read.
 */

export interface GroupRecord {
  readonly id: number;
  readonly name: string;
  readonly subgroupCap: number;
  readonly epoch: number;
  readonly publicKey: Uint8Array;
}

export type MemberStatus = 'member' | 'left' | 'recovered';
export interface MemberRecord {
  readonly meterId: number;
  readonly serial: string;
  readonly model: string;
  readonly subgroup: number;
  readonly position: number;
  readonly joinedEpoch: number;
  readonly removedEpoch: number | null;
  readonly status: MemberStatus;
}

/** 'unknown': said before the DC link dropped, not confirmed by the meter since */
export type SyncStatus = 'in sync' | 'lagging' | 'unreachable' | 'unknown' | 'removed';
export interface SyncRecord {
  readonly meterId: number;
  readonly ackedEpoch: number | null;
  readonly fingerprint: string | null;
  readonly lastSeen: string | null;
  readonly status: SyncStatus;
}

/** A member row with its sync state (none before the first commit that tracks it). */
export interface MeterStatus extends MemberRecord {
  readonly sync: SyncRecord | undefined;
}

export interface HistoryRecord {
  readonly id: number;
  readonly planId: string;
  readonly operation: string;
  readonly epochFrom: number;
  readonly epochTo: number;
  readonly messages: Record<string, number>;
  readonly bytes: number;
  readonly actor: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly result: string;
}

export type OutboxKind = 'broadcast' | 'unicast' | 'keyUpdate';
/**
 * Why a transfer was sent: an operation's own message ('rekey', the replay log), a repair of one
 * ('repair'), the DC's KG ('key'), a group command, a firmware campaign frame; 'legacy' for rows
 * written before the outbox said.
 */
export type OutboxPurpose = 'legacy' | 'rekey' | 'repair' | 'key' | 'command' | 'firmware';
/** For a row that carries a GREP message: what the core said of it when it built it. */
export interface OutboxMessage {
  readonly type: MessageType;
  readonly audience: Audience;
}
export interface OutboxEntry {
  readonly id: number;
  readonly epoch: number;
  readonly kind: OutboxKind;
  readonly purpose: OutboxPurpose;
  readonly member: number | null;
  /** a GREP message (already encrypted), or for keyUpdate the DC's KG, opened */
  readonly payload: Uint8Array;
  readonly message: OutboxMessage | null;
}

/** The GREP message a row carries, with its row id; undefined for a row that carries none (a key, a command, a firmware frame). */
export function storedMessage(entry: OutboxEntry): (Outgoing & { readonly row: number }) | undefined {
  if (!entry.message) return undefined;
  return { ...entry.message, to: entry.kind === 'broadcast' ? 'all' : entry.member!, epoch: entry.epoch, bytes: entry.payload, row: entry.id };
}

/** An operation's stored messages from some epoch on, and the KGs of those epochs (from the DC's key rows). */
export interface StoredLog {
  readonly messages: readonly (Outgoing & { readonly row: number })[];
  readonly groupKeys: ReadonlyMap<number, Uint8Array>;
}

interface OutboxRow {
  id: number;
  epoch: number;
  kind: OutboxKind;
  purpose: OutboxPurpose;
  member: number | null;
  payload: Buffer;
  message: string | null;
}

export interface PlanRecord {
  readonly id: string;
  readonly groupId: number;
  readonly operation: string;
  readonly parameters: unknown;
  readonly secrets: Uint8Array | undefined;
  readonly epoch: number;
  readonly createdAt: string;
  readonly consumedAt: string | null;
}

export type DcProfile =
  | { readonly name: string; readonly transport: 'tcp'; readonly host: string; readonly port: number; readonly pairingKey: Uint8Array }
  | { readonly name: string; readonly transport: 'serial'; readonly path: string; readonly baud: number; readonly pairingKey: Uint8Array };

/** A profile as listed: where the DC is, never its key. */
export type DcProfileSummary =
  | { readonly name: string; readonly transport: 'tcp'; readonly host: string; readonly port: number }
  | { readonly name: string; readonly transport: 'serial'; readonly path: string; readonly baud: number };

const bytes = (value: Buffer | Uint8Array) => new Uint8Array(value);

/**
 * How a process opens a store: as its one writer (holding the writer lock for as long as the store is
 * open, named by what the process is), or to read while another process operates it.
 */
export type StoreAccess = { readonly writer: string } | { readonly readOnly: true };

const defaultAccess = (): StoreAccess => ({ writer: basename(process.argv[1] ?? process.argv0) });

/** The key of the audit chain's MACs (audit.ts), derived from the data key. */
const auditKeyOf = (sealer: Sealer) => sealer.derivedKey('audit chain');

/** The schema version whose migration keys the audit chain (audit.ts rechainUnkeyed). */
const KEYED_AUDIT_VERSION = 4;

interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

export class KmStore {
  /** firmware packages, trusted keys, campaigns (firmwareRepo.ts) */
  readonly firmware: FirmwareRepo;
  /** things the operator should know that do not stop the store from working (file permissions) */
  readonly warnings: readonly string[];
  private readonly auditKey: Uint8Array;
  private readonly identity: FileIdentity;
  /** why the store stopped taking writes, once its files were found deleted or replaced */
  private broken: string | undefined;

  private constructor(readonly db: Db, readonly path: string, private readonly sealer: Sealer, private readonly lock: WriterLock | undefined) {
    this.firmware = new FirmwareRepo(db, sealer);
    this.auditKey = auditKeyOf(sealer);
    const stat = statSync(path);
    this.identity = stat;
    const mode = stat.mode & 0o777;
    this.warnings = (mode & 0o077) !== 0 ? [`${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 it, and its -wal and -shm files`] : [];
  }

  /** A new store keyed by `passphrase`, at a path that has no store yet. */
  static create(path: string, passphrase: string, scrypt?: ScryptCost, access: StoreAccess = defaultAccess()): KmStore {
    return KmStore.opening(path, access, (db) => {
      if (hasTable(db, 'keyring') && db.prepare('SELECT 1 FROM keyring').get()) throw new StoreError('ALREADY_INITIALISED', `${path} is already an initialised store`);
      migrate(db);
      const { sealer, wrapped } = Sealer.create(passphrase, scrypt);
      db.prepare('INSERT INTO keyring (id, salt, cost, block_size, parallelism, wrapped_data_key) VALUES (1, ?, ?, ?, ?, ?)').run(
        wrapped.salt, wrapped.scrypt.cost, wrapped.scrypt.blockSize, wrapped.scrypt.parallelism, wrapped.wrapped);
      return sealer;
    });
  }

  /** An existing store; as its writer unless `access` says read-only (see StoreAccess). */
  static open(path: string, passphrase: string, access: StoreAccess = defaultAccess()): KmStore {
    if (!existsSync(path)) throw new StoreError('NOT_INITIALISED', `${path} does not exist: initialise a store first`);
    // an empty file opened for writing would be made into a store's schema: refused as found
    if (statSync(path).size === 0) throw new StoreError('NOT_A_STORE', `${path} is empty: it is not a Key Manager store (restore the store from a backup)`);
    return KmStore.opening(path, access, (db) => {
      const row = hasTable(db, 'keyring')
        ? (db.prepare('SELECT salt, cost, block_size, parallelism, wrapped_data_key FROM keyring WHERE id = 1').get() as
            | { salt: Buffer; cost: number; block_size: number; parallelism: number; wrapped_data_key: Buffer }
            | undefined)
        : undefined;
      if (!row) throw new StoreError('NOT_INITIALISED', `${path} has no keyring: it is not an initialised store (was its -wal file deleted?); restore it from a backup`);
      return Sealer.unwrap(passphrase, {
        salt: bytes(row.salt),
        scrypt: { cost: row.cost, blockSize: row.block_size, parallelism: row.parallelism },
        wrapped: bytes(row.wrapped_data_key),
      });
    });
  }

  /**
   * The writer lock first (a busy store is not even read), then the file, the keyring, and only then
   * the migrations: one of them needs the data key, and nothing may be written to a file before it
   * has shown it is a store this passphrase opens.
   */
  private static opening(path: string, access: StoreAccess, keyring: (db: Db) => Sealer): KmStore {
    const readOnly = 'readOnly' in access;
    const lock = readOnly ? undefined : WriterLock.acquire(path, access.writer);
    let db: Db | undefined;
    try {
      db = openDatabase(path, { readOnly });
      const openDb = db;
      const sealer = keyring(openDb);
      if (!readOnly) {
        migrate(openDb, (version) => {
          const logged = openDb.prepare('SELECT 1 FROM audit_log LIMIT 1').get();
          if (version === KEYED_AUDIT_VERSION && logged) rechainUnkeyed(openDb, auditKeyOf(sealer), access.writer);
        });
      }
      return new KmStore(openDb, path, sealer, lock);
    } catch (error) {
      db?.close();
      lock?.release();
      throw error;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.lock?.release();
  }

  /**
   * Why the store's files are not the ones it opened, or undefined. SQLite keeps writing to a -wal
   * file that was deleted (or a database file that was replaced) through its open descriptor, and
   * everything committed since is lost at close: the Key Manager must stop before it sends anything
   * it could not keep.
   */
  filesProblem(): string | undefined {
    if (this.broken || this.lock === undefined) return this.broken;
    let now: FileIdentity;
    try {
      now = statSync(this.path);
    } catch {
      return `${this.path} was deleted while open`;
    }
    if (now.dev !== this.identity.dev || now.ino !== this.identity.ino) return `${this.path} was replaced by another file while open`;
    if (!existsSync(`${this.path}-wal`)) return `${this.path}-wal was deleted while the store was open: what was committed since its last checkpoint is only in this process`;
    return undefined;
  }

  /**
   * Refuses every write once the files are gone or replaced, and says why (filesProblem). Inside a
   * transaction the check made when it began stands: a campaign round enqueues thousands of frames.
   */
  private guard(): void {
    if (this.db.inTransaction && !this.broken) return;
    this.broken ??= this.filesProblem();
    if (this.broken) throw new StoreError('STORE_REPLACED', `${this.broken}: the Key Manager stopped writing; restart it on a good store (restore from a backup if needed)`);
  }

  /** Runs `work` in one transaction: all of it commits or none of it does. */
  transaction<T>(work: () => T): T {
    this.guard();
    return this.db.transaction(work)();
  }

  /** `id` is the GREP group id the meters are commissioned with. */
  createGroup(group: { id: number; name: string; subgroupCap: number; publicKey: Uint8Array; state: Uint8Array; signingKey: Uint8Array; epoch: number }): GroupRecord {
    return this.transaction(() => {
      const id = group.id;
      this.db.prepare('INSERT INTO groups (id, name, subgroup_cap, epoch, km_public_key, sealed_state, sealed_signing_key) VALUES (?, ?, ?, ?, ?, x\'\', x\'\')')
        .run(id, group.name, group.subgroupCap, group.epoch, group.publicKey);
      this.db.prepare('UPDATE groups SET sealed_signing_key = ? WHERE id = ?').run(this.sealer.seal(group.signingKey, `groups:${id}:signing_key`), id);
      this.saveGroupState(id, group.epoch, group.state);
      return this.group(group.name);
    });
  }

  group(name: string): GroupRecord {
    const row = this.db.prepare('SELECT id, name, subgroup_cap, epoch, km_public_key FROM groups WHERE name = ?').get(name) as
      | { id: number; name: string; subgroup_cap: number; epoch: number; km_public_key: Buffer }
      | undefined;
    if (!row) throw new StoreError('UNKNOWN_GROUP', `no group named ${JSON.stringify(name)}`);
    return { id: row.id, name: row.name, subgroupCap: row.subgroup_cap, epoch: row.epoch, publicKey: bytes(row.km_public_key) };
  }

  /** Binds the group to the DC profile its meters sit behind; the profile must exist. */
  bindGroupDc(groupName: string, profileName: string): void {
    this.guard();
    if (!this.dcProfile(profileName)) throw new StoreError('UNKNOWN_DC', `no DC profile named ${JSON.stringify(profileName)}`);
    if (this.db.prepare('UPDATE groups SET dc_profile = ? WHERE name = ?').run(profileName, groupName).changes === 0) throw new StoreError('UNKNOWN_GROUP', `no group named ${JSON.stringify(groupName)}`);
  }

  /** The DC profile the group is bound to, if any. */
  groupDc(groupName: string): string | undefined {
    const row = this.db.prepare('SELECT dc_profile FROM groups WHERE name = ?').get(groupName) as { dc_profile: string | null } | undefined;
    return row?.dc_profile ?? undefined;
  }

  /** The epoch committed for the group: executing checks it against the Key Manager it holds in memory. */
  groupEpoch(id: number): number {
    const row = this.db.prepare('SELECT epoch FROM groups WHERE id = ?').get(id) as { epoch: number } | undefined;
    if (!row) throw new StoreError('UNKNOWN_GROUP', `no group ${id}`);
    return row.epoch;
  }

  groupSecrets(id: number): { state: Uint8Array; signingKey: Uint8Array } {
    const row = this.db.prepare('SELECT sealed_state, sealed_signing_key FROM groups WHERE id = ?').get(id) as { sealed_state: Buffer; sealed_signing_key: Buffer } | undefined;
    if (!row) throw new StoreError('UNKNOWN_GROUP', `no group ${id}`);
    return { state: this.sealer.open(row.sealed_state, `groups:${id}:state`), signingKey: this.sealer.open(row.sealed_signing_key, `groups:${id}:signing_key`) };
  }

  /** The KM snapshot and its epoch, written together in the caller's transaction. */
  saveGroupState(id: number, epoch: number, state: Uint8Array): void {
    this.db.prepare('UPDATE groups SET epoch = ?, sealed_state = ? WHERE id = ?').run(epoch, this.sealer.seal(state, `groups:${id}:state`), id);
  }

  /** The next group command sequence number, taken in the caller's transaction. */
  nextCommandSeq(groupId: number): number {
    this.db.prepare('UPDATE groups SET command_seq = command_seq + 1 WHERE id = ?').run(groupId);
    return (this.db.prepare('SELECT command_seq FROM groups WHERE id = ?').get(groupId) as { command_seq: number }).command_seq;
  }

  saveMember(groupId: number, member: MemberRecord): void {
    this.db.prepare(`INSERT INTO members (group_id, meter_id, serial, model, subgroup, position, joined_epoch, removed_epoch, status)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, meter_id) DO UPDATE SET serial = excluded.serial, model = excluded.model,
      subgroup = excluded.subgroup, position = excluded.position, joined_epoch = excluded.joined_epoch, removed_epoch = excluded.removed_epoch, status = excluded.status`)
      .run(groupId, member.meterId, member.serial, member.model, member.subgroup, member.position, member.joinedEpoch, member.removedEpoch, member.status);
  }

  markRemoved(groupId: number, meterId: number, epoch: number, status: Exclude<MemberStatus, 'member'>): void {
    this.db.prepare('UPDATE members SET removed_epoch = ?, status = ? WHERE group_id = ? AND meter_id = ?').run(epoch, status, groupId, meterId);
  }

  members(groupId: number): MemberRecord[] {
    return (this.db.prepare('SELECT meter_id AS meterId, serial, model, subgroup, position, joined_epoch AS joinedEpoch, removed_epoch AS removedEpoch, status FROM members WHERE group_id = ? ORDER BY meter_id').all(groupId)) as MemberRecord[];
  }

  /** Every current member's sync state becomes 'unknown' until the meter is heard from again. */
  markSyncUnknown(groupId: number): void {
    this.guard();
    this.db.prepare(`UPDATE sync_state SET status = 'unknown' WHERE group_id = ? AND status <> 'removed'`).run(groupId);
  }

  saveSync(groupId: number, sync: SyncRecord): void {
    this.guard();
    this.db.prepare(`INSERT INTO sync_state (group_id, meter_id, acked_epoch, fingerprint, last_seen, status) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (group_id, meter_id) DO UPDATE SET acked_epoch = excluded.acked_epoch, fingerprint = excluded.fingerprint,
      last_seen = excluded.last_seen, status = excluded.status`).run(groupId, sync.meterId, sync.ackedEpoch, sync.fingerprint, sync.lastSeen, sync.status);
  }

  /** Every member with its sync state, in one query: the group view at 10^5 meters reads this on every refresh. */
  meterStatuses(groupId: number): MeterStatus[] {
    return this.meterStatusRows('', groupId);
  }

  /** One meter ever commissioned into the group, left or not, with its sync state; undefined for any other. */
  meterStatus(groupId: number, meterId: number): MeterStatus | undefined {
    return this.meterStatusRows('AND m.meter_id = ?', groupId, meterId)[0];
  }

  private meterStatusRows(filter: string, ...parameters: number[]): MeterStatus[] {
    const rows = this.db
      .prepare(`SELECT m.meter_id AS meterId, m.serial, m.model, m.subgroup, m.position, m.joined_epoch AS joinedEpoch, m.removed_epoch AS removedEpoch,
          m.status, s.meter_id AS syncMeter, s.acked_epoch AS ackedEpoch, s.fingerprint, s.last_seen AS lastSeen, s.status AS syncStatus
        FROM members m LEFT JOIN sync_state s ON s.group_id = m.group_id AND s.meter_id = m.meter_id WHERE m.group_id = ? ${filter} ORDER BY m.meter_id`)
      .all(...parameters) as (MemberRecord & { syncMeter: number | null; ackedEpoch: number | null; fingerprint: string | null; lastSeen: string | null; syncStatus: SyncStatus })[];
    return rows.map(({ syncMeter, ackedEpoch, fingerprint, lastSeen, syncStatus, ...member }) => ({
      ...member,
      sync: syncMeter === null ? undefined : { meterId: syncMeter, ackedEpoch, fingerprint, lastSeen, status: syncStatus },
    }));
  }

  /** Current members, and how many of them acked `epoch`: counted by the database, for a progress line every second. */
  memberCounts(groupId: number, epoch: number): { readonly members: number; readonly holding: number } {
    return this.db
      .prepare(`SELECT count(*) AS members, count(CASE WHEN s.status = 'in sync' AND s.acked_epoch = ? THEN 1 END) AS holding
        FROM members m LEFT JOIN sync_state s ON s.group_id = m.group_id AND s.meter_id = m.meter_id WHERE m.group_id = ? AND m.status = 'member'`)
      .get(epoch, groupId) as { members: number; holding: number };
  }

  syncStates(groupId: number): SyncRecord[] {
    return this.db.prepare('SELECT meter_id AS meterId, acked_epoch AS ackedEpoch, fingerprint, last_seen AS lastSeen, status FROM sync_state WHERE group_id = ? ORDER BY meter_id').all(groupId) as SyncRecord[];
  }

  addHistory(groupId: number, entry: Omit<HistoryRecord, 'id' | 'finishedAt' | 'durationMs'>): number {
    const { lastInsertRowid } = this.db.prepare(`INSERT INTO rekey_history (group_id, plan_id, operation, epoch_from, epoch_to, messages, bytes, actor, started_at, result)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(groupId, entry.planId, entry.operation, entry.epochFrom, entry.epochTo, JSON.stringify(entry.messages), entry.bytes, entry.actor, entry.startedAt, entry.result);
    return Number(lastInsertRowid);
  }

  finishHistory(id: number, finishedAt: Date, result: string): void {
    this.db.prepare(`UPDATE rekey_history SET finished_at = ?, duration_ms = CAST(round((julianday(?) - julianday(started_at)) * 86400000) AS INTEGER), result = ? WHERE id = ?`)
      .run(finishedAt.toISOString(), finishedAt.toISOString(), result, id);
  }

  history(groupId: number): HistoryRecord[] {
    const rows = this.db.prepare(`SELECT id, plan_id AS planId, operation, epoch_from AS epochFrom, epoch_to AS epochTo, messages, bytes, actor,
      started_at AS startedAt, finished_at AS finishedAt, duration_ms AS durationMs, result FROM rekey_history WHERE group_id = ? ORDER BY id`).all(groupId) as (Omit<HistoryRecord, 'messages'> & { messages: string })[];
    return rows.map((row) => ({ ...row, messages: JSON.parse(row.messages) as Record<string, number> }));
  }

  /** Adds a transfer; its id is its transfer id on the link. A keyUpdate carries KG and is sealed. */
  enqueue(groupId: number, entry: Omit<OutboxEntry, 'id'>): number {
    this.guard();
    const insert = this.db.prepare('INSERT INTO outbox (group_id, epoch, kind, purpose, member, payload, message, state) VALUES (?, ?, ?, ?, ?, ?, ?, \'pending\')');
    const message = entry.message ? JSON.stringify(entry.message) : null;
    if (entry.kind !== 'keyUpdate') return Number(insert.run(groupId, entry.epoch, entry.kind, entry.purpose, entry.member, entry.payload, message).lastInsertRowid);
    const id = Number(insert.run(groupId, entry.epoch, entry.kind, entry.purpose, null, new Uint8Array(0), null).lastInsertRowid);
    this.db.prepare('UPDATE outbox SET payload = ? WHERE id = ?').run(this.sealer.seal(entry.payload, `outbox:${id}:kg`), id);
    return id;
  }

  pendingOutbox(groupId: number): OutboxEntry[] {
    const rows = this.db.prepare('SELECT id, epoch, kind, purpose, member, payload, message FROM outbox WHERE group_id = ? AND state = \'pending\' ORDER BY id').all(groupId) as OutboxRow[];
    return rows.map((row) => this.outboxEntry(row));
  }

  /**
   * The replay log (GREP.md §7) from `afterEpoch` on: every operation's messages of the later epochs in
   * the order they were committed, and the KG of each of those epochs that has a key row.
   */
  storedLog(groupId: number, afterEpoch: number): StoredLog {
    const rows = this.db.prepare('SELECT id, epoch, kind, purpose, member, payload, message FROM outbox WHERE group_id = ? AND purpose IN (\'rekey\', \'key\') AND epoch > ? ORDER BY id').all(groupId, afterEpoch) as OutboxRow[];
    const messages: (Outgoing & { readonly row: number })[] = [];
    const groupKeys = new Map<number, Uint8Array>();
    for (const entry of rows.map((row) => this.outboxEntry(row))) {
      const message = storedMessage(entry);
      if (entry.kind === 'keyUpdate') groupKeys.set(entry.epoch, entry.payload);
      else if (message) messages.push(message);
    }
    return { messages, groupKeys };
  }

  /**
   * Retention: deletes the accepted rows convergence can no longer need, i.e. every accepted row but
   * the operations' messages and KGs of epochs from `keepFromEpoch` on. Pending rows always stay (they
   * are still to be sent); ids never repeat (AUTOINCREMENT). Returns how many rows went.
   */
  pruneOutbox(groupId: number, keepFromEpoch: number): number {
    this.guard();
    return this.db.prepare(`DELETE FROM outbox WHERE group_id = ? AND state = 'accepted' AND (purpose NOT IN ('rekey', 'key') OR epoch < ?)`).run(groupId, keepFromEpoch).changes;
  }

  /** The outbox's rows by purpose (every row holds its payload until it is pruned). */
  outboxCounts(groupId: number): Record<OutboxPurpose, number> {
    const counts: Record<OutboxPurpose, number> = { legacy: 0, rekey: 0, repair: 0, key: 0, command: 0, firmware: 0 };
    const rows = this.db.prepare('SELECT purpose, count(*) AS n FROM outbox WHERE group_id = ? GROUP BY purpose').all(groupId) as { purpose: OutboxPurpose; n: number }[];
    for (const row of rows) counts[row.purpose] = row.n;
    return counts;
  }

  private outboxEntry(row: OutboxRow): OutboxEntry {
    return {
      id: row.id,
      epoch: row.epoch,
      kind: row.kind,
      purpose: row.purpose,
      member: row.member,
      payload: row.kind === 'keyUpdate' ? this.sealer.open(row.payload, `outbox:${row.id}:kg`) : bytes(row.payload),
      message: row.message === null ? null : (JSON.parse(row.message) as OutboxMessage),
    };
  }

  /** In one transaction: a campaign round is a thousand transfers, and a commit each would be a thousand syncs. */
  markAccepted(ids: readonly number[]): void {
    const mark = this.db.prepare('UPDATE outbox SET state = \'accepted\' WHERE id = ?');
    this.transaction(() => {
      for (const id of ids) mark.run(id);
    });
  }

  savePlan(plan: Omit<PlanRecord, 'consumedAt'>): void {
    this.db.prepare('INSERT INTO plans (id, group_id, operation, parameters, sealed_secrets, epoch, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      plan.id, plan.groupId, plan.operation, JSON.stringify(plan.parameters), plan.secrets ? this.sealer.seal(plan.secrets, `plans:${plan.id}:secrets`) : null, plan.epoch, plan.createdAt);
  }

  plan(id: string): PlanRecord | undefined {
    const row = this.db.prepare('SELECT id, group_id, operation, parameters, sealed_secrets, epoch, created_at, consumed_at FROM plans WHERE id = ?').get(id) as
      | { id: string; group_id: number; operation: string; parameters: string; sealed_secrets: Buffer | null; epoch: number; created_at: string; consumed_at: string | null }
      | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      groupId: row.group_id,
      operation: row.operation,
      parameters: JSON.parse(row.parameters) as unknown,
      secrets: row.sealed_secrets ? this.sealer.open(row.sealed_secrets, `plans:${row.id}:secrets`) : undefined,
      epoch: row.epoch,
      createdAt: row.created_at,
      consumedAt: row.consumed_at,
    };
  }

  consumePlan(id: string, at: Date): void {
    this.db.prepare('UPDATE plans SET consumed_at = ? WHERE id = ?').run(at.toISOString(), id);
  }

  saveDcProfile(profile: DcProfile): void {
    const sealed = this.sealer.seal(profile.pairingKey, `dc_profiles:${profile.name}:pairing_key`);
    this.db.prepare(`INSERT INTO dc_profiles (name, transport, host, port, serial_path, baud, sealed_pairing_key) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET transport = excluded.transport, host = excluded.host, port = excluded.port, serial_path = excluded.serial_path,
      baud = excluded.baud, sealed_pairing_key = excluded.sealed_pairing_key`).run(
      profile.name, profile.transport, profile.transport === 'tcp' ? profile.host : null, profile.transport === 'tcp' ? profile.port : null,
      profile.transport === 'serial' ? profile.path : null, profile.transport === 'serial' ? profile.baud : null, sealed);
  }

  dcProfile(name: string): DcProfile | undefined {
    const row = this.db.prepare('SELECT name, transport, host, port, serial_path, baud, sealed_pairing_key FROM dc_profiles WHERE name = ?').get(name) as
      | { name: string; transport: 'tcp' | 'serial'; host: string; port: number; serial_path: string; baud: number; sealed_pairing_key: Buffer }
      | undefined;
    if (!row) return undefined;
    const pairingKey = this.sealer.open(row.sealed_pairing_key, `dc_profiles:${row.name}:pairing_key`);
    return row.transport === 'tcp'
      ? { name: row.name, transport: 'tcp', host: row.host, port: row.port, pairingKey }
      : { name: row.name, transport: 'serial', path: row.serial_path, baud: row.baud, pairingKey };
  }

  /** Every saved profile by name, without its pairing key (nothing is unsealed). */
  dcProfiles(): DcProfileSummary[] {
    const rows = this.db.prepare('SELECT name, transport, host, port, serial_path, baud FROM dc_profiles ORDER BY name').all() as
      { name: string; transport: 'tcp' | 'serial'; host: string; port: number; serial_path: string; baud: number }[];
    return rows.map((row) => (row.transport === 'tcp' ? { name: row.name, transport: 'tcp', host: row.host, port: row.port } : { name: row.name, transport: 'serial', path: row.serial_path, baud: row.baud }));
  }

  audit(actor: string, action: string, detail: unknown): AuditEntry {
    this.guard();
    return appendAudit(this.db, this.auditKey, actor, action, detail);
  }

  auditEntries(): AuditEntry[] {
    return auditEntries(this.db);
  }

  verifyAudit(): AuditVerdict {
    return verifyAudit(this.db, this.auditKey);
  }
}
