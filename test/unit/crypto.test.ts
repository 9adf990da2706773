import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { fromHex, toHex } from '../../main/grep/bytes.js';
import { type GrepCrypto, kgFingerprint, nobleCrypto } from '../../main/grep/crypto.js';

const text = (value: string) => new TextEncoder().encode(value);
const flipBit = (bytes: Uint8Array, bit: number) => {
  const copy = bytes.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};

/** McGrew–Viega, "The Galois/Counter Mode of Operation", test cases 1–4 (AES-128). */
const GCM_KEY = fromHex('feffe9928665731c6d6a8f9467308308');
const GCM_NONCE = fromHex('cafebabefacedbaddecaf888');
const GCM_PLAINTEXT = fromHex(
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
    '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
);
const GCM_CASES = [
  {
    name: 'case 1: empty plaintext, zero key',
    key: new Uint8Array(16),
    nonce: new Uint8Array(12),
    plaintext: new Uint8Array(0),
    aad: new Uint8Array(0),
    sealed: '58e2fccefa7e3061367f1d57a4e7455a',
  },
  {
    name: 'case 2: one zero block, zero key',
    key: new Uint8Array(16),
    nonce: new Uint8Array(12),
    plaintext: new Uint8Array(16),
    aad: new Uint8Array(0),
    sealed: '0388dace60b6a392f328c2b971b2fe78' + 'ab6e47d42cec13bdf53a67b21257bddf',
  },
  {
    name: 'case 3: four blocks',
    key: GCM_KEY,
    nonce: GCM_NONCE,
    plaintext: GCM_PLAINTEXT,
    aad: new Uint8Array(0),
    sealed:
      '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e' +
      '21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985' +
      '4d5c2af327cd64a62cf35abd2ba6fab4',
  },
  {
    name: 'case 4: partial last block, with AAD',
    key: GCM_KEY,
    nonce: GCM_NONCE,
    plaintext: GCM_PLAINTEXT.slice(0, 60),
    aad: fromHex('feedfacedeadbeeffeedfacedeadbeefabaddad2'),
    sealed:
      '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e' +
      '21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091' +
      '5bc94fbc3221a5db94fae95ae7121a47',
  },
];

