import { describe, expect, it } from 'vitest';
import { BASIC_MEMBER_SECRETS, BasicKeyManager, BasicMember, type BasicMemberKeys } from '../../main/grep/baselines/basic.js';
import {
  ancestorsOf,
  decodeLkhState,
  depthOf,
  encodeLkhState,
  LkhKeyManager,
  LkhMember,
  type LkhMemberKeys,
} from '../../main/grep/baselines/lkh.js';
import {
  type Commissioning,
  decodeMessage,
  encodeMessage,
  type Executed,
  GrepError,
  KEY_BYTES,
  type MemberOutcome,
  nobleCrypto,
  openItem,
  type Outgoing,
  type Random,
  seededRandom,
  toHex,
} from '../../main/grep/index.js';

type Scheme = 'basic' | 'lkh';
type AnyMember = BasicMember | LkhMember;
const GROUP = 9;

/** Every key a member holds right now, Ku included: what it could try on any message. */
function keysOf(member: AnyMember): Uint8Array[] {
  if (member instanceof BasicMember) return [member.ownNodeKey, ...(member.secrets ? [member.secrets.kg] : [])];
  return [member.ownNodeKey, ...(member.secrets?.path ?? [])];
}

/**
 * A baseline KM and real member objects fed with the KM's real messages. Removed members keep
 * listening; `held` keeps every key a member ever had, which is what a compromised meter leaks.
 */
class BaselineFleet {
  readonly random: Random;
  readonly signingKey: Uint8Array;
  readonly km: BasicKeyManager | LkhKeyManager;
  readonly members = new Map<number, AnyMember>();
  readonly current = new Set<number>();
  readonly log: Outgoing[] = [];
  readonly held = new Map<number, Set<string>>();
  readonly outcomes: { member: number; type: string; outcome: MemberOutcome }[] = [];

  constructor(readonly scheme: Scheme, seed = 1) {
    this.random = seededRandom(seed);
    this.signingKey = this.random(32);
    const config = { groupId: GROUP, signingKey: this.signingKey, crypto: nobleCrypto };
    this.km = scheme === 'basic' ? new BasicKeyManager(config, this.random) : new LkhKeyManager(config, this.random);
  }

  private member(id: number, nodeKey: Uint8Array, state?: BasicMemberKeys | LkhMemberKeys): AnyMember {
    const identity = { id, groupId: GROUP, nodeKey, kmPublicKey: this.km.publicKey };
    const member =
      this.scheme === 'basic'
        ? new BasicMember(identity, nobleCrypto, state as BasicMemberKeys | undefined)
        : new LkhMember(identity, nobleCrypto, state as LkhMemberKeys | undefined);
    this.members.set(id, member);
    this.remember(member);
    return member;
  }

  join(id: number): Executed {
    const member = this.member(id, this.random(16));
    const executed = this.km.join({ id, nodeKey: member.ownNodeKey }, this.random);
    this.current.add(id);
    return this.deliver(executed);
  }

  remove(ids: number[]): Executed {
    const executed = this.km.remove(ids, this.random);
    for (const id of ids) this.current.delete(id);
    return this.deliver(executed);
  }

  bootstrap(ids: number[]): void {
    const roster: Commissioning[] = ids.map((id) => ({ id, nodeKey: this.random(16) }));
    this.km.bootstrap(roster, this.random);
    for (const { id, nodeKey } of roster) {
      this.member(id, nodeKey, this.km.memberState(id));
      this.current.add(id);
    }
  }

  /** Broadcasts reach everyone ever commissioned; a unicast reaches its addressee only. */
  deliver(executed: Executed): Executed {
    for (const message of executed.messages) {
      this.log.push(message);
      for (const member of this.members.values()) {
        if (message.to !== 'all' && message.to !== member.id) continue;
        this.outcomes.push({ member: member.id, type: message.type, outcome: member.receive(message.bytes) });
      }
    }
    for (const member of this.members.values()) this.remember(member);
    return executed;
  }

  private remember(member: AnyMember): void {
    const set = this.held.get(member.id) ?? new Set<string>();
    for (const key of keysOf(member)) set.add(toHex(key));
    this.held.set(member.id, set);
  }

