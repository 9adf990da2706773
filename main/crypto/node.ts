import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomFillSync,
  sign as signWith,
  verify as verifyWith,
} from 'node:crypto';
import { concatBytes } from '../grep/bytes.js';
import {
  checkKey,
  type GrepCrypto,
  KEY_BYTES,
  PUBLIC_KEY_BYTES,
  type Random,
  SIGNATURE_BYTES,
  SIGNING_KEY_BYTES,
  TAG_BYTES,
} from '../grep/crypto.js';

/*
 * GrepCrypto on OpenSSL through node:crypto, for the KM process and the simulator (TOOLCHAIN.md
 * "Measured here": Ed25519 verification dominates a meter's rekey cost). It must give byte-for-byte
 * the outputs of nobleCrypto: test/unit/crypto.test.ts runs the same vectors against both.
 */

/**
 * Buffer#slice aliases its source while Uint8Array#slice copies; the core slices what it receives
 * (kgFingerprint, ByteReader) expecting copies, so no Buffer leaves this module.
 */
function plain(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

const AES = 'aes-128-gcm';

/**
 * RFC 5869 with an empty salt: the salt becomes HashLen zero bytes, which HMAC pads exactly like an
 * empty key. A 16-byte output needs only the first expand block, T(1) = HMAC(PRK, info ‖ 0x01): two
 * HMACs, measured twice as fast here as crypto.hkdfSync.
 */
const EMPTY_SALT = new Uint8Array(0);
const FIRST_BLOCK = new Uint8Array([1]);

/** RFC 8410 DER wrappers around a raw 32-byte Ed25519 seed (PKCS#8) and public key (SPKI). */
const PKCS8_PREFIX = Uint8Array.from(Buffer.from('302e020100300506032b657004220420', 'hex'));
const SPKI_PREFIX = Uint8Array.from(Buffer.from('302a300506032b6570032100', 'hex'));

/**
 * Importing a key costs as much as using it or more (a PKCS#8 import derives the public key: ~1 ms
 * here, against ~40 µs per signature), and the KM signs with one key while every meter verifies with
 * one: a few cached KeyObjects cover the real workloads, and the bound keeps a simulator that cycles
 * through many keys from growing without limit.
 */
const CACHED_KEYS = 64;

class KeyCache {
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly build: (raw: Uint8Array) => KeyObject) {}

  get(id: string, raw: Uint8Array): KeyObject {
    let key = this.keys.get(id);
    if (key === undefined) {
      key = this.build(raw);
      if (this.keys.size >= CACHED_KEYS) this.keys.delete(this.keys.keys().next().value!);
      this.keys.set(id, key);
    }
    return key;
  }
}

const privateKeys = new KeyCache((seed) =>
  createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' }),
);
const publicKeys = new KeyCache((raw) =>
  createPublicKey({ key: Buffer.from(concatBytes(SPKI_PREFIX, raw)), format: 'der', type: 'spki' }),
);

/** Cached by a digest of the seed, so the KM's signing key does not linger as an unwipeable string. */
function privateKey(seed: Uint8Array): KeyObject {
  checkKey(seed, 'Ed25519 seed', SIGNING_KEY_BYTES);
  return privateKeys.get(createHash('sha256').update(seed).digest('hex'), seed);
}

function hmacSha256(key: Uint8Array, ...data: Uint8Array[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of data) mac.update(part);
  return mac.digest();
}

export const nodeCrypto: GrepCrypto = {
  name: 'node',
  seal(key, nonce, plaintext, aad) {
    const cipher = createCipheriv(AES, key, nonce, { authTagLength: TAG_BYTES }).setAAD(aad);
    const body = cipher.update(plaintext);
    const tail = cipher.final();
    return concatBytes(body, tail, cipher.getAuthTag());
  },
  open(key, nonce, sealed, aad) {
    if (sealed.length < TAG_BYTES) return undefined;
    const bodyLength = sealed.length - TAG_BYTES;
    try {
      const decipher = createDecipheriv(AES, key, nonce, { authTagLength: TAG_BYTES })
        .setAAD(aad)
        .setAuthTag(sealed.subarray(bodyLength));
      const body = decipher.update(sealed.subarray(0, bodyLength));
      // final() throws on a bad tag; nothing decrypted is released before it has passed.
      return concatBytes(body, decipher.final());
    } catch {
      return undefined;
    }
  },
  kdf(ikm, info) {
    const prk = hmacSha256(EMPTY_SALT, ikm);
    return plain(hmacSha256(prk, info, FIRST_BLOCK)).slice(0, KEY_BYTES);
  },
  hmac(key, data) {
    return plain(hmacSha256(key, data));
  },
  sha256(data) {
    return plain(createHash('sha256').update(data).digest());
  },
  sign(secretKey, message) {
    return plain(signWith(null, message, privateKey(secretKey)));
  },
  verify(publicKey, message, signature) {
    if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
    // OpenSSL imports any 32 bytes as a key, off-curve ones included, and verify() then answers false.
    return verifyWith(null, message, publicKeys.get(Buffer.from(publicKey).toString('hex'), publicKey), signature);
  },
  publicKey(secretKey) {
    const spki = createPublicKey(privateKey(secretKey)).export({ format: 'der', type: 'spki' });
    return plain(spki).slice(SPKI_PREFIX.length);
  },
};

/** The OS CSPRNG, for the KM's real keys (seededRandom is for tests and the simulator only). */
export const nodeRandom: Random = (length) => randomFillSync(new Uint8Array(length));
