import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { ByteReader, concatBytes, fromHex } from '../../main/grep/bytes.js';
import { nobleCrypto } from '../../main/grep/crypto.js';
import { GrepError, type GrepErrorCode } from '../../main/grep/errors.js';
import { decodeMemberState, decodeSeed, encodeMemberState, encodeSeed, type MemberStatePayload, type SeedPayload, seedSize, splitKeys } from '../../main/grep/payloads.js';
import {
  decodeMessage,
  EMPTY_NOTICE,
  encodeMessage,
  Flag,
  HEADER_BYTES,
  isBroadcast,
  type ItemToSeal,
  LAYOUT,
  MAX_MESSAGE_BYTES,
  type Message,
  MESSAGE_TYPES,
  type MessageType,
  messageSize,
  type Notice,
  openItem,
  type RosterPart,
  rosterBytes,
} from '../../main/grep/wire.js';

const SIGNING_KEY = new Uint8Array(32).fill(0x5a);
const KM_PUBLIC_KEY = nobleCrypto.publicKey(SIGNING_KEY);
const GROUP = 0x0a0b0c0d;
const EPOCH = 0x01020304;

const filled = (length: number, value: number) => new Uint8Array(length).fill(value);
const withByte = (bytes: Uint8Array, offset: number, value: number) => {
  const copy = bytes.slice();
  copy[offset] = value;
  return copy;
};