  /** Invariant 2 for the baselines: every current member holds exactly what the KM says it should. */
  expectConsistent(): void {
    for (const id of this.current) {
      const member = this.members.get(id)!;
      expect(member.epoch, `epoch of ${id}`).toBe(this.km.epoch);
      expect(toHex(member.groupKey!), `KG of ${id}`).toBe(toHex(this.km.groupKey()));
      expect(member.secrets, `secrets of ${id}`).toEqual(this.km.memberState(id));
      expect(member.secretCount).toBe(this.km.memberSecretCount(id));
    }
    expect(this.km.size).toBe(this.current.size);
  }

  /** How many items of the logged messages from index `from` on open under any key in `keys`. */
  openable(keys: Iterable<string>, from = 0, to = this.log.length): number {
    const candidates = [...keys].map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));
    let opened = 0;
    for (const message of this.log.slice(from, to)) {
      const decoded = decodeMessage(message.bytes);
      for (const item of decoded.items) {
        if (candidates.some((key) => openItem(nobleCrypto, decoded, item, key))) opened += 1;
      }
    }
    return opened;
  }

  everyKeyHeld(): Set<string> {
    return new Set([...this.held.values()].flatMap((set) => [...set]));
  }
}

function expectPlanMatches(executed: Executed): void {
  const { plan, messages } = executed;
  expect(messages.length).toBe(plan.messages.length);
  expect(plan.bytes).toBe(messages.reduce((sum, m) => sum + m.bytes.length, 0));
  messages.forEach((message, index) => {
    expect(message.type).toBe(plan.messages[index]!.type);
    expect(message.to).toBe(plan.messages[index]!.to);
    expect(message.bytes.length).toBe(plan.messages[index]!.bytes);
  });
  expect(plan.broadcasts).toBe(messages.filter((m) => m.to === 'all').length);
  expect(plan.unicasts).toBe(messages.filter((m) => m.to !== 'all').length);
}

function itemCount(message: Outgoing): number {
  return decodeMessage(message.bytes).items.length;
}

function errorCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof GrepError) return error.code;
    throw error;
  }
  return undefined;
}

/** A joiner cannot open anything sent before its join, and holds no key value anyone held before. */
function expectFreshJoiner(fleet: BaselineFleet, id: number, logBefore: number, keysBefore: Set<string>): void {
  const joiner = fleet.members.get(id)!;
  expect(fleet.openable(fleet.held.get(id)!, 0, logBefore)).toBe(0);
  for (const key of keysOf(joiner)) expect(keysBefore.has(toHex(key))).toBe(false);
}

/** LKH joins in a tree that only grew: the joiner takes slot 2m+1 after the first two, and every ancestor is rekeyed under its old key. */
function expectLkhJoin(km: LkhKeyManager, id: number, executed: Executed): void {
  const leaf = km.leafOf(id);
  expect(km.slotCount).toBe(Math.max(2, id));
  expect(leaf).toBe(id <= 2 ? id + 1 : 2 * id - 1);
  if (id === 1) return;
  const owners = decodeMessage(executed.messages[0]!.bytes).items.map((item) => item.owner);
  expect(owners).toEqual(ancestorsOf(leaf));
  expect(owners.length).toBeLessThanOrEqual(Math.ceil(Math.log2(id)));
  if (id !== 64) return;
  // the last join split slot 63, where meter 32 sat: it moved to 126, beside the joiner at 127;
  // meter 1 went down one level at every split of its slot: 2, 4, 8, 16, 32, 64
  expect([km.leafOf(32), km.leafOf(64), km.leafOf(1)]).toEqual([126, 127, 64]);
  expect(km.memberSecretCount(1)).toBe(7);
}

