import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { KeyManager } from '../../main/grep/index.js';
import { KmStore, migrate, openDatabase, restoreBackup, schemaVersion, StoreError, writeBackup } from '../../main/store/index.js';
import { APPLICATION_ID, MIGRATIONS } from '../../main/store/migrations.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grep-store-'));
  dirs.push(dir);
  return join(dir, 'km.db');
}

const PASSPHRASE = 'correct horse battery staple';

function code(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
  return undefined;
}

/** A group with members, a keyUpdate in the outbox, a plan carrying node keys and a DC profile. */
function populate(store: KmStore) {
  const signingKey = nodeRandom(32);
  const km = new KeyManager({ groupId: 1, signingKey, subgroupCap: 4, crypto: nodeCrypto }, nodeRandom);
  const nodeKeys = Array.from({ length: 9 }, () => nodeRandom(16));
  nodeKeys.forEach((nodeKey, index) => km.join({ id: index + 1, nodeKey }, nodeRandom));
  const group = store.createGroup({ id: 1, name: 'dc-1', subgroupCap: 4, publicKey: km.publicKey, state: km.snapshot(), signingKey, epoch: km.epoch });
  const pairingKey = nodeRandom(16);
  store.transaction(() => {
    store.enqueue(group.id, { epoch: km.epoch, kind: 'keyUpdate', purpose: 'key', member: null, payload: km.groupKey(), message: null });
    store.savePlan({ id: 'plan-1', groupId: group.id, operation: 'commission', parameters: { meters: [10] }, secrets: nodeKeys[0]!, epoch: km.epoch, createdAt: new Date().toISOString() });
    store.saveDcProfile({ name: 'dc-1', transport: 'tcp', host: '127.0.0.1', port: 4059, pairingKey });
    store.audit('operator', 'commission', { meters: 9 });
  });
  const secrets: [string, Uint8Array][] = [['KG', km.groupKey()], ['signing key', signingKey], ['pairing key', pairingKey]];
  nodeKeys.forEach((key, index) => secrets.push([`node key ${index + 1}`, key]));
  for (let member = 1; member <= 9; member++) {
    const state = km.memberState(member);
    secrets.push([`KS of ${member}`, state.ks]);
    for (const list of [state.nodeBackward, state.nodeForward, state.subgroupBackward, state.subgroupForward]) {
      for (const token of list) secrets.push([`token ${token.owner} held by ${member}`, token.value]);
    }
  }
  return { km, group, secrets, signingKey, pairingKey };
}

function leaks(file: string, secrets: readonly [string, Uint8Array][]): string[] {
  if (!existsSync(file)) return [];
  const raw = readFileSync(file);
  return secrets.filter(([, secret]) => raw.includes(Buffer.from(secret))).map(([name]) => `${name} in ${file}`);
}

