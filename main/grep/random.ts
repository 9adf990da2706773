import { rngAesCtrDrbg128 } from '@noble/ciphers/aes.js';
import type { Random } from './crypto.js';

/** Deterministic randomness for tests, benchmarks and the simulator: the same seed replays the same keys. Never for the KM's real keys. */
export function seededRandom(seed: number): Random {
  const seedBytes = new Uint8Array(32);
  new DataView(seedBytes.buffer).setUint32(0, seed);
  const drbg = rngAesCtrDrbg128(seedBytes);
  return (length) => drbg.randomBytes(length);
}
