import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { APPLICATION_ID, MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * Checks an existing file before anything may write to it: a corrupt store is the operator's only
 * copy of the group's keys, so it is reported and left exactly as found (no journal mode switch, no
 * migration, no WAL checkpoint) for forensic recovery from a backup.
 */
export function checkIntegrity(path: string): void {
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    const problems = rows.map((row) => row.integrity_check).filter((text) => text !== 'ok');
    if (problems.length > 0) throw new StoreError('CORRUPT', `${path} is corrupt (${problems.slice(0, 3).join('; ')}); restore it from a backup`);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError('CORRUPT', `${path} is not a readable Key Manager store (${(error as Error).message}); restore it from a backup`);
  } finally {
    db?.close();
  }
}

export interface OpenOptions {
  /** no migration, no pragma that writes: for a process that reads while another operates the store */
  readonly readOnly?: boolean;
}

/**
 * Opens (creating if absent) a store; the caller migrates it (migrate()) once it has the data key,
 * which a migration may need. An existing file is opened for writing only once it has shown it is one of ours: a file that merely happens to sit at the store's path (or the
 * husk left when a store's -wal file was deleted) is refused, named and left as it was.
 */
export function openDatabase(path: string, { readOnly = false }: OpenOptions = {}): Db {
  const existing = existsSync(path) && statSync(path).size > 0;
  if (existing) checkIntegrity(path);
  else if (readOnly) throw new StoreError('NOT_A_STORE', `${path} is not a Key Manager store (it is ${existsSync(path) ? 'empty' : 'missing'})`);
  // created owner-only: SQLite gives the -wal and -shm files the mode of the database file
  else if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600));
  const db = new Database(path, readOnly ? { readonly: true, fileMustExist: true } : {});
  try {
    if (existing) checkOurs(db, path);
    if (readOnly) {
      if (schemaVersion(db) !== MIGRATIONS.length) throw new StoreError('STORE_VERSION', `${path} is at schema version ${schemaVersion(db)}, this program reads version ${MIGRATIONS.length}: open it once with a command that writes`);
      return db;
    }
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the outbox is sent, which is the whole point of §11
    db.pragma('synchronous = FULL');
    // a campaign's frames swell the WAL to megabytes; once checkpointed it shrinks back to this
    db.pragma('journal_size_limit = 1048576');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Ours: our application id, or (stores made before it was written) a schema_version table at a
 * version we know of. Read without writing: a file that is not ours must stay exactly as found.
 */
function checkOurs(db: Db, path: string): void {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const notOurs = (why: string) => new StoreError('NOT_A_STORE', `${path} is not a Key Manager store (${why}); it was left untouched: name another file, or restore the store from a backup`);
  if (applicationId !== 0 && applicationId !== APPLICATION_ID) throw notOurs(`its SQLite application id is 0x${applicationId.toString(16)}`);
  if (!hasTable(db, 'schema_version')) throw notOurs('it has no schema version: another program\'s database, or what is left of a store whose -wal file was deleted');
  const version = (db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined)?.version ?? 0;
  if (version < 1) throw notOurs(`schema version ${version}`);
  if (version > MIGRATIONS.length) throw new StoreError('STORE_VERSION', `${path} is at schema version ${version}, newer than this program knows (${MIGRATIONS.length}): use the newer program`);
}

/** Whether the file has table `name`: asked without creating anything, so a read-only or foreign file stays as it is. */
export const hasTable = (db: Db, name: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

export function schemaVersion(db: Db): number {
  if (!db.readonly) db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  else if (!hasTable(db, 'schema_version')) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/**
 * Applies the missing migrations, each with its version bump in one transaction; a no-op when current.
 * `reached(version)` runs inside the transaction that reaches `version`, for the steps that need the
 * data key (the audit chain's keying), so a step and its keyed part commit together or not at all.
 */
export function migrate(db: Db, reached?: (version: number) => void): number {
  for (let version = schemaVersion(db); version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      for (const statement of MIGRATIONS[version]!) db.exec(statement);
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(version + 1);
      reached?.(version + 1);
    })();
  }
  return schemaVersion(db);
}