describe('KM store (GREP.md §11)', () => {
  it('applies migrations once: reopening and migrating again change nothing', () => {
    const path = tempDb();
    const db = openDatabase(path);
    expect(migrate(db)).toBe(MIGRATIONS.length);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(migrate(db)).toBe(MIGRATIONS.length);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()).toEqual(tables);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.close();
    const again = openDatabase(path);
    expect(schemaVersion(again)).toBe(MIGRATIONS.length);
    expect(again.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    again.close();
  });

  it('round-trips sealed secrets and refuses a wrong passphrase with a typed error', () => {
    const path = tempDb();
    const store = KmStore.create(path, PASSPHRASE);
    const { km, group, signingKey, pairingKey } = populate(store);
    store.close();
    expect(code(() => KmStore.open(path, 'not the passphrase'))).toBe('WRONG_PASSPHRASE');
    expect(code(() => KmStore.create(path, PASSPHRASE))).toBe('ALREADY_INITIALISED');
    const reopened = KmStore.open(path, PASSPHRASE);
    const secrets = reopened.groupSecrets(group.id);
    expect(secrets.signingKey).toEqual(signingKey);
    const restored = KeyManager.restore({ groupId: 1, signingKey, subgroupCap: 4, crypto: nodeCrypto }, secrets.state, nodeRandom);
    expect(restored.groupKey()).toEqual(km.groupKey());
    expect(reopened.pendingOutbox(group.id)[0]!.payload).toEqual(km.groupKey());
    expect(reopened.dcProfile('dc-1')!.pairingKey).toEqual(pairingKey);
    reopened.close();
  });

  it('binds each sealed value to its row: a value moved to another row does not open', () => {
    const path = tempDb();
    const store = KmStore.create(path, PASSPHRASE);
    const { group } = populate(store);
    store.saveDcProfile({ name: 'dc-2', transport: 'serial', path: '/dev/ttyS0', baud: 9600, pairingKey: nodeRandom(16) });
    store.db.prepare("UPDATE dc_profiles SET sealed_pairing_key = (SELECT sealed_pairing_key FROM dc_profiles WHERE name = 'dc-1') WHERE name = 'dc-2'").run();
    expect(code(() => store.dcProfile('dc-2'))).toBe('SEAL_BROKEN');
    store.db.prepare('UPDATE groups SET sealed_state = sealed_signing_key WHERE id = ?').run(group.id);
    let message = '';
    try {
      store.groupSecrets(group.id);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/does not open/);
    expect(message).not.toMatch(/[0-9a-f]{32}/);
    store.close();
  });

  it('holds no key bytes in clear, in the database file or its WAL', () => {
    const path = tempDb();
    const store = KmStore.create(path, PASSPHRASE);
    const { secrets } = populate(store);
    expect(secrets.length).toBeGreaterThan(30);
    const whileOpen = [...leaks(path, secrets), ...leaks(`${path}-wal`, secrets)];
    expect(existsSync(`${path}-wal`)).toBe(true);
    store.close();
    expect([...whileOpen, ...leaks(path, secrets), ...leaks(`${path}-wal`, secrets)]).toEqual([]);
    // the scan itself can see a key: the same bytes written in clear are found
    const control = new Database(path);
    control.prepare('INSERT INTO audit_log (id, at, actor, action, detail, hash) VALUES (999, ?, ?, ?, ?, ?)').run('', '', '', '', Buffer.from(secrets[0]![1]));
    control.close();
    expect(leaks(path, secrets)).toEqual([`KG in ${path}`]);
  });

  it('reads every member with its sync state in one pass, removed ones and never-tracked ones included', () => {
    const store = KmStore.create(tempDb(), PASSPHRASE);
    const { group } = populate(store);
    const member = (meterId: number, status: 'member' | 'left') => ({ meterId, serial: `S${meterId}`, model: 'M', subgroup: 1, position: meterId, joinedEpoch: meterId, removedEpoch: status === 'left' ? 9 : null, status });
    store.saveMember(group.id, member(101, 'member'));
    store.saveMember(group.id, member(102, 'left'));
    store.saveMember(group.id, member(103, 'member'));
    const synced = { meterId: 101, ackedEpoch: 7, fingerprint: 'a1b2c3d4', lastSeen: '2026-11-25T18:00:00.000Z', status: 'in sync' as const };
    store.saveSync(group.id, synced);
    store.saveSync(group.id, { meterId: 102, ackedEpoch: null, fingerprint: null, lastSeen: null, status: 'removed' });
    const byId = new Map(store.meterStatuses(group.id).map((meter) => [meter.meterId, meter]));
    expect(byId.get(101)).toEqual({ ...member(101, 'member'), sync: synced });
    expect(byId.get(102)).toMatchObject({ status: 'left', removedEpoch: 9, sync: { status: 'removed', ackedEpoch: null } });
    expect(byId.get(103)!.sync).toBeUndefined();
    const ids = [...byId.keys()];
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // the counts the progress line reads agree with the rows: removed meters are not members, never-tracked ones hold nothing
    const current = [...byId.values()].filter((meter) => meter.status === 'member');
    for (const epoch of [7, 8]) {
      const holding = current.filter((meter) => meter.sync?.status === 'in sync' && meter.sync.ackedEpoch === epoch).length;
      expect(store.memberCounts(group.id, epoch)).toEqual({ members: current.length, holding });
    }
    expect(store.memberCounts(group.id, 7).holding).toBeGreaterThanOrEqual(1);
  });

  describe('audit chain', () => {
    function withAudit(rows: number): KmStore {
      const store = KmStore.create(tempDb(), PASSPHRASE);
      store.transaction(() => {
        for (let index = 0; index < rows; index++) store.audit('operator', 'leave', { meters: [index], plan: `p${index}` });
      });
      expect(store.verifyAudit()).toEqual({ ok: true, rows });
      return store;
    }

    it.each([
      ['an edited row', ["UPDATE audit_log SET detail = '{\"meters\":[99],\"plan\":\"p2\"}' WHERE id = 3"], 3],
      ['a deleted row', ['DELETE FROM audit_log WHERE id = 2'], 3],
      ['the newest row deleted', ['DELETE FROM audit_log WHERE id = 5'], 5],
      ['two rows swapped', ['UPDATE audit_log SET id = 100 WHERE id = 2', 'UPDATE audit_log SET id = 2 WHERE id = 4', 'UPDATE audit_log SET id = 4 WHERE id = 100'], 2],
    ] as const)('detects %s and names the first bad row', (_, tampering, firstBad) => {
      const store = withAudit(5);
      store.transaction(() => {
        for (const statement of tampering) store.db.prepare(statement).run();
      });
      expect(store.verifyAudit()).toMatchObject({ ok: false, firstBad });
      store.close();
    });
  });

  it('reports a corrupt file and leaves it byte-identical', () => {
    const path = tempDb();
    const store = KmStore.create(path, PASSPHRASE);
    populate(store);
    store.close();
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    // garble the second page (a table's b-tree page): the header still reads, integrity_check does not pass
    for (let at = pageSize; at < pageSize + 64; at++) bytes[at] = 0xa5;
    writeFileSync(path, bytes);
    expect(code(() => KmStore.open(path, PASSPHRASE))).toBe('CORRUPT');
    expect(readFileSync(path).equals(bytes)).toBe(true);
    writeFileSync(path, Buffer.from('not a database at all, just text'.repeat(200)));
    const text = readFileSync(path);
    expect(code(() => KmStore.open(path, PASSPHRASE))).toBe('CORRUPT');
    expect(readFileSync(path).equals(text)).toBe(true);
  });

  it('backs up encrypted and restores; refuses a wrong passphrase or a damaged backup and leaves the store alone', async () => {
    const path = tempDb();
    const backup = `${path}.bak`;
    const store = KmStore.create(path, PASSPHRASE);
    const { secrets, group } = populate(store);
    await writeBackup(store.db, backup, 'backup passphrase');
    store.audit('operator', 'after backup', {});
    store.close();
    expect(leaks(backup, secrets)).toEqual([]);
    const current = readFileSync(path);

    expect(code(() => restoreBackup(backup, 'wrong', path))).toBe('WRONG_PASSPHRASE');
    const damaged = readFileSync(backup);
    damaged[damaged.length - 40]! ^= 1;
    writeFileSync(`${backup}.damaged`, damaged);
    expect(code(() => restoreBackup(`${backup}.damaged`, 'backup passphrase', path))).toBe('WRONG_PASSPHRASE');
    writeFileSync(`${backup}.junk`, 'hello');
    expect(code(() => restoreBackup(`${backup}.junk`, 'backup passphrase', path))).toBe('BAD_BACKUP');
    expect(readFileSync(path).equals(current)).toBe(true);

    restoreBackup(backup, 'backup passphrase', path);
    const restored = KmStore.open(path, PASSPHRASE);
    expect(restored.auditEntries().map((entry) => entry.action)).toEqual(['commission']);
    expect(restored.verifyAudit().ok).toBe(true);
    expect(restored.groupSecrets(group.id).signingKey).toEqual(secrets[1]![1]);
    expect(code(() => restoreBackup(backup, 'backup passphrase', path))).toBe('STORE_OPEN');
    restored.close();
  });
});
