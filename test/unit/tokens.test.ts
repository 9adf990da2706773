import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { toHex } from '../../main/grep/bytes.js';
import { nobleCrypto } from '../../main/grep/crypto.js';
import { type LazyToken, RefreshFamily, refreshToken, type TokenLabel } from '../../main/grep/tokens.js';

const filled = (length: number, value: number) => new Uint8Array(length).fill(value);
const LABELS: readonly TokenLabel[] = ['grep node', 'grep subgroup'];

describe('refreshToken (GREP.md §5: t <- KDF(K*, label, owner id, epoch, t))', () => {
  const key = filled(16, 0x11);
  const token = filled(16, 0x22);

  // Expected values from Python: HKDF-SHA-256(IKM = K* ‖ t, salt = empty, info = label ‖ owner u32 ‖ epoch u32)[:16].
  it.each([
    ['grep node', 'a606b12ee07b469b2359e0e46051ab1c'],
    ['grep subgroup', '82a52cbedb5dae65a4e84cccc46f7203'],
  ] as const)('matches an independently computed %s refresh', (label, expected) => {
    expect(toHex(refreshToken(nobleCrypto, key, label, 3, 9, token))).toBe(expected);
    expect(toHex(refreshToken(nodeCrypto, key, label, 3, 9, token))).toBe(expected);
  });

  it('is deterministic and leaves its inputs alone', () => {
    const first = refreshToken(nobleCrypto, key, 'grep node', 3, 9, token);
    expect(refreshToken(nobleCrypto, key, 'grep node', 3, 9, token)).toEqual(first);
    expect(key).toEqual(filled(16, 0x11));
    expect(token).toEqual(filled(16, 0x22));
  });

  it('depends on every input, and on which field holds which value', () => {
    const flip = (bytes: Uint8Array, index: number) => bytes.map((byte, at) => (at === index ? byte ^ 1 : byte));
    const inputs = fc.record({
      key: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      token: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      label: fc.constantFrom(...LABELS),
      owner: fc.nat({ max: 0xffffffff }),
      epoch: fc.nat({ max: 0xfffffffe }),
      at: fc.nat({ max: 15 }),
    });
    fc.assert(
      fc.property(inputs, ({ key, token, label, owner, epoch, at }) => {
        const refresh = (k: Uint8Array, l: TokenLabel, o: number, e: number, t: Uint8Array) => toHex(refreshToken(nodeCrypto, k, l, o, e, t));
        const other = label === 'grep node' ? 'grep subgroup' : 'grep node';
        const outputs = [
          refresh(key, label, owner, epoch, token),
          refresh(flip(key, at), label, owner, epoch, token),
          refresh(key, other, owner, epoch, token),
          refresh(key, label, (owner ^ (1 << (at % 32))) >>> 0, epoch, token),
          refresh(key, label, owner, epoch + 1, token),
          refresh(key, label, owner, epoch, flip(token, at)),
        ];
        if (owner !== epoch) outputs.push(refresh(key, label, epoch, owner, token));
        if (toHex(key) !== toHex(token)) outputs.push(refresh(token, label, owner, epoch, key));
        expect(new Set(outputs).size).toBe(outputs.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('RefreshFamily', () => {
  type Command =
    | { readonly kind: 'fresh'; readonly owner: number; readonly value: Uint8Array }
    | { readonly kind: 'record'; readonly epoch: number; readonly key: Uint8Array }
    | { readonly kind: 'read'; readonly which: number }
    | { readonly kind: 'settle' }
    | { readonly kind: 'reload' };

  const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const command: fc.Arbitrary<Command> = fc.oneof(
    fc.record({ kind: fc.constant('fresh' as const), owner: fc.nat({ max: 0xffffffff }), value: bytes16 }),
    fc.record({ kind: fc.constant('record' as const), epoch: fc.nat({ max: 0xffffffff }), key: bytes16 }),
    fc.record({ kind: fc.constant('record' as const), epoch: fc.nat({ max: 0xffffffff }), key: bytes16 }),
    fc.record({ kind: fc.constant('read' as const), which: fc.nat() }),
    fc.record({ kind: fc.constant('read' as const), which: fc.nat() }),
    fc.record({ kind: fc.constant('settle' as const) }),
    fc.record({ kind: fc.constant('reload' as const) }),
  );

  /**
   * The KM's lazy family against the members' eager rule: every member refreshes each token it holds
   * at every step. Reads at any time, settles and a persist/restore cycle must all see the eager values.
   */
  it('lazy reads give exactly the eager values, through settle and snapshot/restore', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LABELS), fc.array(command, { maxLength: 40, size: 'max' }), (label, commands) => {
        let family = new RefreshFamily(label);
        const lazy: { token: LazyToken; owner: number }[] = [];
        const eager: Uint8Array[] = [];
        let recorded = 0;
        for (const step of commands) {
          switch (step.kind) {
            case 'fresh':
              lazy.push({ token: family.fresh(step.value.slice()), owner: step.owner });
              eager.push(step.value);
              break;
            case 'record':
              family.record(step.epoch, step.key);
              recorded++;
              lazy.forEach(({ owner }, index) => {
                eager[index] = refreshToken(nodeCrypto, step.key, label, owner, step.epoch, eager[index]!);
              });
              break;
            case 'read': {
              if (lazy.length === 0) break;
              const index = step.which % lazy.length;
              const { token, owner } = lazy[index]!;
              expect(family.read(nodeCrypto, token, owner)).toEqual(eager[index]);
              expect(token.at).toBe(family.head);
              break;
            }
            case 'settle': {
              const behind = lazy.reduce((sum, { token }) => sum + family.head - token.at, 0);
              const head = family.head;
              expect(family.settle(nodeCrypto, lazy.map(({ token, owner }) => [token, owner] as const))).toBe(behind);
              expect(family.head).toBe(head);
              expect(family.pending).toBe(0);
              lazy.forEach(({ token }, index) => expect(token.value).toEqual(eager[index]));
              break;
            }
            case 'reload': {
              // what the KM persists: the family's snapshot and each token's value and step index
              const { first, steps } = family.snapshot();
              family = RefreshFamily.restore(label, first, steps);
              lazy.forEach((entry) => (entry.token = { value: entry.token.value.slice(), at: entry.token.at }));
              break;
            }
          }
          expect(family.head).toBe(recorded);
        }
        lazy.forEach(({ token, owner }, index) => expect(family.read(nodeCrypto, token, owner)).toEqual(eager[index]));
      }),
      { numRuns: 300 },
    );
  });

  it('starts a fresh token at the head: earlier steps never touch it', () => {
    const family = new RefreshFamily('grep node');
    family.record(1, filled(16, 1));
    const value = filled(16, 9);
    const token = family.fresh(value.slice());
    expect(family.read(nobleCrypto, token, 4)).toEqual(value);
    family.record(2, filled(16, 2));
    expect(family.read(nobleCrypto, token, 4)).toEqual(refreshToken(nobleCrypto, filled(16, 2), 'grep node', 4, 2, value));
  });

  it('refuses to read a token that a settle left behind, rather than return a stale value', () => {
    const family = new RefreshFamily('grep subgroup');
    const forgotten = family.fresh(filled(16, 3));
    family.record(1, filled(16, 1));
    family.settle(nobleCrypto, []);
    expect(() => family.read(nobleCrypto, forgotten, 5)).toThrow(/compacted/);
  });

  it('snapshot is a copy: later steps do not leak into it', () => {
    const family = new RefreshFamily('grep node');
    family.record(1, filled(16, 1));
    const snapshot = family.snapshot();
    family.record(2, filled(16, 2));
    expect(snapshot.steps).toHaveLength(1);
    const restored = RefreshFamily.restore('grep node', snapshot.first, snapshot.steps);
    restored.record(3, filled(16, 3));
    expect(family.pending).toBe(2);
    expect(snapshot.steps).toHaveLength(1);
  });
});
