import { writeFileSync } from 'node:fs';
import { keyFileText, readKeyFile } from '../files/keyFile.js';
import { InputFileError } from '../files/readBounded.js';
import { checkSigningPublicKey, type GrepCrypto, type Random, SIGNING_KEY_BYTES } from '../grep/crypto.js';
import { GrepError } from '../grep/errors.js';

/**
 * Vendor/operator signing keys as typed key files (files/keyFile.ts): `<base>.key` (the 32-byte
 * Ed25519 seed, owner-only) and `<base>.pub` (the public key staging trusts). Hex inside armor, not
 * PEM's base64, so an operator can compare a key by eye.
 */

export interface SigningKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateSigningKey(crypto: GrepCrypto, random: Random): SigningKeyPair {
  const secretKey = random(SIGNING_KEY_BYTES);
  return { secretKey, publicKey: crypto.publicKey(secretKey) };
}

export function writeSigningKeyFiles(base: string, pair: SigningKeyPair): { readonly secretPath: string; readonly publicPath: string } {
  const secretPath = `${base}.key`;
  const publicPath = `${base}.pub`;
  // 'wx': never overwrite a key that may already sign deployed firmware
  writeFileSync(secretPath, keyFileText('vendorSecret', pair.secretKey), { mode: 0o600, flag: 'wx' });
  writeFileSync(publicPath, keyFileText('vendorPublic', pair.publicKey), { flag: 'wx' });
  return { secretPath, publicPath };
}

export function readSigningKey(path: string): Uint8Array {
  return readKeyFile(path, 'vendorSecret');
}

/** A trusted key must not be a small-order point, which would accept forged signatures. */
export function readPublicKey(path: string): Uint8Array {
  const key = readKeyFile(path, 'vendorPublic');
  try {
    return checkSigningPublicKey(key, `${path}: public key`);
  } catch (error) {
    if (error instanceof GrepError) throw new InputFileError('BAD_KEY_FILE', path, error.message);
    throw error;
  }
}
