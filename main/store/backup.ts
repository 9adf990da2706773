import { randomBytes } from 'node:crypto';
import { existsSync, fsyncSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { checkIntegrity, type Db } from './db.js';
import { StoreError } from './errors.js';
import { DEFAULT_SCRYPT, deriveKey, openBox, type ScryptCost, sealBox } from './sealing.js';

/*
 * An encrypted copy of the whole store: SQLite's online backup (consistent while the store is in use)
 * to a temp file, sealed whole under a key from a backup passphrase that is separate from the operator
 * passphrase, so a backup can be handed to whoever keeps it offline. The secret columns inside stay
 * sealed under the store's data key as well.
 *
 * File: MAGIC ‖ salt (16) ‖ scrypt N, r, p (u32 each, big-endian) ‖ AES-256-GCM box of the database file.
 */

const MAGIC = Buffer.from('GREPKMB1');
const SALT_BYTES = 16;
const HEADER_BYTES = MAGIC.length + SALT_BYTES + 12;
const AAD = 'grep-km backup';

function scratchFile(dir: string, label: string): string {
  return join(dir, `.${label}-${randomBytes(6).toString('hex')}`);
}

export async function writeBackup(db: Db, file: string, passphrase: string, scrypt: ScryptCost = DEFAULT_SCRYPT): Promise<void> {
  const copy = scratchFile(tmpdir(), 'grep-km-backup');
  try {
    await db.backup(copy);
    const salt = randomBytes(SALT_BYTES);
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header);
    salt.copy(header, MAGIC.length);
    header.writeUInt32BE(scrypt.cost, MAGIC.length + SALT_BYTES);
    header.writeUInt32BE(scrypt.blockSize, MAGIC.length + SALT_BYTES + 4);
    header.writeUInt32BE(scrypt.parallelism, MAGIC.length + SALT_BYTES + 8);
    // the header is bound as AAD too: a backup whose cost fields were lowered does not open
    const box = sealBox(deriveKey(passphrase, salt, scrypt), readFileSync(copy), `${AAD}:${header.toString('hex')}`);
    writeDurably(file, Buffer.concat([header, box]));
  } finally {
    rmSync(copy, { force: true });
  }
}

/**
 * Replaces the store at `dbPath` with a backup. Everything is checked on a scratch copy first; the
 * store is replaced by one rename, so a refused or interrupted restore leaves it untouched. The store
 * must be closed (no -wal beside it: SQLite removes it on the last clean close), or SQLite would replay the old store's log onto the new file.
 */
export function restoreBackup(file: string, passphrase: string, dbPath: string): void {
  const wal = `${dbPath}-wal`;
  if (existsSync(wal)) throw new StoreError('STORE_OPEN', `${dbPath} is open or was not closed cleanly: close it before restoring`);
  const plaintext = openBackup(readFileSync(file), passphrase);
  const scratch = scratchFile(dirname(dbPath), `${basename(dbPath)}.restore`);
  try {
    writeDurably(scratch, plaintext);
    checkIntegrity(scratch);
    const check = new Database(scratch, { readonly: true });
    try {
      if (!check.prepare("SELECT 1 FROM sqlite_master WHERE name = 'keyring'").get()) throw new StoreError('BAD_BACKUP', `${file} does not hold a Key Manager store`);
    } finally {
      check.close();
    }
    rmSync(`${dbPath}-shm`, { force: true });
    renameSync(scratch, dbPath);
  } catch (error) {
    rmSync(scratch, { force: true });
    if (error instanceof StoreError && error.code === 'CORRUPT') throw new StoreError('BAD_BACKUP', `${file} holds a damaged store: ${error.message}`);
    throw error;
  }
}

function openBackup(bytes: Buffer, passphrase: string): Uint8Array {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new StoreError('BAD_BACKUP', 'not a Key Manager backup file');
  const header = bytes.subarray(0, HEADER_BYTES);
  const salt = header.subarray(MAGIC.length, MAGIC.length + SALT_BYTES);
  const at = MAGIC.length + SALT_BYTES;
  const scrypt = { cost: header.readUInt32BE(at), blockSize: header.readUInt32BE(at + 4), parallelism: header.readUInt32BE(at + 8) };
  if (scrypt.cost < 2 ** 10 || scrypt.cost > 2 ** 22 || scrypt.blockSize < 1 || scrypt.blockSize > 32 || scrypt.parallelism < 1 || scrypt.parallelism > 16) {
    throw new StoreError('BAD_BACKUP', 'the backup header is damaged');
  }
  const plaintext = openBox(deriveKey(passphrase, salt, scrypt), bytes.subarray(HEADER_BYTES), `${AAD}:${header.toString('hex')}`);
  if (!plaintext) throw new StoreError('WRONG_PASSPHRASE', 'the backup does not open: wrong backup passphrase, or the file is damaged');
  return plaintext;
}

function writeDurably(file: string, bytes: Uint8Array): void {
  writeFileSync(file, bytes, { mode: 0o600 });
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