describe.each(['basic', 'lkh'] as const)('%s scheme: shared behaviour', (scheme) => {
  it('grows by joins to 1, 2, 7 and 64 members; every member tracks the KM and every joiner starts fresh', () => {
    const fleet = new BaselineFleet(scheme);
    for (let id = 1; id <= 64; id++) {
      const checkpoint = [1, 2, 7, 64].includes(id);
      const logBefore = fleet.log.length;
      const keysBefore = checkpoint ? fleet.everyKeyHeld() : new Set<string>();
      const plan = fleet.km.planJoin(id);
      const executed = fleet.join(id);
      expect(executed.plan).toEqual(plan);
      expectPlanMatches(executed);
      expect(executed.epoch).toBe(id);
      expect(plan.broadcasts).toBe(id === 1 ? 0 : 1);
      expect(plan.unicasts).toBe(1);
      expect(executed.messages.at(-1)!.to).toBe(id);
      if (checkpoint) expectFreshJoiner(fleet, id, logBefore, keysBefore);
      if (fleet.km instanceof LkhKeyManager) expectLkhJoin(fleet.km, id, executed);
      fleet.expectConsistent();
    }
    const statuses = new Set(fleet.outcomes.map(({ outcome }) => outcome.status));
    expect([...statuses].sort()).toEqual(['applied', 'ignored']);
  });

  it('after leaves and batch removals the removed members open nothing later and miss every later KG', () => {
    const fleet = new BaselineFleet(scheme, 2);
    fleet.bootstrap(Array.from({ length: 93 }, (_, i) => 1000 + i));
    fleet.expectConsistent();
    for (let id = 1093; id < 1100; id++) {
      const logBefore = fleet.log.length;
      const keysBefore = fleet.everyKeyHeld();
      fleet.join(id);
      expectFreshJoiner(fleet, id, logBefore, keysBefore);
    }
    fleet.expectConsistent();
    if (fleet.km instanceof LkhKeyManager) expect(fleet.km.slotCount).toBe(100);
    const removed: number[] = [];
    const checkpoints: number[] = [];
    const rounds: number[][] = [[1005], [1000, 1099, 1020, 1021], [1040], [1041, 1042, 1043, 1044, 1045, 1046, 1047]];
    for (const [index, batch] of rounds.entries()) {
      checkpoints.push(fleet.log.length);
      const plan = fleet.km.planRemove(batch);
      const executed = fleet.remove(batch);
      expect(executed.plan).toEqual(plan);
      expectPlanMatches(executed);
      removed.push(...batch);
      fleet.expectConsistent();
      for (const id of removed) {
        expect(toHex(fleet.members.get(id)!.groupKey!)).not.toBe(toHex(fleet.km.groupKey()));
      }
      const logBefore = fleet.log.length;
      const keysBefore = fleet.everyKeyHeld();
      fleet.join(2000 + index);
      expectFreshJoiner(fleet, 2000 + index, logBefore, keysBefore);
      fleet.expectConsistent();
    }
    rounds.forEach((batch, index) => {
      for (const id of batch) expect(fleet.openable(fleet.held.get(id)!, checkpoints[index]), `meter ${id}`).toBe(0);
    });
    // The check has teeth: a current member's keys do open later messages.
    expect(fleet.openable(fleet.held.get(1001)!, checkpoints[0])).toBeGreaterThan(0);
  });

  it('a group of one keeps KG apart from the member\'s Ku, and the next joiner rekeys it', () => {
    const fleet = new BaselineFleet(scheme, 22);
    fleet.bootstrap([7]);
    const only = fleet.members.get(7)!;
    expect(fleet.km.memberSecretCount(7)).toBe(2);
    expect(toHex(fleet.km.groupKey())).not.toBe(toHex(only.ownNodeKey));
    fleet.expectConsistent();
    const oldKg = toHex(fleet.km.groupKey());
    const executed = fleet.join(8);
    expect([executed.plan.broadcasts, executed.plan.unicasts]).toEqual([1, 1]);
    expect(toHex(fleet.km.groupKey())).not.toBe(oldKg);
    fleet.expectConsistent();
  });

  it('refuses bad operations before drawing a key or changing anything', () => {
    const fleet = new BaselineFleet(scheme, 3);
    fleet.bootstrap([1, 2, 3]);
    const epoch = fleet.km.epoch;
    const kg = toHex(fleet.km.groupKey());
    expect(errorCode(() => fleet.km.planJoin(2))).toBe('DUPLICATE_MEMBER');
    expect(errorCode(() => fleet.km.join({ id: 4, nodeKey: new Uint8Array(15) }, fleet.random))).toBe('BAD_KEY');
    expect(errorCode(() => fleet.km.planJoin(-1))).toBe('BAD_ARGUMENT');
    expect(errorCode(() => fleet.km.remove([], fleet.random))).toBe('EMPTY_SET');
    expect(errorCode(() => fleet.km.remove([9], fleet.random))).toBe('UNKNOWN_MEMBER');
    expect(errorCode(() => fleet.km.remove([1, 1], fleet.random))).toBe('BAD_ARGUMENT');
    expect(errorCode(() => fleet.km.remove([1, 2, 3], fleet.random))).toBe('GROUP_WOULD_BE_EMPTY');
    expect(errorCode(() => fleet.km.bootstrap([{ id: 5, nodeKey: new Uint8Array(16) }], fleet.random))).toBe('BAD_ARGUMENT');
    expect(errorCode(() => fleet.km.memberState(9))).toBe('UNKNOWN_MEMBER');
    expect(fleet.km.epoch).toBe(epoch);
    expect(toHex(fleet.km.groupKey())).toBe(kg);
    fleet.expectConsistent();
    const empty = new BaselineFleet(scheme, 3);
    expect(errorCode(() => empty.km.bootstrap([], empty.random))).toBe('EMPTY_SET');
    const key = new Uint8Array(16);
    expect(errorCode(() => empty.km.bootstrap([{ id: 1, nodeKey: key }, { id: 1, nodeKey: key }], empty.random))).toBe('DUPLICATE_MEMBER');
    expect(empty.km.size).toBe(0);
  });

  it('a replayed message and a broadcast signed by another key change no member', () => {
    const fleet = new BaselineFleet(scheme, 4);
    for (let id = 1; id <= 7; id++) fleet.join(id);
    const before = new Map([...fleet.members].map(([id, m]) => [id, structuredClone(m.secrets)]));
    for (const message of fleet.log) {
      for (const member of fleet.members.values()) {
        if (message.to !== 'all' && message.to !== member.id) continue;
        expect(member.receive(message.bytes)).toEqual({ status: 'ignored', reason: 'stale' });
      }
    }
    // An insider knows KG: it builds a rekey every member could open, but cannot sign it as the KM.
    const victim = fleet.members.get(3)!;
    const forged = (signingKey: Uint8Array) => forgeRekey(fleet, victim, signingKey);
    const outsider = seededRandom(99)(32);
    for (const member of fleet.members.values()) {
      expect(member.receive(forged(outsider))).toMatchObject({ status: 'rejected', code: 'BAD_SIGNATURE' });
      expect(member.secrets).toEqual(before.get(member.id));
    }
    // Control: the same message under the KM's key is applied, so only the signature stopped it.
    expect(victim.receive(forged(fleet.signingKey))).toEqual({ status: 'applied', epoch: fleet.km.epoch + 1 });
    expect(toHex(victim.groupKey!)).toBe('ab'.repeat(16));
  });

  it('a corrupted or truncated message is rejected without a state change', () => {
    const fleet = new BaselineFleet(scheme, 5);
    for (let id = 1; id <= 7; id++) fleet.join(id);
    const executed = fleet.km.remove([4], fleet.random);
    const target = executed.messages[0]!;
    const listener = fleet.members.get(target.to === 'all' ? 1 : target.to)!;
    const before = structuredClone(listener.secrets);
    for (const position of [3, 20, target.bytes.length - 1]) {
      const bad = target.bytes.slice();
      bad[position]! ^= 1;
      expect(listener.receive(bad).status).toBe('rejected');
    }
    expect(listener.receive(target.bytes.slice(0, target.bytes.length - 1)).status).toBe('rejected');
    expect(listener.secrets).toEqual(before);
    expect(listener.receive(target.bytes)).toEqual({ status: 'applied', epoch: fleet.km.epoch });
  });
});