/** RFC 8032 §7.1, TEST 1 and TEST 2. */
const ED25519_CASES = [
  {
    name: 'TEST 1 (empty message)',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

describe.each([nobleCrypto, nodeCrypto])('$name crypto', (crypto: GrepCrypto) => {
  describe('HKDF-SHA-256, empty salt, 16 bytes', () => {
    it('matches RFC 5869 test case 3 (the empty-salt case), truncated to 16 bytes', () => {
      expect(toHex(crypto.kdf(new Uint8Array(22).fill(0x0b), new Uint8Array(0)))).toBe('8da4e775a563c18f715f802a063c5a31');
    });

    // Expected values computed with Python's hmac module: PRK = HMAC(0^32, IKM), OKM = HMAC(PRK, info ‖ 01)[:16].
    it('binds the info: a token-refresh shaped info', () => {
      const ikm = Uint8Array.from({ length: 32 }, (_, i) => i);
      const info = fromHex('67726570206e6f6465000000070000002a'); // "grep node" ‖ owner 7 ‖ epoch 42
      expect(toHex(crypto.kdf(ikm, info))).toBe('6a9e565863ce2cdd0f04acc186f219f0');
    });

    it('handles IKM and info longer than a SHA-256 block', () => {
      const ikm = new Uint8Array(80).fill(0xaa);
      const info = Uint8Array.from({ length: 100 }, (_, i) => 0x80 + i);
      expect(toHex(crypto.kdf(ikm, info))).toBe('6ca392929d12382cddbf448583485117');
    });
  });

  describe('HMAC-SHA-256 and SHA-256', () => {
    it('matches RFC 4231 test case 2', () => {
      expect(toHex(crypto.hmac(text('Jefe'), text('what do ya want for nothing?')))).toBe(
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      );
    });

    it('matches FIPS 180-2 "abc"', () => {
      expect(toHex(crypto.sha256(text('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });

    it('gives the KG fingerprint of §7: HMAC(KG, "fp")[0..4]', () => {
      expect(toHex(kgFingerprint(crypto, fromHex('000102030405060708090a0b0c0d0e0f')))).toBe('28adde07');
    });
  });

  describe('AES-128-GCM', () => {
    it.each(GCM_CASES)('seals and opens GCM $name', ({ key, nonce, plaintext, aad, sealed }) => {
      expect(toHex(crypto.seal(key, nonce, plaintext, aad))).toBe(sealed);
      expect(crypto.open(key, nonce, fromHex(sealed), aad)).toEqual(plaintext);
    });

    const { key, nonce, plaintext, aad, sealed: sealedHex } = GCM_CASES[3]!;
    const sealed = fromHex(sealedHex);

    it('refuses a flipped bit anywhere in ciphertext, tag, AAD, nonce or key', () => {
      for (let bit = 0; bit < sealed.length * 8; bit++) expect(crypto.open(key, nonce, flipBit(sealed, bit), aad)).toBeUndefined();
      for (let bit = 0; bit < aad.length * 8; bit++) expect(crypto.open(key, nonce, sealed, flipBit(aad, bit))).toBeUndefined();
      for (let bit = 0; bit < nonce.length * 8; bit++) expect(crypto.open(key, flipBit(nonce, bit), sealed, aad)).toBeUndefined();
      for (let bit = 0; bit < key.length * 8; bit++) expect(crypto.open(flipBit(key, bit), nonce, sealed, aad)).toBeUndefined();
    });

    it('refuses truncated, extended and tag-less input without throwing', () => {
      for (let length = 0; length < sealed.length; length++) {
        expect(crypto.open(key, nonce, sealed.subarray(0, length), aad)).toBeUndefined();
      }
      const extended = new Uint8Array(sealed.length + 1);
      extended.set(sealed);
      expect(crypto.open(key, nonce, extended, aad)).toBeUndefined();
    });

    it('refuses a key of the wrong length without throwing', () => {
      expect(crypto.open(new Uint8Array(15), nonce, sealed, aad)).toBeUndefined();
      expect(crypto.open(new Uint8Array(32), nonce, sealed, aad)).toBeUndefined();
    });

    it('opens a plaintext that is itself a slice of a larger buffer', () => {
      const backing = new Uint8Array(plaintext.length + 8);
      backing.set(plaintext, 5);
      const view = backing.subarray(5, 5 + plaintext.length);
      expect(toHex(crypto.seal(key, nonce, view, aad))).toBe(sealedHex);
    });
  });

  describe('Ed25519', () => {
    it.each(ED25519_CASES)('matches RFC 8032 $name', (vector) => {
      const secret = fromHex(vector.secret);
      const message = fromHex(vector.message);
      expect(toHex(crypto.publicKey(secret))).toBe(vector.public);
      expect(toHex(crypto.sign(secret, message))).toBe(vector.signature);
      expect(crypto.verify(fromHex(vector.public), message, fromHex(vector.signature))).toBe(true);
    });

    it('rejects a wrong key, message or signature, and malformed input, without throwing', () => {
      const [one, two] = ED25519_CASES as [(typeof ED25519_CASES)[0], (typeof ED25519_CASES)[0]];
      const publicKey = fromHex(one.public);
      const signature = fromHex(one.signature);
      const message = new Uint8Array(0);
      expect(crypto.verify(fromHex(two.public), message, signature)).toBe(false);
      expect(crypto.verify(publicKey, fromHex('00'), signature)).toBe(false);
      expect(crypto.verify(publicKey, message, fromHex(two.signature))).toBe(false);
      for (const bit of [0, 100, 255, 256, 300, 511]) expect(crypto.verify(publicKey, message, flipBit(signature, bit))).toBe(false);
      expect(crypto.verify(publicKey, message, signature.subarray(0, 63))).toBe(false);
      expect(crypto.verify(publicKey, message, new Uint8Array([...signature, 0]))).toBe(false);
      expect(crypto.verify(publicKey, message, new Uint8Array(64))).toBe(false);
      expect(crypto.verify(publicKey, message, new Uint8Array(64).fill(0xff))).toBe(false);
      expect(crypto.verify(publicKey.subarray(0, 31), message, signature)).toBe(false);
      expect(crypto.verify(new Uint8Array([...publicKey, 0]), message, signature)).toBe(false);
      // y = 2: no curve point has it, so the key does not even decode
      expect(crypto.verify(fromHex('02' + '00'.repeat(31)), message, signature)).toBe(false);
    });

    it('refuses to sign with a seed of the wrong length', () => {
      expect(() => crypto.sign(new Uint8Array(31), new Uint8Array(1))).toThrow();
      expect(() => crypto.publicKey(new Uint8Array(33))).toThrow();
    });
  });

  it('returns plain Uint8Arrays, whose slice() copies (the core relies on it)', () => {
    const key = new Uint8Array(16);
    const seed = new Uint8Array(32);
    const outputs = [
      crypto.seal(key, new Uint8Array(12), new Uint8Array(32), new Uint8Array(0)),
      crypto.open(key, new Uint8Array(12), crypto.seal(key, new Uint8Array(12), new Uint8Array(32), new Uint8Array(0)), new Uint8Array(0))!,
      crypto.kdf(key, key),
      crypto.hmac(key, key),
      crypto.sha256(key),
      crypto.sign(seed, key),
      crypto.publicKey(seed),
    ];
    for (const output of outputs) expect(Object.getPrototypeOf(output)).toBe(Uint8Array.prototype);
  });
});

describe('nodeCrypto agrees with nobleCrypto on random inputs', () => {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max, size: 'max' });
  const key = bytes(16, 16);
  const nonce = bytes(12, 12);

  it('AES-128-GCM: same sealed bytes, each opens the other', () => {
    fc.assert(
      fc.property(key, nonce, bytes(0, 100), bytes(0, 40), (key, nonce, plaintext, aad) => {
        const sealed = nodeCrypto.seal(key, nonce, plaintext, aad);
        expect(nobleCrypto.seal(key, nonce, plaintext, aad)).toEqual(sealed);
        expect(nobleCrypto.open(key, nonce, sealed, aad)).toEqual(plaintext);
        expect(nodeCrypto.open(key, nonce, sealed, aad)).toEqual(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it('AES-128-GCM: both refuse the same random garbage', () => {
    fc.assert(
      fc.property(key, nonce, bytes(0, 60), bytes(0, 20), (key, nonce, sealed, aad) => {
        expect(nodeCrypto.open(key, nonce, sealed, aad)).toBeUndefined();
        expect(nobleCrypto.open(key, nonce, sealed, aad)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('HKDF, HMAC and SHA-256: same outputs', () => {
    fc.assert(
      fc.property(bytes(0, 150), bytes(0, 150), (first, second) => {
        expect(nodeCrypto.kdf(first, second)).toEqual(nobleCrypto.kdf(first, second));
        expect(nodeCrypto.hmac(first, second)).toEqual(nobleCrypto.hmac(first, second));
        expect(nodeCrypto.sha256(first)).toEqual(nobleCrypto.sha256(first));
      }),
      { numRuns: 500 },
    );
  });

  // Ed25519 in pure JS costs about a millisecond per operation: a few dozen runs keep this fast.
  it('Ed25519: same public keys and signatures, each verifies the other', () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(0, 200), (seed, message) => {
        const publicKey = nodeCrypto.publicKey(seed);
        const signature = nodeCrypto.sign(seed, message);
        expect(nobleCrypto.publicKey(seed)).toEqual(publicKey);
        expect(nobleCrypto.sign(seed, message)).toEqual(signature);
        expect(nobleCrypto.verify(publicKey, message, signature)).toBe(true);
        expect(nodeCrypto.verify(publicKey, message, signature)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('Ed25519: signing with many keys (beyond the KeyObject cache) stays correct', () => {
    const seeds = Array.from({ length: 80 }, (_, index) => new Uint8Array(32).fill(index));
    const message = text('rekey');
    const signatures = seeds.map((seed) => nodeCrypto.sign(seed, message));
    // the first seeds were evicted from the cache by now: signing again must rebuild the same key
    seeds.forEach((seed, index) => {
      expect(nodeCrypto.sign(seed, message)).toEqual(signatures[index]);
      expect(nodeCrypto.verify(nodeCrypto.publicKey(seed), message, signatures[index]!)).toBe(true);
    });
    expect(nobleCrypto.sign(seeds[0]!, message)).toEqual(signatures[0]);
  });
});

describe('nodeRandom', () => {
  it('returns the requested number of fresh bytes as a plain Uint8Array', () => {
    const first = nodeRandom(16);
    const second = nodeRandom(16);
    expect(Object.getPrototypeOf(first)).toBe(Uint8Array.prototype);
    expect(first).toHaveLength(16);
    expect(nodeRandom(0)).toHaveLength(0);
    expect(nodeRandom(100_000)).toHaveLength(100_000);
    expect(first).not.toEqual(second);
  });
});
