import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { MIGRATIONS } from './migrations.js';

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

/** Opens (creating if absent) a store at its newest schema version. */
export function openDatabase(path: string): Db {
  if (existsSync(path)) checkIntegrity(path);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the outbox is sent, which is the whole point of §11
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export function schemaVersion(db: Db): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/** Applies the missing migrations, each with its version bump in one transaction; a no-op when current. */
export function migrate(db: Db): number {
  for (let version = schemaVersion(db); version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      for (const statement of MIGRATIONS[version]!) db.exec(statement);
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(version + 1);
    })();
  }
  return schemaVersion(db);
}
