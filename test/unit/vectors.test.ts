import { readFileSync } from 'node:fs';
import { rngAesCtrDrbg128 } from '@noble/ciphers/aes.js';
import { describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import {
  decodeMessage,
  Flag,
  fromHex,
  type GrepCrypto,
  type KeyManager,
  Member,
  type MemberKeys,
  type MemberOutcome,
  type MemberStatePayload,
  MESSAGE_TYPES,
  nobleCrypto,
  type TokenEntry,
  toHex,
} from '../../main/grep/index.js';
import {
  type DerivationVectors,
  derivationVectors,
  entropyInput,
  type MessageVector,
  type MessageVectors,
  messageVectors,
  renderVectors,
  VECTOR_FILES,
} from '../vectors/generate.js';

/*
 * The committed test vectors (test/vectors/*.json) are what another implementation is tested against:
 * they must be exactly what the core produces today with either crypto provider, cover every GREP
 * message type, and replay from their own bytes into real members that end holding the KM's secrets.
 */

const committedText = { messages: readFileSync(VECTOR_FILES.messages, 'utf8'), derivations: readFileSync(VECTOR_FILES.derivations, 'utf8') };
const committed = { messages: JSON.parse(committedText.messages) as MessageVectors, derivations: JSON.parse(committedText.derivations) as DerivationVectors };
const providers: [string, GrepCrypto][] = [
  ['noble', nobleCrypto],
  ['node', nodeCrypto],
];

describe('the committed vectors are what the core produces', () => {
  test.each(providers)('%s crypto regenerates both files byte for byte', (_, crypto) => {
    expect(renderVectors(messageVectors(crypto))).toBe(committedText.messages);
    expect(renderVectors(derivationVectors(crypto))).toBe(committedText.derivations);
  });

  test('they stay small enough to commit and to carry into a firmware test bench', () => {
    expect(Buffer.byteLength(committedText.messages)).toBeLessThan(32 * 1024);
    expect(Buffer.byteLength(committedText.derivations)).toBeLessThan(16 * 1024);
  });

  test('the KM randomness is replayable from the entropy input written in the file', () => {
    const { random } = committed.messages.inputs;
    expect(random.entropyInput).toBe(toHex(entropyInput(random.seed)));
    const drbg = rngAesCtrDrbg128(fromHex(random.entropyInput));
    const draws = [...random.drawnAtConstruction, ...committed.messages.operations.flatMap((operation) => operation.drawn)];
    expect(draws.length).toBeGreaterThan(30);
    for (const draw of draws) expect(toHex(drbg.randomBytes(draw.length / 2))).toBe(draw);
  });

  test.each(providers)('the HKDF inputs written in the derivations give the core\'s outputs (%s)', (_, crypto) => {
    const { refreshToken, chainStep } = committed.derivations;
    for (const vector of [...refreshToken, ...chainStep]) {
      const ikm = 'ikm' in vector ? vector.ikm : vector.previous;
      expect(toHex(crypto.kdf(fromHex(ikm), fromHex(vector.info)))).toBe(vector.out);
    }
    expect(new Set(chainStep.map((vector) => vector.kind)).size).toBe(4);
  });
});

describe('the message vectors cover every GREP message type', () => {
  const operations = committed.messages.operations;
  const types = (index: number) => operations[index]!.messages.map((message) => `${message.type}${message.to === 'all' ? '' : `>${message.to}`}`);

  test('each operation has the shape its note promises', () => {
    expect(operations.map((operation) => [operation.operation, operation.epoch])).toEqual([
      ['reseed', 1],
      ['join', 2],
      ['join', 3],
      ['leave', 4],
      ['recover', 5],
      ['periodic', 6],
      ['resync', 6],
      ['batch join', 7],
    ]);
    expect(types(0)).toEqual(['ROSTER', ...[1, 2, 3, 4, 5, 6, 7, 8].map((id) => `SEED>${id}`)]);
    expect(types(1)).toEqual(['J1', 'J2', 'J3>9']);
    expect(types(2)).toEqual(['J2', 'J3>10']);
    expect(types(3)).toEqual(['M1', 'M2']);
    expect(types(4)).toEqual(['B>2', 'A', 'C', 'D']);
    expect(types(5)).toEqual(['PERIODIC']);
    expect(types(6)).toEqual(['RESYNC>8']);
    expect(types(7)).toEqual(['J2', 'BUNDLE', ...[11, 12, 13, 14].map((id) => `SEED>${id}`)]);
    const header = (index: number, type: string) => decodeMessage(fromHex(operations[index]!.messages.find((m) => m.type === type)!.hex)).header;
    expect(header(2, 'J2').flags & Flag.SUBGROUP_NEW).toBeTruthy();
    expect(header(7, 'J2').flags & Flag.SUBGROUP_CHAIN).toBeTruthy();
    // M1 and M2 of the middle member of a middle subgroup carry both sides
    expect([header(3, 'M1').flags & (Flag.SLOT0 | Flag.SLOT1), header(3, 'M2').flags & (Flag.SLOT0 | Flag.SLOT1)]).toEqual([3, 3]);
    expect([header(4, 'A').subject, header(4, 'D').subject]).toEqual([3, 2]);
  });

  test('every type of the protocol appears (the baselines\' BASIC, LKH, LKH_STATE are not GREP)', () => {
    const seen = new Set(operations.flatMap((operation) => operation.messages.map((message) => message.type)));
    expect([...seen].sort()).toEqual(MESSAGE_TYPES.filter((type) => !['BASIC', 'LKH', 'LKH_STATE'].includes(type)).sort());
  });
});

/** A member's secrets in the shape of km.memberState, every list ordered by owner. */
function asPayload(keys: MemberKeys): MemberStatePayload {
  const list = (map: ReadonlyMap<number, Uint8Array>) => [...map].map(([owner, value]) => ({ owner, value })).sort((a, b) => a.owner - b.owner);
  return { kg: keys.kg, ks: keys.ks, subgroup: keys.subgroup, nodeBackward: list(keys.nodeBackward), nodeForward: list(keys.nodeForward), subgroupBackward: list(keys.subgroupBackward), subgroupForward: list(keys.subgroupForward) };
}

function sorted(state: MemberStatePayload): MemberStatePayload {
  const list = (entries: readonly TokenEntry[]) => [...entries].sort((a, b) => a.owner - b.owner);
  return { ...state, nodeBackward: list(state.nodeBackward), nodeForward: list(state.nodeForward), subgroupBackward: list(state.subgroupBackward), subgroupForward: list(state.subgroupForward) };
}

interface Delivery {
  readonly key: string;
  readonly outcome: MemberOutcome;
}

const deliveryKey = (operation: number, message: number, member: number) => `${operation}/${message}/${member}`;
const takesPart = (status: MemberOutcome['status']) => status === 'applied' || status === 'held';

/**
 * Every meter of the file is in the field from the start and hears every broadcast; a unicast reaches
 * its addressee. The messages come from the committed JSON; the KM runs the same script alongside only
 * to say what each member must hold after each operation. `beforeEach` sees each (member, message)
 * pair just before the genuine message is delivered.
 */
function replay(crypto: GrepCrypto, beforeEach?: (member: Member, message: MessageVector, key: string) => void): Delivery[] {
  const { inputs, operations } = committed.messages;
  const meters = new Map(
    inputs.members.map(({ id, nodeKey }) => [id, new Member({ id, groupId: inputs.groupId, nodeKey: fromHex(nodeKey), kmPublicKey: fromHex(inputs.kmPublicKey) }, crypto)]),
  );
  const deliveries: Delivery[] = [];
  const check = (index: number, km: KeyManager) => {
    const operation = operations[index]!;
    operation.messages.forEach((message, at) => {
      const bytes = fromHex(message.hex);
      for (const member of message.to === 'all' ? meters.values() : [meters.get(message.to)!]) {
        const key = deliveryKey(index, at, member.id);
        beforeEach?.(member, message, key);
        deliveries.push({ key, outcome: member.receive(bytes) });
      }
    });
    const present = operation.subgroups.flatMap((subgroup) => subgroup.members);
    expect(present.sort((a, b) => a - b)).toEqual([...km.subgroups()].flatMap((subgroup) => subgroup.members).sort((a, b) => a - b));
    for (const id of present) {
      const held = meters.get(id)!.secrets;
      expect([index, id, held?.epoch]).toEqual([index, id, operation.epoch]);
      expect([index, id, asPayload(held!)]).toEqual([index, id, sorted(km.memberState(id))]);
      expect(toHex(held!.kg)).toBe(operation.groupKey);
    }
    for (const [id, meter] of meters) if (!present.includes(id)) expect([index, id, meter.secrets && toHex(meter.secrets.kg)]).not.toEqual([index, id, operation.groupKey]);
  };
  messageVectors(crypto, check);
  return deliveries;
}

describe('the committed messages replay into real members', () => {
  test.each(providers)('with %s crypto every addressee applies its messages and ends holding exactly the KM\'s secrets', (_, crypto) => {
    const deliveries = replay(crypto);
    const { operations } = committed.messages;
    const outcomesOf = (index: number, at: number) =>
      deliveries.filter((delivery) => delivery.key.startsWith(`${index}/${at}/`)).map((delivery) => ({ member: Number(delivery.key.split('/')[2]), status: delivery.outcome.status }));
    const removed = new Set<number>();
    operations.forEach((operation, index) => {
      if (operation.operation === 'leave' || operation.operation === 'recover') for (const id of operation.members) removed.add(id);
      operation.messages.forEach((message, at) => {
        const outcomes = outcomesOf(index, at);
        if (message.to !== 'all') {
          expect([index, at, outcomes]).toEqual([index, at, [{ member: message.to, status: 'applied' }]]);
          return;
        }
        // a broadcast is for some members and the others drop it without a complaint; a removed meter applies none from its
        // removal on (it may hold a ROSTER or BUNDLE, authentic and useless to it without a SEED)
        expect([index, at, outcomes.some((o) => takesPart(o.status))]).toEqual([index, at, true]);
        expect([index, at, outcomes.filter((o) => (removed.has(o.member) ? o.status === 'applied' : !['applied', 'held', 'ignored'].includes(o.status)))]).toEqual([index, at, []]);
      });
    });
    // a batch joiner holds the BUNDLE until its SEED brings the batch key; the members already at its epoch drop it as stale
    expect(outcomesOf(7, 1).filter((o) => o.status === 'held').map((o) => o.member)).toEqual([1, 3, 5, 7, 11, 12, 13, 14]);
  });

  test('one flipped bit anywhere in any vector message is refused by each member that takes the genuine message, and leaves it as it was', () => {
    // node crypto: this sends every byte of every message, one bit flipped, to each of its addressees
    const takers = new Set(replay(nodeCrypto).filter((d) => takesPart(d.outcome.status)).map((d) => d.key));
    let flips = 0;
    const accepted: string[] = [];
    replay(nodeCrypto, (member, message, key) => {
      if (!takers.has(key)) return;
      const bytes = fromHex(message.hex);
      const before = member.secrets;
      for (let index = 0; index < bytes.length; index++) {
        const flipped = bytes.slice();
        flipped[index]! ^= 1 << (index % 8);
        const outcome = member.receive(flipped);
        flips++;
        if (takesPart(outcome.status) || member.secrets !== before) accepted.push(`${key} byte ${index}: ${outcome.status}`);
      }
    });
    expect(accepted).toEqual([]);
    expect(flips).toBeGreaterThan(10_000);
  });
});