/** A well-formed rekey to KG = ab..ab for `victim`, from someone holding its keys, signed with `signingKey`. */
function forgeRekey(fleet: BaselineFleet, victim: AnyMember, signingKey: Uint8Array): Uint8Array {
  const header = { groupId: GROUP, epoch: fleet.km.epoch + 1 };
  const rogue = new Uint8Array(16).fill(0xab);
  if (victim instanceof BasicMember) {
    const item = { slot: 0, owner: 0, key: victim.groupKey!, plaintext: rogue };
    return encodeMessage(nobleCrypto, { ...header, type: 'PERIODIC', subject: 0 }, [item], signingKey);
  }
  const { leaf, path } = victim.secrets!;
  const child = leaf >>> (path.length - 1);
  const item = { slot: 0, owner: child, key: path.length > 1 ? path.at(-2)! : victim.ownNodeKey, plaintext: rogue };
  return encodeMessage(nobleCrypto, { ...header, type: 'LKH', subject: 0 }, [item], signingKey);
}

describe('basic scheme', () => {
  it('a join is one PERIODIC under the old KG (112 bytes) and one BASIC to the joiner (48 bytes)', () => {
    const fleet = new BaselineFleet('basic');
    fleet.bootstrap([1, 2, 3]);
    const oldKg = fleet.km.groupKey();
    const executed = fleet.join(4);
    expect(executed.messages.map((m) => [m.type, m.to, m.bytes.length])).toEqual([['PERIODIC', 'all', 112], ['BASIC', 4, 48]]);
    const periodic = decodeMessage(executed.messages[0]!.bytes);
    expect(openItem(nobleCrypto, periodic, periodic.items[0]!, oldKg)).toEqual(fleet.km.groupKey());
  });

  it('a leave from n members is n−1 BASIC unicasts under each Ku and no broadcast; a batch is n−|C|', () => {
    const fleet = new BaselineFleet('basic', 6);
    fleet.bootstrap(Array.from({ length: 100 }, (_, i) => i + 1));
    const leave = fleet.remove([50]);
    expect([leave.plan.broadcasts, leave.plan.unicasts, leave.plan.bytes]).toEqual([0, 99, 99 * 48]);
    const addressees = leave.messages.map((m) => m.to);
    expect(new Set(addressees).size).toBe(99);
    expect(addressees).not.toContain(50);
    for (const message of leave.messages) {
      const decoded = decodeMessage(message.bytes);
      expect(decoded.header.subject).toBe(message.to);
      const member = fleet.members.get(message.to as number)!;
      expect(openItem(nobleCrypto, decoded, decoded.items[0]!, member.ownNodeKey)).toEqual(fleet.km.groupKey());
    }
    const batch = fleet.remove([1, 2, 3, 99, 100]);
    expect([batch.plan.broadcasts, batch.plan.unicasts, batch.plan.operation]).toEqual([0, 94, 'recover']);
    fleet.expectConsistent();
    expect(fleet.km.memberSecretCount(10)).toBe(BASIC_MEMBER_SECRETS);
    expect(fleet.members.get(10)!.secretCount).toBe(2);
  });

  it('a BASIC for another meter is ignored, and one sealed under a wrong key is rejected', () => {
    const fleet = new BaselineFleet('basic', 7);
    fleet.bootstrap([1, 2, 3]);
    const executed = fleet.km.remove([3], fleet.random);
    const toOne = executed.messages.find((m) => m.to === 1)!;
    const two = fleet.members.get(2)!;
    expect(two.receive(toOne.bytes)).toEqual({ status: 'ignored', reason: 'not-addressed' });
    const spoof = encodeMessage(
      nobleCrypto,
      { type: 'BASIC', groupId: GROUP, epoch: fleet.km.epoch, subject: 2 },
      [{ slot: 0, owner: 0, key: seededRandom(5)(16), plaintext: new Uint8Array(16) }],
      undefined,
    );
    expect(two.receive(spoof)).toMatchObject({ status: 'rejected', code: 'DECRYPT_FAILED' });
    expect(two.epoch).toBe(fleet.km.epoch - 1);
  });

  it('bootstraps 10^6 members in seconds and plans a leave of 999 999 unicasts', () => {
    const km = new BasicKeyManager({ groupId: GROUP, signingKey: new Uint8Array(32).fill(1), crypto: nobleCrypto }, seededRandom(8));
    const roster = millionRoster();
    const started = performance.now();
    km.bootstrap(roster, seededRandom(9));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(km.size).toBe(1_000_000);
    const plan = km.planRemove([123_456]);
    expect([plan.broadcasts, plan.unicasts, plan.bytes]).toEqual([0, 999_999, 999_999 * 48]);
    expect(km.planJoin(2_000_000).bytes).toBe(112 + 48);
  });
});

