import { rngAesCtrDrbg128 } from '@noble/ciphers/aes.js';
import type { Random } from './crypto.js';

/** Deterministic randomness for tests, benchmarks and the simulator: the same seed replays the same keys. Never for the KM's real keys. */
export function seededRandom(seed: number): Random {
  const seedBytes = new Uint8Array(32);
  new DataView(seedBytes.buffer).setUint32(0, seed);
  const drbg = rngAesCtrDrbg128(seedBytes);
  // the DRBG serves at most 64 KiB a request; a re-seed of 10^6 members asks for 32 MB at once
  const request = 1 << 16;
  return (length) => {
    if (length <= request) return drbg.randomBytes(length);
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += request) out.set(drbg.randomBytes(Math.min(request, length - offset)), offset);
    return out;
  };
}
