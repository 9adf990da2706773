import { readFileSync, writeFileSync } from 'node:fs';
import { fromHex, toHex } from '../grep/bytes.js';
import { checkSigningPublicKey, type GrepCrypto, PUBLIC_KEY_BYTES, type Random, SIGNING_KEY_BYTES } from '../grep/crypto.js';
import { GrepError } from '../grep/errors.js';
import { firmwareFail } from './errors.js';

/**
 * Vendor/operator signing keys as hex files: `<base>.key` (the 32-byte Ed25519 seed, owner-only) and
 * `<base>.pub` (the public key staging trusts). Hex, not PEM, so an operator can compare a key by eye.
 */

export interface SigningKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateSigningKey(crypto: GrepCrypto, random: Random): SigningKeyPair {
  const secretKey = random(SIGNING_KEY_BYTES);
  return { secretKey, publicKey: crypto.publicKey(secretKey) };
}

function readHex(path: string, length: number, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromHex(readFileSync(path, 'utf8').trim());
  } catch (error) {
    if (error instanceof GrepError) firmwareFail('BAD_ARGUMENT', `${path}: ${what} is not hex`);
    throw error;
  }
  if (bytes.length !== length) firmwareFail('BAD_ARGUMENT', `${path}: ${what} must be ${length} bytes`);
  return bytes;
}

export function writeSigningKeyFiles(base: string, pair: SigningKeyPair): { readonly secretPath: string; readonly publicPath: string } {
  const secretPath = `${base}.key`;
  const publicPath = `${base}.pub`;
  // 'wx': never overwrite a key that may already sign deployed firmware
  writeFileSync(secretPath, `${toHex(pair.secretKey)}\n`, { mode: 0o600, flag: 'wx' });
  writeFileSync(publicPath, `${toHex(pair.publicKey)}\n`, { flag: 'wx' });
  return { secretPath, publicPath };
}

export function readSigningKey(path: string): Uint8Array {
  return readHex(path, SIGNING_KEY_BYTES, 'signing key');
}

/** A trusted key must not be a small-order point, which would accept forged signatures. */
export function readPublicKey(path: string): Uint8Array {
  const key = readHex(path, PUBLIC_KEY_BYTES, 'public key');
  try {
    return checkSigningPublicKey(key, `${path}: public key`);
  } catch (error) {
    if (error instanceof GrepError) firmwareFail('BAD_ARGUMENT', error.message);
    throw error;
  }
}
