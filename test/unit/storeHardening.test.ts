import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, KmStore, Sealer, StoreError, WriterLock } from '../../main/store/index.js';
import { MIGRATIONS } from '../../main/store/migrations.js';

const PASSPHRASE = 'correct horse battery staple';
const CHEAP = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grep-harden-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'km.sqlite');
}

function failure(work: () => unknown): StoreError {
  try {
    work();
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected a StoreError');
}

function created(path = tempDb()): KmStore {
  const store = KmStore.create(path, PASSPHRASE, CHEAP, { writer: 'test' });
  cleanups.push(() => store.close());
  return store;
}

/** A process that holds `path` as its writer until killed. */
async function holder(path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/holdStore.ts'), path], {
    env: { ...process.env, GREP_PASSPHRASE: PASSPHRASE },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the holder did not start within 20 s')), 20_000);
    child.stdout!.on('data', (data: Buffer) => {
      if (data.toString().includes('holding')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
  return child;
}

describe('one writer per store', () => {
  it('a second process is refused by name while the first holds the store; readers still read; a killed holder leaves no lock', async () => {
    const path = tempDb();
    created(path).close();
    const child = await holder(path);

    const busy = failure(() => KmStore.open(path, PASSPHRASE, { writer: 'grepctl leave' }));
    expect(busy.code).toBe('STORE_BUSY');
    expect(busy.message).toContain('holdStore test process');
    expect(busy.message).toContain(`pid ${child.pid}`);
    expect(WriterLock.holder(path)).toMatchObject({ pid: child.pid, program: 'holdStore test process' });

    const reader = KmStore.open(path, PASSPHRASE, { readOnly: true });
    expect(reader.verifyAudit()).toMatchObject({ ok: true });
    expect(() => reader.db.prepare('DELETE FROM audit_log').run()).toThrow(/readonly/i);
    reader.close();

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(WriterLock.holder(path)).toBeUndefined();
    const next = KmStore.open(path, PASSPHRASE, { writer: 'after the crash' });
    next.close();
  }, 30_000);

  it('refuses a second writer in the same process too, and frees the store on close', () => {
    const path = tempDb();
    const first = created(path);
    expect(failure(() => KmStore.open(path, PASSPHRASE, { writer: 'second' })).code).toBe('STORE_BUSY');
    first.close();
    KmStore.open(path, PASSPHRASE, { writer: 'third' }).close();
  });
});

describe('files of ours only', () => {
  it('creates the store and its WAL owner-only, and warns about an existing store others can read', () => {
    const path = tempDb();
    const store = created(path);
    store.transaction(() => store.audit('operator', 'test', {}));
    for (const file of [path, `${path}-wal`, `${path}.lock`]) expect([file, statSync(file).mode & 0o777]).toEqual([file, 0o600]);
    expect(store.warnings).toEqual([]);
    store.close();
    chmodSync(path, 0o644);
    const reopened = KmStore.open(path, PASSPHRASE, { writer: 'test' });
    expect(reopened.warnings.join()).toMatch(/can be read by other users \(mode 0644\)/);
    reopened.close();
  });

  it('refuses another program\'s SQLite file and leaves it byte-identical', () => {
    const path = tempDb();
    const other = new Database(path);
    other.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)');
    other.close();
    const before = readFileSync(path);
    const error = failure(() => KmStore.open(path, PASSPHRASE, { writer: 'test' }));
    expect([error.code, error.message]).toEqual(['NOT_A_STORE', expect.stringContaining(path)]);
    expect(failure(() => KmStore.create(path, PASSPHRASE, CHEAP, { writer: 'test' })).code).toBe('NOT_A_STORE');
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('stops writing when the -wal file is deleted under it, and the husk it leaves is refused, never migrated', () => {
    const path = tempDb();
    const store = created(path);
    store.transaction(() => store.audit('operator', 'before', {}));
    expect(store.filesProblem()).toBeUndefined();
    unlinkSync(`${path}-wal`);
    expect(store.filesProblem()).toMatch(/-wal was deleted/);
    expect(failure(() => store.transaction(() => store.audit('operator', 'after', {}))).code).toBe('STORE_REPLACED');
    expect(failure(() => store.audit('operator', 'after', {})).code).toBe('STORE_REPLACED');
    // what a crash leaves: the main file without what only the deleted log held
    const husk = tempDb();
    copyFileSync(path, husk);
    const before = readFileSync(husk);
    const error = failure(() => KmStore.open(husk, PASSPHRASE, { writer: 'test' }));
    expect(['NOT_A_STORE', 'NOT_INITIALISED']).toContain(error.code);
    expect(readFileSync(husk).equals(before)).toBe(true);
    expect(existsSync(`${husk}-wal`) ? readFileSync(`${husk}-wal`).length : 0).toBe(0);
  });

  it('stops writing when the database file is replaced under it', () => {
    const path = tempDb();
    const store = created(path);
    const copy = `${path}.copy`;
    copyFileSync(path, copy);
    unlinkSync(path);
    copyFileSync(copy, path);
    expect(store.filesProblem()).toMatch(/replaced by another file/);
    expect(failure(() => store.transaction(() => undefined)).code).toBe('STORE_REPLACED');
  });

  it.each([
    ['cost 0', 'UPDATE keyring SET cost = 0', /corrupt keyring: scrypt N = 0/],
    ['a cost of 2^22', 'UPDATE keyring SET cost = 4194304', /corrupt keyring: scrypt N = 4194304/],
    ['r = 32', 'UPDATE keyring SET block_size = 32', /corrupt keyring: scrypt r = 32/],
    ['p = 16', 'UPDATE keyring SET parallelism = 16', /corrupt keyring: scrypt p = 16/],
    ['a short salt', "UPDATE keyring SET salt = x'00'", /corrupt keyring: a salt of 1 bytes/],
  ])('names a keyring with %s as corrupt, not as a wrong passphrase', (_, tampering, message) => {
    const path = tempDb();
    created(path).close();
    const raw = new Database(path);
    raw.exec(tampering);
    raw.close();
    const error = failure(() => KmStore.open(path, PASSPHRASE, { writer: 'test' }));
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toMatch(message);
  });
});

describe('keyed audit chain', () => {
  function logged(rows: number): { store: KmStore; path: string } {
    const path = tempDb();
    const store = created(path);
    store.transaction(() => {
      for (let index = 1; index <= rows; index++) store.audit('operator', 'leave', { meters: [index] });
    });
    expect(store.verifyAudit()).toEqual({ ok: true, rows });
    return { store, path };
  }

  const tamper = (store: KmStore, work: (db: Database.Database) => void) => store.db.transaction(() => work(store.db))();

  it('names a row rewritten with its plain SHA-256 chain recomputed (what anyone could forge before the key)', () => {
    const { store } = logged(5);
    tamper(store, (db) => {
      const rows = db.prepare('SELECT id, at, actor, action, detail, hash FROM audit_log ORDER BY id').all() as { id: number; at: string; actor: string; action: string; detail: string; hash: string }[];
      let previous = '0'.repeat(64);
      for (const row of rows) {
        const actor = row.id === 3 ? 'somebody else' : row.actor;
        previous = createHash('sha256').update(previous).update(canonicalJson({ id: row.id, at: row.at, actor, action: row.action, detail: JSON.parse(row.detail) })).digest('hex');
        db.prepare('UPDATE audit_log SET actor = ?, hash = ? WHERE id = ?').run(actor, previous, row.id);
      }
      db.prepare('UPDATE audit_head SET hash = ? WHERE id = 1').run(previous);
    });
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBad: 1, reason: expect.stringMatching(/does not match its MAC/) });
  });

  it('names a row forged under another key', () => {
    const { store } = logged(3);
    tamper(store, (db) => {
      const head = db.prepare('SELECT hash FROM audit_head').get() as { hash: string };
      const forged = { id: 4, at: new Date().toISOString(), actor: 'operator', action: 'leave', detail: { meters: [4] } };
      const hash = createHmac('sha256', Buffer.alloc(32, 7)).update(head.hash).update(canonicalJson(forged)).digest('hex');
      db.prepare('INSERT INTO audit_log (id, at, actor, action, detail, hash) VALUES (?, ?, ?, ?, ?, ?)').run(4, forged.at, forged.actor, forged.action, canonicalJson(forged.detail), hash);
    });
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBad: 4 });
  });

  it.each([
    ['an edited meter list', ["UPDATE audit_log SET detail = '{\"meters\":[99]}' WHERE id = 2"], 2, /does not match its MAC/],
    ['two rows swapped', ['UPDATE audit_log SET id = 100 WHERE id = 2', 'UPDATE audit_log SET id = 2 WHERE id = 4', 'UPDATE audit_log SET id = 4 WHERE id = 100'], 2, /does not match its MAC/],
    ['the newest row dropped', ['DELETE FROM audit_log WHERE id = 5'], 5, /newest rows were deleted/],
  ] as const)('names %s', (_, statements, firstBad, reason) => {
    const { store } = logged(5);
    tamper(store, (db) => {
      for (const statement of statements) db.exec(statement);
    });
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBad, reason: expect.stringMatching(reason) });
  });

  it('names the newest rows dropped with the head pointed back at the row before, whose hash is in plain sight', () => {
    const { store } = logged(5);
    tamper(store, (db) => {
      const row3 = db.prepare('SELECT hash FROM audit_log WHERE id = 3').get() as { hash: string };
      db.exec('DELETE FROM audit_log WHERE id > 3');
      db.prepare('UPDATE audit_head SET last_row = 3, hash = ? WHERE id = 1').run(row3.hash);
    });
    expect(store.verifyAudit()).toMatchObject({ ok: false, reason: expect.stringMatching(/head does not match its MAC/) });
  });

  it('keys the plain chain of a store made before the key, recording how it verified, in the migration that adds the key', () => {
    const path = tempDb();
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const statement of MIGRATIONS.slice(0, 3).flat()) raw.exec(statement);
    raw.exec('INSERT INTO schema_version (version) VALUES (3)');
    const { wrapped } = Sealer.create(PASSPHRASE, CHEAP);
    raw.prepare('INSERT INTO keyring (id, salt, cost, block_size, parallelism, wrapped_data_key) VALUES (1, ?, ?, ?, ?, ?)').run(wrapped.salt, wrapped.scrypt.cost, wrapped.scrypt.blockSize, wrapped.scrypt.parallelism, wrapped.wrapped);
    let previous = '0'.repeat(64);
    for (let id = 1; id <= 3; id++) {
      const entry = { id, at: `2026-11-0${id}T10:00:00.000Z`, actor: 'operator', action: 'leave', detail: { meters: [id] } };
      previous = createHash('sha256').update(previous).update(canonicalJson(entry)).digest('hex');
      raw.prepare('INSERT INTO audit_log (id, at, actor, action, detail, hash) VALUES (?, ?, ?, ?, ?, ?)').run(id, entry.at, entry.actor, entry.action, canonicalJson(entry.detail), previous);
    }
    raw.prepare('INSERT INTO audit_head (id, last_row, hash) VALUES (1, 3, ?)').run(previous);
    raw.close();

    const store = KmStore.open(path, PASSPHRASE, { writer: 'upgrade' });
    cleanups.push(() => store.close());
    expect(store.verifyAudit()).toEqual({ ok: true, rows: 4 });
    expect(store.auditEntries().at(-1)).toMatchObject({ action: 'audit chain keyed', actor: 'upgrade', detail: { rows: 3, before: 'intact' } });
    expect(store.auditEntries().slice(0, 3).map((entry) => entry.detail)).toEqual([{ meters: [1] }, { meters: [2] }, { meters: [3] }]);
  });

  it('needs the store\'s key: a store with the same rows under another passphrase does not verify them', () => {
    const { store, path } = logged(2);
    store.close();
    const other = created();
    const rows = new Database(path, { readonly: true }).prepare('SELECT id, at, actor, action, detail, hash FROM audit_log ORDER BY id').all() as Record<string, unknown>[];
    other.db.transaction(() => {
      for (const row of rows) other.db.prepare('INSERT INTO audit_log (id, at, actor, action, detail, hash) VALUES (@id, @at, @actor, @action, @detail, @hash)').run(row);
    })();
    expect(other.verifyAudit()).toMatchObject({ ok: false, firstBad: 1 });
  });
});