function expectGrepError(decode: () => unknown, code: GrepErrorCode): void {
  let thrown: unknown;
  try {
    decode();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(GrepError);
  expect((thrown as GrepError).code).toBe(code);
}

const SEED: SeedPayload = {
  kg: filled(16, 0x01),
  ks: filled(16, 0x02),
  subgroup: 4,
  nodeBackward: filled(16, 0x31),
  nodeForward: filled(16, 0x32),
  subgroupBackward: filled(16, 0x33),
  subgroupForward: filled(16, 0x34),
};

const MEMBER_STATE: MemberStatePayload = {
  kg: filled(16, 0x01),
  ks: filled(16, 0x02),
  subgroup: 3,
  nodeBackward: [{ owner: 10, value: filled(16, 0x10) }, { owner: 11, value: filled(16, 0x11) }],
  nodeForward: [{ owner: 13, value: filled(16, 0x13) }],
  subgroupBackward: [{ owner: 1, value: filled(16, 0x21) }, { owner: 2, value: filled(16, 0x22) }],
  subgroupForward: [],
};

interface Sample {
  readonly name: string;
  readonly type: MessageType;
  readonly subject: number;
  readonly flags?: number;
  readonly items: readonly ItemToSeal[];
  readonly notice?: Notice;
  readonly roster?: RosterPart;
}

/** Every item under its own key, so opening with another item's key must fail. */
const item = (slot: number, owner: number, payload: number | Uint8Array): ItemToSeal => ({
  slot,
  owner,
  key: filled(16, 0x80 + slot * 16 + (owner & 0x0f)),
  plaintext: typeof payload === 'number' ? filled(payload, 0x40 + slot) : payload,
});
const RECOVERY_NOTICE: Notice = { removedMembers: [21, 22, 40], deletedSubgroups: [6] };

const SAMPLES: readonly Sample[] = [
  { name: 'J1', type: 'J1', subject: 17, items: [item(0, 3, 48)] },
  { name: 'J2', type: 'J2', subject: 17, items: [item(0, 3, 16)] },
  { name: 'J2 into a new subgroup', type: 'J2', subject: 17, flags: Flag.SUBGROUP_NEW, items: [item(0, 4, 32)] },
  { name: 'J3', type: 'J3', subject: 17, items: [item(0, 0, encodeMemberState(MEMBER_STATE))] },
  { name: 'M1 both sides', type: 'M1', subject: 12, items: [item(0, 12, 32), item(1, 12, 32)] },
  { name: 'M1 older side only', type: 'M1', subject: 12, items: [item(0, 12, 32)] },
  { name: 'M1 younger side only', type: 'M1', subject: 12, items: [item(1, 12, 32)] },
  { name: 'M2 both sides', type: 'M2', subject: 3, items: [item(0, 3, 16), item(1, 3, 16)] },
  { name: 'M2 subgroup deleted', type: 'M2', subject: 3, flags: Flag.SUBGROUP_DELETED, items: [item(1, 3, 16)] },
  { name: 'A', type: 'A', subject: 3, items: [item(0, 21, 32), item(1, 22, 32)], notice: RECOVERY_NOTICE },
  { name: 'B', type: 'B', subject: 14, items: [item(0, 0, 32)], notice: RECOVERY_NOTICE },
  { name: 'C', type: 'C', subject: 3, items: [item(0, 2, 16), item(1, 6, 16)], notice: RECOVERY_NOTICE },
  { name: 'C with an empty notice', type: 'C', subject: 3, items: [item(0, 2, 16)] },
  { name: 'D', type: 'D', subject: 5, items: [item(0, 5, 16)], notice: RECOVERY_NOTICE },
  { name: 'PERIODIC', type: 'PERIODIC', subject: 0, items: [item(0, 0, 16)] },
  { name: 'RESYNC', type: 'RESYNC', subject: 17, items: [item(0, 0, encodeMemberState(MEMBER_STATE))] },
  { name: 'BASIC', type: 'BASIC', subject: 17, items: [item(0, 0, 16)] },
  { name: 'LKH', type: 'LKH', subject: 9, items: [item(0, 100, 16), item(1, 101, 16), item(2, 102, 16)] },
  { name: 'LKH_STATE', type: 'LKH_STATE', subject: 17, items: [item(0, 0, 5 * 20)] },
  { name: 'J2 opening a chain of subgroups', type: 'J2', subject: 9, flags: Flag.SUBGROUP_NEW | Flag.SUBGROUP_CHAIN, items: [item(0, 7, 32)] },
  { name: 'ROSTER', type: 'ROSTER', subject: 4, items: [], roster: { rangeFirst: 3, rangeCount: 4, subgroups: [[21, 22, 23], [30, 31]] } },
  { name: 'SEED', type: 'SEED', subject: 22, items: [item(0, 0, encodeSeed(SEED))] },
  { name: 'BUNDLE', type: 'BUNDLE', subject: 7, items: [item(0, 0, 2 + 3 * 20)], roster: { rangeFirst: 7, rangeCount: 2, subgroups: [[40, 41], [42]] } },
];

function encodeSample(sample: Sample): Uint8Array {
  const header = { type: sample.type, groupId: GROUP, epoch: EPOCH, subject: sample.subject, flags: sample.flags };
  return encodeMessage(nobleCrypto, header, sample.items, isBroadcast(sample.type) ? SIGNING_KEY : undefined, sample.notice, sample.roster);
}

const ENCODED = SAMPLES.map((sample) => ({ sample, bytes: encodeSample(sample) }));
/** 'rest' types (J3, RESYNC, LKH_STATE) let their single item span the message, so only the tag catches a cut. */
const hasFixedSize = (type: MessageType) => LAYOUT[type].payload(0) !== 'rest';
const FIXED = ENCODED.filter(({ sample }) => hasFixedSize(sample.type));

function expectedOwner(sample: Sample, given: number): number {
  const rule = LAYOUT[sample.type].owner;
  return rule === 'explicit' ? given : rule === 'subject' ? sample.subject : 0;
}

function expectedSlotFlags(sample: Sample): number {
  if (LAYOUT[sample.type].slots === 'many' || LAYOUT[sample.type].slots === 0) return 0;
  return sample.items.reduce((flags, { slot }) => flags | (slot === 0 ? Flag.SLOT0 : Flag.SLOT1), 0);
}

describe('wire codec round trip', () => {
  it('covers every message type', () => {
    expect(new Set(SAMPLES.map((sample) => sample.type))).toEqual(new Set(MESSAGE_TYPES));
  });

  it.each(ENCODED)('$sample.name decodes to what was encoded, and every item opens', ({ sample, bytes }) => {
    const message = decodeMessage(bytes);
    expect(message.header).toEqual({
      type: sample.type,
      flags: (sample.flags ?? 0) | expectedSlotFlags(sample),
      groupId: GROUP,
      epoch: EPOCH,
      subject: sample.subject,
    });
    expect(message.notice).toEqual(LAYOUT[sample.type].notice ? (sample.notice ?? EMPTY_NOTICE) : undefined);
    expect(message.roster).toEqual(sample.roster);
    expect(message.items.map(({ slot, owner }) => ({ slot, owner }))).toEqual(
      sample.items.map(({ slot, owner }) => ({ slot, owner: expectedOwner(sample, owner) })),
    );
    message.items.forEach((decoded, index) => {
      const sealed = sample.items[index]!;
      expect(openItem(nobleCrypto, message, decoded, sealed.key)).toEqual(sealed.plaintext);
      expect(openItem(nobleCrypto, message, decoded, filled(16, 0xee))).toBeUndefined();
    });
    expect(bytes.length).toBe(messageSize(sample.type, sample.items.map(({ plaintext }) => plaintext.length), sample.notice, sample.roster?.subgroups));
    if (isBroadcast(sample.type)) {
      expect(message.signed).toEqual(bytes.subarray(0, bytes.length - 64));
      expect(nobleCrypto.verify(KM_PUBLIC_KEY, message.signed, message.signature!)).toBe(true);
    } else {
      expect(message.signature).toBeUndefined();
      expect(message.signed).toEqual(bytes);
    }
  });

  it('carries a SEED through unchanged, every absent chain start absent', () => {
    const { bytes } = ENCODED.find(({ sample }) => sample.type === 'SEED')!;
    const message = decodeMessage(bytes);
    const plaintext = openItem(nobleCrypto, message, message.items[0]!, SAMPLES.find((s) => s.type === 'SEED')!.items[0]!.key)!;
    expect(decodeSeed(plaintext)).toEqual(SEED);
    expect(bytes.length).toBe(16 + 16 + seedSize(4));
    expectGrepError(() => decodeSeed(withByte(plaintext, 36, 0x20)), 'MALFORMED');
    expectGrepError(() => decodeSeed(plaintext.subarray(0, plaintext.length - 1)), 'TRUNCATED');
  });

  it.each([
    ['a part outside its range', { rangeFirst: 3, rangeCount: 1, subgroups: [[21], [22]] }],
    ['an empty subgroup', { rangeFirst: 4, rangeCount: 2, subgroups: [[21], []] }],
    ['a member named twice', { rangeFirst: 4, rangeCount: 2, subgroups: [[21, 22], [22]] }],
  ])('refuses a roster with %s', (_, roster) => {
    const bytes = encodeMessage(nobleCrypto, { type: 'ROSTER', groupId: GROUP, epoch: EPOCH, subject: 4 }, [], SIGNING_KEY, undefined, roster);
    expectGrepError(() => decodeMessage(bytes), 'MALFORMED');
  });

  it('refuses the chain flag anywhere but a J2 that opens subgroups', () => {
    const { bytes } = ENCODED.find(({ sample }) => sample.name === 'J2')!;
    expectGrepError(() => decodeMessage(withByte(bytes, 3, (Flag.SUBGROUP_CHAIN | Flag.SLOT0) & 0xff)), 'MALFORMED');
  });

  it('carries a member state through J3 unchanged', () => {
    const { bytes } = ENCODED.find(({ sample }) => sample.type === 'J3')!;
    const message = decodeMessage(bytes);
    const plaintext = openItem(nobleCrypto, message, message.items[0]!, SAMPLES.find((s) => s.type === 'J3')!.items[0]!.key)!;
    expect(decodeMemberState(plaintext)).toEqual(MEMBER_STATE);
  });

  it('binds each item to its slot: swapping the two sealed items of an M1 makes both fail', () => {
    const { sample, bytes } = ENCODED.find(({ sample }) => sample.name === 'M1 both sides')!;
    const swapped = concatBytes(bytes.subarray(0, 16), bytes.subarray(64, 112), bytes.subarray(16, 64), bytes.subarray(112));
    const message = decodeMessage(swapped);
    expect(openItem(nobleCrypto, message, message.items[0]!, sample.items[1]!.key)).toBeUndefined();
    expect(openItem(nobleCrypto, message, message.items[1]!, sample.items[0]!.key)).toBeUndefined();
  });
});

describe('hand-made leave vector (GREP.md §8)', () => {
  // A leave of member 0x105 from subgroup 2 of group 0x0a0b0c0d, new epoch 0x01020304.
  const phi = filled(16, 0x11);
  const beta = filled(16, 0x22);
  const forward = filled(16, 0x33);
  const backward = filled(16, 0x44);
  const ks = filled(16, 0x55);
  const kg = filled(16, 0x66);

  /** version 1 ‖ type ‖ flags SLOT0|SLOT1 ‖ group ‖ epoch ‖ subject */
  const m1Header = fromHex('01' + '04' + '0003' + '0a0b0c0d' + '01020304' + '00000105');
  const m2Header = fromHex('01' + '05' + '0003' + '0a0b0c0d' + '01020304' + '00000002');
  /** type ‖ epoch ‖ slot ‖ group ‖ 0 */
  const nonce = (type: string, slot: string) => fromHex(type + '01020304' + slot + '0a0b0c0d' + '00');

  function signedMessage(header: Uint8Array, ...sealed: Uint8Array[]): Uint8Array {
    const body = concatBytes(header, ...sealed);
    return concatBytes(body, nobleCrypto.sign(SIGNING_KEY, body));
  }

  it('M1 is header ‖ E(phi_h; KS* ‖ KG*) ‖ E(beta_h; KS* ‖ KG*) ‖ signature, 176 bytes', () => {
    const payload = concatBytes(ks, kg);
    const expected = signedMessage(
      m1Header,
      nobleCrypto.seal(phi, nonce('04', '0000'), payload, m1Header),
      nobleCrypto.seal(beta, nonce('04', '0001'), payload, m1Header),
    );
    const encoded = encodeMessage(
      nobleCrypto,
      { type: 'M1', groupId: GROUP, epoch: EPOCH, subject: 0x105 },
      [
        { slot: 0, owner: 0x105, key: phi, plaintext: payload },
        { slot: 1, owner: 0x105, key: beta, plaintext: payload },
      ],
      SIGNING_KEY,
    );
    expect(encoded).toEqual(expected);
    expect(encoded).toHaveLength(176);
  });

  it('M2 is header ‖ E(F_S; KG*) ‖ E(B_S; KG*) ‖ signature, 144 bytes, whatever order the items come in', () => {
    const expected = signedMessage(
      m2Header,
      nobleCrypto.seal(forward, nonce('05', '0000'), kg, m2Header),
      nobleCrypto.seal(backward, nonce('05', '0001'), kg, m2Header),
    );
    const encoded = encodeMessage(
      nobleCrypto,
      { type: 'M2', groupId: GROUP, epoch: EPOCH, subject: 2 },
      [
        { slot: 1, owner: 2, key: backward, plaintext: kg },
        { slot: 0, owner: 2, key: forward, plaintext: kg },
      ],
      SIGNING_KEY,
    );
    expect(encoded).toEqual(expected);
    expect(encoded).toHaveLength(144);
  });

  it('a whole leave costs 320 bytes whatever the group size', () => {
    expect(messageSize('M1', [32, 32]) + messageSize('M2', [16, 16])).toBe(320);
  });
});

describe('decoders reject hostile input with a GrepError', () => {
  it.each(FIXED)('every prefix of $sample.name is TRUNCATED', ({ bytes }) => {
    for (let length = 0; length < bytes.length; length++) expectGrepError(() => decodeMessage(bytes.subarray(0, length)), 'TRUNCATED');
  });

  it.each(ENCODED.filter(({ sample }) => !hasFixedSize(sample.type)))(
    'a prefix of $sample.name is TRUNCATED below header + tag, and fails authentication above',
    ({ sample, bytes }) => {
      const shortest = HEADER_BYTES + (sample.roster ? rosterBytes(sample.roster.subgroups) : 0) + 16 + (isBroadcast(sample.type) ? 64 : 0);
      for (let length = 0; length < shortest; length++) expectGrepError(() => decodeMessage(bytes.subarray(0, length)), 'TRUNCATED');
      for (let length = shortest; length < bytes.length; length++) {
        const message = decodeMessage(bytes.subarray(0, length));
        expect(openItem(nobleCrypto, message, message.items[0]!, sample.items[0]!.key)).toBeUndefined();
      }
    },
  );

  it.each(FIXED)('$sample.name with a trailing byte is OVERSIZED', ({ bytes }) => {
    expectGrepError(() => decodeMessage(concatBytes(bytes, new Uint8Array(1))), 'OVERSIZED');
  });

  it('accepts exactly MAX_MESSAGE_BYTES and refuses one byte more before parsing anything', () => {
    const { bytes } = ENCODED.find(({ sample }) => sample.type === 'RESYNC')!;
    const padded = (length: number) => {
      const out = new Uint8Array(length);
      out.set(bytes.subarray(0, HEADER_BYTES));
      return out;
    };
    expect(decodeMessage(padded(MAX_MESSAGE_BYTES)).items[0]!.sealed).toHaveLength(MAX_MESSAGE_BYTES - HEADER_BYTES);
    expectGrepError(() => decodeMessage(padded(MAX_MESSAGE_BYTES + 1)), 'OVERSIZED');
  });

  const withFlags = (bytes: Uint8Array, flags: number) => {
    const copy = bytes.slice();
    new DataView(copy.buffer).setUint16(2, flags);
    return copy;
  };
  const sampleBytes = (name: string) => ENCODED.find(({ sample }) => sample.name === name)!.bytes;

  it('refuses unknown protocol versions', () => {
    for (const version of [0, 2, 255]) expectGrepError(() => decodeMessage(withByte(sampleBytes('M1 both sides'), 0, version)), 'UNSUPPORTED_VERSION');
  });

  it('refuses unknown type codes', () => {
    for (const code of [0, MESSAGE_TYPES.length + 1, 255]) {
      expectGrepError(() => decodeMessage(withByte(sampleBytes('M1 both sides'), 1, code)), 'UNKNOWN_TYPE');
    }
  });

  it('refuses every unknown flag bit', () => {
    for (let bit = 4; bit < 16; bit++) {
      expectGrepError(() => decodeMessage(withFlags(sampleBytes('M1 both sides'), Flag.SLOT0 | Flag.SLOT1 | (1 << bit))), 'MALFORMED');
    }
  });

  it('refuses a message with no item slot', () => {
    expectGrepError(() => decodeMessage(withFlags(sampleBytes('M1 both sides'), 0)), 'MALFORMED');
    expectGrepError(() => decodeMessage(withFlags(sampleBytes('J1'), 0)), 'MALFORMED');
    const lkh = sampleBytes('LKH').slice();
    new DataView(lkh.buffer).setUint16(HEADER_BYTES, 0);
    expectGrepError(() => decodeMessage(lkh), 'MALFORMED');
  });

  it('refuses a second slot on a single-slot type, and slot flags on LKH', () => {
    expectGrepError(() => decodeMessage(withFlags(sampleBytes('J1'), Flag.SLOT0 | Flag.SLOT1)), 'MALFORMED');
    expectGrepError(() => decodeMessage(withFlags(sampleBytes('D'), Flag.SLOT1)), 'MALFORMED');
    expectGrepError(() => decodeMessage(withFlags(sampleBytes('LKH'), Flag.SLOT0)), 'MALFORMED');
  });

  it('refuses input that is not bytes', () => {
    expectGrepError(() => decodeMessage([1, 4, 0, 3] as unknown as Uint8Array), 'MALFORMED');
    expectGrepError(() => decodeMessage('0104' as unknown as Uint8Array), 'MALFORMED');
  });

  describe('member state (J3, RESYNC)', () => {
    const state = encodeMemberState(MEMBER_STATE);

    it('has the size memberStateSize promises and round-trips', () => {
      expect(decodeMemberState(state)).toEqual(MEMBER_STATE);
      expect(state).toHaveLength(16 + 16 + 4 + 4 * 2 + 5 * 20);
    });

    it('rejects every prefix as TRUNCATED and a trailing byte as OVERSIZED', () => {
      for (let length = 0; length < state.length; length++) expectGrepError(() => decodeMemberState(state.subarray(0, length)), 'TRUNCATED');
      expectGrepError(() => decodeMemberState(concatBytes(state, new Uint8Array(1))), 'OVERSIZED');
    });

    it.each(['nodeBackward', 'nodeForward', 'subgroupBackward', 'subgroupForward'] as const)('rejects a repeated owner in %s', (list) => {
      const entries = [{ owner: 8, value: filled(16, 1) }, { owner: 8, value: filled(16, 2) }];
      expectGrepError(() => decodeMemberState(encodeMemberState({ ...MEMBER_STATE, [list]: entries })), 'MALFORMED');
    });
  });

  it('splitKeys refuses a payload that is not a whole number of keys', () => {
    expect(splitKeys(filled(32, 7), 2)).toEqual([filled(16, 7), filled(16, 7)]);
    for (const length of [0, 31, 33, 48]) expectGrepError(() => splitKeys(filled(length, 7), 2), 'MALFORMED');
  });

  describe('ByteReader', () => {
    it('reads big-endian from a view into a larger buffer', () => {
      const backing = fromHex('ff' + '01' + '0203' + '04050607' + '0809' + 'ff');
      const reader = new ByteReader(backing.subarray(1, backing.length - 1));
      expect([reader.u8('a'), reader.u16('b'), reader.u32('c')]).toEqual([0x01, 0x0203, 0x04050607]);
      expect(reader.raw(2, 'd')).toEqual(fromHex('0809'));
      expect(reader.remaining).toBe(0);
      expect(() => reader.end('test')).not.toThrow();
    });

    it('refuses to read past the end and reports trailing bytes', () => {
      const reads: [(reader: ByteReader) => unknown, number][] = [
        [(reader) => reader.u8('a'), 0],
        [(reader) => reader.u16('a'), 1],
        [(reader) => reader.u32('a'), 3],
        [(reader) => reader.raw(5, 'a'), 4],
      ];
      for (const [read, available] of reads) {
        // a view with bytes beyond its end: they must stay out of reach
        const reader = new ByteReader(new Uint8Array(available + 8).subarray(0, available));
        expectGrepError(() => read(reader), 'TRUNCATED');
        expect(reader.position).toBe(0);
      }
      expectGrepError(() => new ByteReader(new Uint8Array(1)).end('test'), 'OVERSIZED');
    });
  });
});

describe('decoding arbitrary bytes', () => {
  const DECODE_CODES: readonly GrepErrorCode[] = ['TRUNCATED', 'OVERSIZED', 'MALFORMED', 'UNSUPPORTED_VERSION', 'UNKNOWN_TYPE'];

  /** Decodes, or fails with a decoder's GrepError; a message that decodes has exactly the size its fields imply. */
  function decodeOrRefuse(bytes: Uint8Array): Message | undefined {
    let message: Message;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      // plain checks, not expect(): this runs ~20k times
      if (!(error instanceof GrepError) || !DECODE_CODES.includes(error.code)) throw error;
      return undefined;
    }
    const size = messageSize(message.header.type, message.items.map(({ sealed }) => sealed.length - 16), message.notice, message.roster?.subgroups);
    if (size !== bytes.length) throw new Error(`decoded a ${message.header.type} of ${bytes.length} bytes whose fields imply ${size}`);
    return message;
  }

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300, size: 'max' }), (bytes) => void decodeOrRefuse(bytes)), { numRuns: 4000 });
  });

  it('random bytes behind a plausible header', () => {
    const header = fc.record({
      type: fc.integer({ min: 1, max: MESSAGE_TYPES.length }),
      flags: fc.integer({ min: 0, max: 15 }),
      rest: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    });
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 250, size: 'max' }), ({ type, flags, rest }, body) => {
        void decodeOrRefuse(concatBytes(new Uint8Array([1, type, 0, flags]), rest, body));
      }),
      { numRuns: 6000 },
    );
  });

  interface Mutation {
    readonly kind: 'set' | 'insert' | 'delete';
    readonly at: number;
    readonly value: number;
  }
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    kind: fc.constantFrom('set', 'insert', 'delete'),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  });
  function mutate(bytes: Uint8Array, { kind, at, value }: Mutation): Uint8Array {
    const offset = at % (bytes.length + 1);
    if (kind === 'set') return offset < bytes.length ? withByte(bytes, offset, value) : bytes;
    if (kind === 'insert') return concatBytes(bytes.subarray(0, offset), new Uint8Array([value]), bytes.subarray(offset));
    return concatBytes(bytes.subarray(0, offset), bytes.subarray(offset + 1));
  }

  it('random mutations of valid messages', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ENCODED), fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ bytes }, mutations) => {
        void decodeOrRefuse(mutations.reduce((current, change) => mutate(current, change), bytes));
      }),
      { numRuns: 10000 },
    );
  });

  // Signature and AEAD together must cover every byte: header and notice are AAD, owners are signed.
  it('no single changed byte leaves a message that verifies and opens', () => {
    const authentic = (message: Message, sample: Sample) =>
      (!isBroadcast(message.header.type) || nodeCrypto.verify(KM_PUBLIC_KEY, message.signed, message.signature!)) &&
      message.items.every((decoded) => sample.items.some(({ key }) => openItem(nodeCrypto, message, decoded, key) !== undefined));
    fc.assert(
      fc.property(fc.constantFrom(...ENCODED), fc.nat(), fc.integer({ min: 1, max: 255 }), ({ sample, bytes }, at, delta) => {
        const offset = at % bytes.length;
        const message = decodeOrRefuse(withByte(bytes, offset, bytes[offset]! ^ delta));
        if (message) expect(authentic(message, sample)).toBe(false);
      }),
      { numRuns: 1500 },
    );
  });
});
