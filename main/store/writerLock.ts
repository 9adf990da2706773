import { closeSync, openSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';

/*
 * One writer per store. Two Key Manager processes on one file fork the group: the second executes
 * from the epoch it holds in memory and overwrites the first's removal, so a removed meter holds the
 * group key again. The process that operates a store holds this lock for as long as it has it open.
 *
 * The lock is SQLite's own: a RESERVED lock on a small side file (`<store>.lock`), taken with
 * BEGIN IMMEDIATE and held by a transaction that never ends. It is an OS lock (fcntl on POSIX,
 * LockFileEx on Windows), so the kernel drops it when the process dies: a crash never leaves a lock
 * behind. RESERVED still lets other connections read the side file, which is how a refused process
 * learns who holds it; readers of the store itself take no lock at all (WAL lets them read while the
 * writer writes).
 */

export interface WriterInfo {
  readonly pid: number;
  readonly host: string;
  /** what the holder said it is: "grepctl leave", "console", "desktop app" */
  readonly program: string;
  readonly since: string;
}

export const lockPathOf = (storePath: string) => `${storePath}.lock`;

const describe = (holder: WriterInfo | undefined) =>
  holder ? `${holder.program} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'another process (it has not said which)';

export class WriterLock {
  private constructor(private readonly db: Database.Database, readonly info: WriterInfo) {}

  /** Takes the lock or throws STORE_BUSY naming the holder; never waits. */
  static acquire(storePath: string, program: string): WriterLock {
    const path = lockPathOf(storePath);
    // created owner-only before SQLite opens it: it names who operates the store
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError('LOCK_FAILED', `cannot create the writer lock ${path}: ${(error as Error).message}`);
    }
    let db: Database.Database;
    try {
      db = new Database(path, { timeout: 0 });
    } catch (error) {
      throw new StoreError('LOCK_FAILED', `cannot open the writer lock ${path}: ${(error as Error).message}`);
    }
    try {
      db.pragma('journal_mode = DELETE');
      db.exec('CREATE TABLE IF NOT EXISTS writer (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, program TEXT NOT NULL, since TEXT NOT NULL)');
      const info: WriterInfo = { pid: process.pid, host: hostname(), program, since: new Date().toISOString() };
      // say who we are, then hold: a process that slips in between says who it is and holds instead,
      // and our second BEGIN names it
      begin(db, storePath);
      db.prepare('INSERT OR REPLACE INTO writer (id, pid, host, program, since) VALUES (1, ?, ?, ?, ?)').run(info.pid, info.host, info.program, info.since);
      db.exec('COMMIT');
      begin(db, storePath);
      return new WriterLock(db, info);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Who holds the lock of `storePath` now, or undefined when nobody does. */
  static holder(storePath: string): WriterInfo | undefined {
    let db: Database.Database | undefined;
    try {
      db = new Database(lockPathOf(storePath), { timeout: 0, fileMustExist: true });
      try {
        db.exec('BEGIN IMMEDIATE');
        db.exec('ROLLBACK');
        return undefined;
      } catch {
        return readHolder(db);
      }
    } catch {
      return undefined;
    } finally {
      db?.close();
    }
  }

  release(): void {
    // closing rolls the held transaction back, which drops the lock
    if (this.db.open) this.db.close();
  }
}

function readHolder(db: Database.Database): WriterInfo | undefined {
  try {
    return db.prepare('SELECT pid, host, program, since FROM writer WHERE id = 1').get() as WriterInfo | undefined;
  } catch {
    return undefined;
  }
}

function begin(db: Database.Database, storePath: string): void {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw new StoreError('LOCK_FAILED', `cannot take the writer lock of ${storePath}: ${(error as Error).message}`);
    throw new StoreError('STORE_BUSY', `${storePath} is being operated by ${describe(readHolder(db))}: one Key Manager writes a store at a time; use read-only commands (status, history, audit verify, fw status) meanwhile, or stop it first`);
  }
}