function millionRoster(): Commissioning[] {
  const keys = seededRandom(10)(1_000_000 * KEY_BYTES);
  return Array.from({ length: 1_000_000 }, (_, i) => ({ id: i + 1, nodeKey: keys.subarray(16 * i, 16 * i + 16) }));
}

describe('LKH', () => {
  it.each([
    [2, 2, 1],
    [7, 7, 3],
    [7, 13, 5],
    [64, 64, 11],
    [64, 127, 11],
    [100, 100, 11],
    [100, 199, 13],
  ])('a single leave from %i members (leaf %i) is one broadcast of %i wrapped keys', (n, leaf, items) => {
    const fleet = new BaselineFleet('lkh', n);
    const km = fleet.km as LkhKeyManager;
    fleet.bootstrap(Array.from({ length: n }, (_, i) => 500 + i));
    const leaver = 500 + leaf - km.slotCount;
    expect(km.leafOf(leaver)).toBe(leaf);
    const executed = fleet.remove([leaver]);
    expectPlanMatches(executed);
    expect([executed.plan.broadcasts, executed.plan.unicasts]).toEqual([1, 0]);
    expect(itemCount(executed.messages[0]!)).toBe(items);
    expect(items).toBe(2 * depthOf(leaf) - 1);
    expect(items).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)));
    expect(executed.plan.bytes).toBe(16 + 2 + 36 * items + 64);
    fleet.expectConsistent();
    expect(fleet.openable(fleet.held.get(leaver)!, fleet.log.length - 1)).toBe(0);
  });

  it.each([
    [[8, 9], 3],
    [[8, 15], 8],
    [[8, 9, 10, 11], 1],
    [[9, 10, 12, 15], 10],
  ])('a batch removal of leaves %j from a full 8-member tree sends %i wrapped keys', (leaves, items) => {
    const fleet = new BaselineFleet('lkh', 11);
    fleet.bootstrap([0, 1, 2, 3, 4, 5, 6, 7]);
    const executed = fleet.remove(leaves.map((leaf) => leaf - 8));
    expect(itemCount(executed.messages[0]!)).toBe(items);
    expectPlanMatches(executed);
    fleet.expectConsistent();
    for (const leaf of leaves) expect(fleet.openable(fleet.held.get(leaf - 8)!, fleet.log.length - 1)).toBe(0);
  });

  it('joins refill vacated leaves, shallowest first, without growing the tree', () => {
    const fleet = new BaselineFleet('lkh', 12);
    const km = fleet.km as LkhKeyManager;
    fleet.bootstrap(Array.from({ length: 12 }, (_, i) => i + 1));
    // slots 12..23: remove the members at 22, 14, 15 (14 and 15 empty node 7)
    fleet.remove([11, 3, 4]);
    const logBefore = fleet.log.length;
    const keysBefore = fleet.everyKeyHeld();
    const refill = fleet.join(50);
    expect(km.leafOf(50)).toBe(14);
    // node 7 was emptied: only 3 and 1 have holders, so two items; 7 gets a key nobody held
    expect(decodeMessage(refill.messages[0]!.bytes).items.map((item) => item.owner)).toEqual([3, 1]);
    expectFreshJoiner(fleet, 50, logBefore, keysBefore);
    fleet.join(51);
    fleet.join(52);
    expect([km.leafOf(51), km.leafOf(52), km.slotCount]).toEqual([15, 22, 12]);
    fleet.join(53);
    expect([km.leafOf(53), km.slotCount]).toEqual([25, 13]);
    fleet.expectConsistent();
  });

  it('stays consistent through random joins, leaves and batch removals', () => {
    const fleet = new BaselineFleet('lkh', 13);
    const km = fleet.km as LkhKeyManager;
    const pick = seededRandom(14);
    fleet.bootstrap(Array.from({ length: 30 }, (_, i) => i + 1));
    let next = 100;
    const removedAt: [number, number][] = [];
    for (let round = 0; round < 30; round++) {
      const roll = pick(1)[0]!;
      const present = [...fleet.current];
      if (roll < 110 || present.length < 4) {
        fleet.join(next++);
      } else {
        const count = roll < 200 ? 1 : 1 + (roll % 6);
        const chosen = new Set<number>();
        while (chosen.size < count) chosen.add(present[pick(1)[0]! % present.length]!);
        removedAt.push(...[...chosen].map((id) => [id, fleet.log.length] as [number, number]));
        const maxDepth = depthOf(2 * km.slotCount - 1);
        const executed = fleet.remove([...chosen]);
        expect(itemCount(executed.messages[0]!)).toBeLessThanOrEqual((2 * maxDepth - 1) * count);
      }
      fleet.expectConsistent();
    }
    expect(removedAt.length).toBeGreaterThan(5);
    for (const [id, from] of removedAt) expect(fleet.openable(fleet.held.get(id)!, from), `meter ${id}`).toBe(0);
  });

  it('a signed LKH that would leave a member half-updated, or names a node twice, is rejected whole', () => {
    const fleet = new BaselineFleet('lkh', 17);
    fleet.bootstrap([1, 2, 3, 4, 5, 6, 7, 8]);
    const member = fleet.members.get(1)! as LkhMember;
    const [k4, k2] = member.secrets!.path;
    const ku = member.ownNodeKey;
    const x = new Uint8Array(16).fill(0x5a);
    const signed = (subject: number, items: [number, Uint8Array][]) =>
      encodeMessage(
        nobleCrypto,
        { type: 'LKH', groupId: GROUP, epoch: fleet.km.epoch + 1, subject },
        items.map(([owner, key], slot) => ({ slot, owner, key, plaintext: x })),
        fleet.signingKey,
      );
    const before = structuredClone(member.secrets);
    const malformed = { status: 'rejected', code: 'MALFORMED' };
    expect(member.receive(signed(0, [[8, ku]]))).toMatchObject(malformed); // stops at node 4, below KG
    expect(member.receive(signed(0, [[2, k2!], [2, k2!]]))).toMatchObject(malformed);
    expect(member.receive(signed(9, [[4, k4!], [1, k2!]]))).toMatchObject(malformed); // join skips node 2
    expect(member.receive(signed(1, [[2, k2!]]))).toMatchObject(malformed);
    expect(member.receive(signed(0, [[4, k4!], [2, ku]]))).toMatchObject({ status: 'rejected', code: 'DECRYPT_FAILED' });
    expect(member.receive(signed(0, [[3, k2!]]))).toEqual({ status: 'ignored', reason: 'not-addressed' });
    expect(member.secrets).toEqual(before);
    expect(member.receive(signed(0, [[2, k2!]]))).toEqual({ status: 'applied', epoch: fleet.km.epoch + 1 });
    expect(member.secrets!.path).toEqual([k4, k2, x]);
  });

  it('plans a batch up to what one LKH broadcast holds and refuses a larger one before changing anything', () => {
    const plan = (n: number) => {
      const km = new LkhKeyManager({ groupId: GROUP, signingKey: new Uint8Array(32).fill(1), crypto: nobleCrypto }, seededRandom(18));
      const keys = seededRandom(19)(n * KEY_BYTES);
      km.bootstrap(Array.from({ length: n }, (_, i) => ({ id: i, nodeKey: keys.subarray(16 * i, 16 * i + 16) })), seededRandom(20));
      const everyOther = Array.from({ length: n / 2 }, (_, i) => 2 * i);
      return { km, everyOther };
    };
    // 2^14 leaves, every other one removed: one key per node of level 13, two per node above
    const small = plan(1 << 14);
    expect(small.km.planRemove(small.everyOther).bytes).toBe(16 + 2 + 36 * (8192 + 2 * 8191) + 64);
    const large = plan(1 << 15);
    const epoch = large.km.epoch;
    expect(errorCode(() => large.km.remove(large.everyOther, seededRandom(21)))).toBe('OVERSIZED');
    expect(large.km.epoch).toBe(epoch);
    expect(large.km.size).toBe(1 << 15);
  });

  it('LKH_STATE round-trips and rejects truncated, extended or rootless payloads', () => {
    const state = { leaf: 13, path: [new Uint8Array(16).fill(6), new Uint8Array(16).fill(3), new Uint8Array(16).fill(1)] };
    const bytes = encodeLkhState(state);
    expect(bytes.length).toBe(4 + 3 * 16);
    expect(toHex(bytes.subarray(0, 4))).toBe('0000000d');
    expect(decodeLkhState(bytes)).toEqual(state);
    expect(errorCode(() => decodeLkhState(bytes.slice(0, -1)))).toBe('TRUNCATED');
    expect(errorCode(() => decodeLkhState(new Uint8Array([...bytes, 0])))).toBe('OVERSIZED');
    expect(errorCode(() => decodeLkhState(new Uint8Array([0, 0, 0, 1])))).toBe('MALFORMED');
    expect(errorCode(() => decodeLkhState(new Uint8Array([0, 0, 0, 2])))).toBe('TRUNCATED');
  });

  it('a member rejects an LKH_STATE that opens but is truncated, and one that does not open', () => {
    const fleet = new BaselineFleet('lkh', 15);
    fleet.bootstrap([1, 2, 3]);
    const executed = fleet.km.join({ id: 4, nodeKey: new Uint8Array(16).fill(4) }, fleet.random);
    const state = executed.messages.find((m) => m.type === 'LKH_STATE')!;
    const joiner = new LkhMember({ id: 4, groupId: GROUP, nodeKey: new Uint8Array(16).fill(4), kmPublicKey: fleet.km.publicKey }, nobleCrypto);
    const good = decodeMessage(state.bytes);
    const payload = openItem(nobleCrypto, good, good.items[0]!, joiner.ownNodeKey)!;
    const reseal = (plaintext: Uint8Array) =>
      encodeMessage(nobleCrypto, { ...good.header }, [{ slot: 0, owner: 0, key: joiner.ownNodeKey, plaintext }], undefined);
    expect(joiner.receive(reseal(payload.slice(0, -16)))).toMatchObject({ status: 'rejected', code: 'TRUNCATED' });
    expect(joiner.receive(reseal(new Uint8Array([0, 0, 0, 1])))).toMatchObject({ status: 'rejected', code: 'MALFORMED' });
    const flipped = state.bytes.slice();
    flipped[30]! ^= 0x80;
    expect(joiner.receive(flipped)).toMatchObject({ status: 'rejected', code: 'DECRYPT_FAILED' });
    expect(joiner.secrets).toBeUndefined();
    expect(fleet.members.get(1)!.receive(state.bytes)).toEqual({ status: 'ignored', reason: 'not-addressed' });
    expect(joiner.receive(state.bytes)).toEqual({ status: 'applied', epoch: executed.epoch });
    expect(joiner.secrets).toEqual(fleet.km.memberState(4));
  });

  it('bootstraps 10^6 members in seconds; a leave and a join there cost about log2(n) wrapped keys', () => {
    const km = new LkhKeyManager({ groupId: GROUP, signingKey: new Uint8Array(32).fill(1), crypto: nobleCrypto }, seededRandom(8));
    const roster = millionRoster();
    const started = performance.now();
    km.bootstrap(roster, seededRandom(9));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(km.slotCount).toBe(1_000_000);
    const identity = (id: number) => ({ id, groupId: GROUP, nodeKey: roster[id - 1]!.nodeKey, kmPublicKey: km.publicKey });
    // leaf of member i is 10^6 + i - 1: 2^20 = 1 048 576 splits the depths 19 and 20
    const watched = [1, 48_577, 48_578, 999_999, 1_000_000].map((id) => new LkhMember(identity(id), nobleCrypto, km.memberState(id)));
    const leave = km.remove([48_577], seededRandom(16));
    expect(km.leafOf(48_578)).toBe(1_048_577);
    expect(itemCount(leave.messages[0]!)).toBe(2 * 20 - 1);
    const join = km.join({ id: 2_000_000, nodeKey: new Uint8Array(16).fill(2) }, seededRandom(17));
    expect(km.leafOf(2_000_000)).toBe(1_048_576);
    expect(itemCount(join.messages[0]!)).toBe(20);
    for (const member of watched) {
      for (const message of [...leave.messages, ...join.messages]) member.receive(message.bytes);
    }
    expect(watched[1]!.groupKey).not.toEqual(km.groupKey());
    for (const member of [watched[0]!, ...watched.slice(2)]) expect(member.secrets).toEqual(km.memberState(member.id));
  });
});
