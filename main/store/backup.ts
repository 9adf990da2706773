import { randomBytes } from 'node:crypto';
import { existsSync, fsyncSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { readInputFile } from '../files/readBounded.js';
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
 *
 * The cost fields are read before anything is authenticated, so whoever hands over a backup chooses
 * what restore spends: N = 2^22, r = 32, p = 16 took 4.3 GB and 23 s. Restore takes only the cost
 * backup writes (DEFAULT_SCRYPT: N = 2^15, r = 8, p = 1, 32 MiB) or N up to 2^17 (128 MiB, ~0.4 s),
 * room for a later default to rise without older backups becoming unreadable.
 */

const MAGIC = Buffer.from('GREPKMB1');
const SALT_BYTES = 16;
const HEADER_BYTES = MAGIC.length + SALT_BYTES + 12;
const AAD = 'grep-km backup';
const RESTORE_MAX_COST = 2 ** 17;

function scratchFile(dir: string, label: string): string {
  return join(dir, `.${label}-${randomBytes(6).toString('hex')}`);
}

export async function writeBackup(db: Db, file: string, passphrase: string): Promise<void> {
  const scrypt = DEFAULT_SCRYPT;
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
  const plaintext = openBackup(readInputFile(file, 'backup'), passphrase);
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
  const scrypt = acceptedCost({ cost: header.readUInt32BE(at), blockSize: header.readUInt32BE(at + 4), parallelism: header.readUInt32BE(at + 8) });
  const plaintext = openBox(deriveKey(passphrase, salt, scrypt), bytes.subarray(HEADER_BYTES), `${AAD}:${header.toString('hex')}`);
  if (!plaintext) throw new StoreError('WRONG_PASSPHRASE', 'the backup does not open: wrong backup passphrase, or the file is damaged');
  return plaintext;
}

/** The header's cost if restore takes it; otherwise BAD_BACKUP naming the field, before any scrypt runs. */
function acceptedCost(scrypt: ScryptCost): ScryptCost {
  const { cost, blockSize, parallelism } = scrypt;
  const power = (n: number) => `2^${Math.log2(n)}`;
  const refuse = (field: string, value: number, accepted: string): never => {
    throw new StoreError('BAD_BACKUP', `the backup header asks for scrypt ${field} = ${value}; restore accepts only ${accepted}`);
  };
  // a power of two, as scrypt requires
  if (cost < DEFAULT_SCRYPT.cost || cost > RESTORE_MAX_COST || (cost & (cost - 1)) !== 0) refuse('N', cost, `N = ${power(DEFAULT_SCRYPT.cost)}..${power(RESTORE_MAX_COST)}`);
  if (blockSize !== DEFAULT_SCRYPT.blockSize) refuse('r', blockSize, `r = ${DEFAULT_SCRYPT.blockSize}`);
  if (parallelism !== DEFAULT_SCRYPT.parallelism) refuse('p', parallelism, `p = ${DEFAULT_SCRYPT.parallelism}`);
  return scrypt;
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
