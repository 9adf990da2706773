import { gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fail } from './errors.js';

/** Keys and tokens are 16 random bytes (GREP.md §2). */
export const KEY_BYTES = 16;
export const TAG_BYTES = 16;
export const NONCE_BYTES = 12;
export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNING_KEY_BYTES = 32;
export const FINGERPRINT_BYTES = 4;

/** Randomness is injected so the core stays deterministic under test and replayable in the simulator. */
export type Random = (length: number) => Uint8Array;

/**
 * The primitives GREP needs (§8). The core only sees this interface: the portable @noble
 * implementation below is the default; main/crypto/node.ts is a faster one for the KM process
 * and the simulator. Both must pass the same vectors (test/unit/crypto.test.ts).
 */
export interface GrepCrypto {
  readonly name: string;
  /** AES-128-GCM; returns ciphertext ‖ tag. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** AES-128-GCM; undefined when authentication fails (wrong key, tampered data). */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined;
  /** HKDF-SHA-256 with empty salt, 16-byte output. */
  kdf(ikm: Uint8Array, info: Uint8Array): Uint8Array;
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  /** Ed25519; secretKey is the 32-byte seed. */
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  publicKey(secretKey: Uint8Array): Uint8Array;
}

export const nobleCrypto: GrepCrypto = {
  name: 'noble',
  seal(key, nonce, plaintext, aad) {
    return gcm(key, nonce, aad).encrypt(plaintext);
  },
  open(key, nonce, sealed, aad) {
    if (sealed.length < TAG_BYTES) return undefined;
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      return undefined;
    }
  },
  kdf(ikm, info) {
    return hkdf(sha256, ikm, undefined, info, KEY_BYTES);
  },
  hmac(key, data) {
    return hmac(sha256, key, data);
  },
  sha256(data) {
    return sha256(data);
  },
  sign(secretKey, message) {
    return ed25519.sign(message, secretKey);
  },
  verify(publicKey, message, signature) {
    if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
    try {
      // strict RFC 8032 rules, as OpenSSL applies them: every meter must reach the same verdict
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  publicKey(secretKey) {
    return ed25519.getPublicKey(secretKey);
  },
};

const FINGERPRINT_LABEL = new TextEncoder().encode('fp');

/** Acks carry the first 4 bytes of HMAC(KG, "fp") so the KM can tell a member's KG without seeing it (§7). */
export function kgFingerprint(crypto: GrepCrypto, kg: Uint8Array): Uint8Array {
  return crypto.hmac(kg, FINGERPRINT_LABEL).slice(0, FINGERPRINT_BYTES);
}

/**
 * A small-order Ed25519 public key accepts forged signatures for any message; a KM key must never be
 * one, whatever commissioning was given.
 */
export function checkSigningPublicKey(publicKey: Uint8Array, what: string): Uint8Array {
  checkKey(publicKey, what, PUBLIC_KEY_BYTES);
  let smallOrder: boolean;
  try {
    smallOrder = ed25519.Point.fromBytes(publicKey).isSmallOrder();
  } catch {
    fail('BAD_KEY', `${what} is not a valid Ed25519 public key`);
  }
  if (smallOrder) fail('BAD_KEY', `${what} is a small-order point and would accept forged signatures`);
  return publicKey;
}

export function checkKey(key: Uint8Array, what: string, length = KEY_BYTES): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== length) fail('BAD_KEY', `${what} must be ${length} bytes`);
  return key;
}
