import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { StoreError } from './errors.js';

/*
 * Secrets at rest (GREP.md §11): one random data key seals every secret column; it is itself wrapped
 * by a key derived from the operator passphrase with scrypt, so changing the passphrase rewraps one
 * key, and the passphrase never meets the data directly. Each box binds the identity of its row as
 * AAD, so a sealed value copied into another row (another group's state, another plan) does not open.
 */

const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SALT_BYTES = 16;

/** scrypt N = 2^15, r = 8 (OWASP's minimum for interactive logins): ~0.1 s here, 32 MiB. */
export const DEFAULT_SCRYPT = { cost: 2 ** 15, blockSize: 8, parallelism: 1 } as const;
export type ScryptCost = { readonly cost: number; readonly blockSize: number; readonly parallelism: number };

/**
 * The costs a keyring or a backup may ask for: from what tests use up to 16x what `init` and `backup`
 * write. A tampered header asking for N = 2^22, r = 32, p = 16 would take gigabytes and tens of
 * seconds before any check could fail; it is refused by name instead.
 */
export const SCRYPT_LIMITS = { minCost: 2 ** 10, maxCost: 2 ** 19, minBlockSize: 1, maxBlockSize: 8, maxParallelism: 2 } as const;

/** Why `scrypt` is outside SCRYPT_LIMITS, or undefined when it is within them. */
export function scryptCostProblem(scrypt: ScryptCost): string | undefined {
  const { cost, blockSize, parallelism } = scrypt;
  const { minCost, maxCost, minBlockSize, maxBlockSize, maxParallelism } = SCRYPT_LIMITS;
  if (!Number.isInteger(cost) || cost < minCost || cost > maxCost || (cost & (cost - 1)) !== 0) return `scrypt N = ${cost} (a power of 2 from ${minCost} to ${maxCost})`;
  if (!Number.isInteger(blockSize) || blockSize < minBlockSize || blockSize > maxBlockSize) return `scrypt r = ${blockSize} (${minBlockSize} to ${maxBlockSize})`;
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxParallelism) return `scrypt p = ${parallelism} (1 to ${maxParallelism})`;
  return undefined;
}

export interface WrappedKey {
  readonly salt: Uint8Array;
  readonly scrypt: ScryptCost;
  readonly wrapped: Uint8Array;
}

export function deriveKey(passphrase: string, salt: Uint8Array, scrypt: ScryptCost): Buffer {
  if (passphrase.length === 0) throw new StoreError('WRONG_PASSPHRASE', 'the passphrase must not be empty');
  const { cost: N, blockSize: r, parallelism: p } = scrypt;
  return scryptSync(passphrase.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r * p });
}

/** nonce ‖ ciphertext ‖ tag */
export function sealBox(key: Uint8Array, plaintext: Uint8Array, aad: string): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(aad));
  return new Uint8Array(Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
}

/** undefined when the key, the AAD or the bytes are not the ones it was sealed with */
export function openBox(key: Uint8Array, box: Uint8Array, aad: string): Uint8Array | undefined {
  if (box.length < NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv(CIPHER, key, box.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES })
      .setAAD(Buffer.from(aad))
      .setAuthTag(box.subarray(box.length - TAG_BYTES));
    const body = decipher.update(box.subarray(NONCE_BYTES, box.length - TAG_BYTES));
    return new Uint8Array(Buffer.concat([body, decipher.final()]));
  } catch {
    return undefined;
  }
}

const WRAP_AAD = 'grep-km data key';

/** Seals and opens the store's secret columns under the unwrapped data key. */
export class Sealer {
  private constructor(private readonly dataKey: Uint8Array) {}

  /** A fresh data key wrapped under `passphrase`; the WrappedKey is what the store keeps. */
  static create(passphrase: string, scrypt: ScryptCost = DEFAULT_SCRYPT): { sealer: Sealer; wrapped: WrappedKey } {
    const salt = randomBytes(SALT_BYTES);
    const dataKey = randomBytes(KEY_BYTES);
    const wrapped = sealBox(deriveKey(passphrase, salt, scrypt), dataKey, WRAP_AAD);
    return { sealer: new Sealer(new Uint8Array(dataKey)), wrapped: { salt: new Uint8Array(salt), scrypt, wrapped } };
  }

  /** Opens a keyring read from the store; a keyring that could not have been written by create() is CORRUPT, not a wrong passphrase. */
  static unwrap(passphrase: string, key: WrappedKey): Sealer {
    const problem = scryptCostProblem(key.scrypt) ??
      (key.salt.length !== SALT_BYTES ? `a salt of ${key.salt.length} bytes` : key.wrapped.length !== NONCE_BYTES + KEY_BYTES + TAG_BYTES ? `a wrapped key of ${key.wrapped.length} bytes` : undefined);
    if (problem) throw new StoreError('CORRUPT', `corrupt keyring: ${problem}; restore the store from a backup`);
    const dataKey = openBox(deriveKey(passphrase, key.salt, key.scrypt), key.wrapped, WRAP_AAD);
    if (!dataKey) throw new StoreError('WRONG_PASSPHRASE', 'wrong passphrase: the store\'s data key does not unwrap');
    return new Sealer(dataKey);
  }

  /** A key for one purpose (the audit chain's MAC), derived from the data key so it needs no storage of its own. */
  derivedKey(purpose: string): Uint8Array {
    return new Uint8Array(hkdfSync('sha256', this.dataKey, new Uint8Array(0), `grep-km ${purpose}`, KEY_BYTES));
  }

  seal(plaintext: Uint8Array, row: string): Uint8Array {
    return sealBox(this.dataKey, plaintext, row);
  }

  open(box: Uint8Array, row: string): Uint8Array {
    const plaintext = openBox(this.dataKey, box, row);
    if (!plaintext) throw new StoreError('SEAL_BROKEN', `the sealed value of ${row} does not open: it was altered or moved from another row`);
    return plaintext;
  }
}
