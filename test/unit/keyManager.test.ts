import { describe, expect, test } from 'vitest';
import { defaultSubgroupCap, encodeMessage, GrepError, KeyManager, MAX_MESSAGE_BYTES, nobleCrypto, type Plan, seededRandom } from '../../main/grep/index.js';
import { Fleet } from '../support/fleet.js';

function fleetOf(count: number, cap = 4, seed = 1): Fleet {
  const fleet = new Fleet({ cap, seed });
  for (let id = 1; id <= count; id++) fleet.join(id);
  return fleet;
}

const layout = (fleet: Fleet) => [...fleet.km.subgroups()].map((s) => [s.id, [...s.members]]);
const kinds = (messages: readonly { type: string; to: unknown }[]) => messages.map((m) => (m.to === 'all' ? m.type : `${m.type}>${m.to}`));
const expectGrepError = (action: () => unknown, code: string) => {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(GrepError);
    expect((error as GrepError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
};

describe('subgroups (§3)', () => {
  test('the default cap is ceil(sqrt(planned size)) and at least 4', () => {
    expect(defaultSubgroupCap(1)).toBe(4);
    expect(defaultSubgroupCap(17)).toBe(5);
    expect(defaultSubgroupCap(10_000)).toBe(100);
    expect(defaultSubgroupCap(10_001)).toBe(101);
  });

  test('a joiner enters the youngest subgroup while it has room, else opens a new one; older gaps stay', () => {
    const fleet = fleetOf(9);
    expect(layout(fleet)).toEqual([[1, [1, 2, 3, 4]], [2, [5, 6, 7, 8]], [3, [9]]]);
    fleet.remove([2], false);
    fleet.join(10);
    expect(layout(fleet)).toEqual([[1, [1, 3, 4]], [2, [5, 6, 7, 8]], [3, [9, 10]]]);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('an emptied subgroup is deleted and everyone drops its tokens', () => {
    const fleet = fleetOf(12);
    fleet.remove([5], false);
    fleet.remove([6, 7], false);
    const last = fleet.remove([8], false);
    expect(kinds(last.messages)).toEqual(['M2']);
    expect(layout(fleet)).toEqual([[1, [1, 2, 3, 4]], [3, [9, 10, 11, 12]]]);
    expect(fleet.mismatches()).toEqual([]);
    for (const id of [1, 9]) {
      const held = fleet.members.get(id)!.secrets!;
      expect([...held.subgroupBackward.keys(), ...held.subgroupForward.keys()]).not.toContain(2);
    }
  });
});

describe('join (§4) and leave (§5)', () => {
  test('the first member gets only its J3; a joiner into a subgroup costs J1 + J2 + J3; into a new one J2 + J3', () => {
    const fleet = new Fleet();
    expect(kinds(fleet.join(1).messages)).toEqual(['J3>1']);
    expect(kinds(fleet.join(2).messages)).toEqual(['J1', 'J2', 'J3>2'].filter((k) => k !== 'J2'));
    for (let id = 3; id <= 4; id++) fleet.join(id);
    expect(kinds(fleet.join(5).messages)).toEqual(['J2', 'J3>5']);
    expect(kinds(fleet.join(6).messages)).toEqual(['J1', 'J2', 'J3>6']);
    expect(fleet.mismatches()).toEqual([]);
    expect(fleet.rejected()).toEqual([]);
  });

  test('a leave is two broadcasts of 320 bytes together, whatever the group size', () => {
    for (const size of [12, 60, 200]) {
      const fleet = fleetOf(size, 4, size);
      const leave = fleet.remove([6], false);
      expect(kinds(leave.messages)).toEqual(['M1', 'M2']);
      expect(leave.messages.reduce((sum, m) => sum + m.bytes.length, 0)).toBe(320);
      expect(fleet.mismatches()).toEqual([]);
    }
  });

  test('the plan states exactly the messages and bytes that execution sends', () => {
    const fleet = fleetOf(14);
    const check = (plan: ReturnType<KeyManager['planJoin']>, run: () => ReturnType<Fleet['join']>) => {
      const executed = run();
      expect(executed.plan).toEqual(plan);
      expect(plan.messages.map((m) => [m.type, m.to, m.bytes])).toEqual(executed.messages.map((m) => [m.type, m.to, m.bytes.length]));
      expect(plan.bytes).toBe(executed.messages.reduce((sum, m) => sum + m.bytes.length, 0));
    };
    check(fleet.km.planJoin(15), () => fleet.join(15));
    check(fleet.km.planJoin(16), () => fleet.join(16));
    check(fleet.km.planRemove([6]), () => fleet.remove([6], false));
    check(fleet.km.planRemove([2, 11]), () => fleet.remove([2, 11], true));
    check(fleet.km.planRemove([13]), () => fleet.remove([13], false));
    check(fleet.km.planPeriodicRekey(), () => fleet.periodic());
    check(fleet.km.planResync(3), () => fleet.deliver(fleet.km.resync(3)));
    expect(fleet.mismatches()).toEqual([]);
  });

  test('a batch of joins is planned without running it, message for message what the joins then send', () => {
    // an empty group, a subgroup with room, gaps after a removal, an emptied (deleted) youngest subgroup
    const shapes: [members: number, removed: number[]][] = [[0, []], [9, []], [14, [2, 6, 13]], [9, [9]], [8, [5, 6, 7, 8]]];
    for (const [members, removed] of shapes) {
      const fleet = fleetOf(members);
      if (removed.length > 0) fleet.remove(removed, false);
      const joiners = Array.from({ length: 11 }, (_, index) => 100 + index);
      const before = fleet.km.snapshot();
      const plans = [...fleet.km.planJoins(joiners)];
      expect(fleet.km.snapshot()).toEqual(before);
      // the group is read at the call: plans drawn after the joins ran are those of the group before them
      const drawnLate = fleet.km.planJoins(joiners);
      const executed = joiners.map((id) => fleet.join(id));
      expect(plans).toEqual(executed.map((join) => join.plan));
      expect([...drawnLate]).toEqual(plans);
      const sent = (plan: Plan) => plan.messages.map((m) => [m.type, m.to, m.bytes]);
      expect(plans.map(sent)).toEqual(executed.map((join) => join.messages.map((m) => [m.type, m.to, m.bytes.length])));
      expect(fleet.mismatches()).toEqual([]);
    }
  });

  test('a batch of joins that running it would refuse part way is refused whole, the state untouched', () => {
    const fleet = fleetOf(3);
    const before = fleet.km.snapshot();
    expectGrepError(() => fleet.km.planJoins([10, 2]), 'DUPLICATE_MEMBER');
    expectGrepError(() => fleet.km.planJoins([10, 11, 10]), 'DUPLICATE_MEMBER');
    expectGrepError(() => fleet.km.planJoins([10, -1]), 'BAD_ARGUMENT');
    // one member per subgroup: each J3 carries a token per older subgroup until no decoder would accept it
    const lonely = new KeyManager({ groupId: 7, signingKey: seededRandom(2)(32), subgroupCap: 1, crypto: nobleCrypto }, seededRandom(3));
    const ids = Array.from({ length: 60_000 }, (_, index) => index + 1);
    expectGrepError(() => [...lonely.planJoins(ids)], 'OVERSIZED');
    const fits = [...lonely.planJoins(ids.slice(0, 50_000))];
    expect(fits.at(-1)!.messages.at(-1)).toMatchObject({ type: 'J3', bytes: expect.any(Number) });
    expect(fits.at(-1)!.messages.at(-1)!.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(lonely.size).toBe(0);
    expect(fleet.km.snapshot()).toEqual(before);
  });
});

describe('remove(C) message counts (§6, invariant 7)', () => {
  test('two neighbours in one subgroup: one A with both sides, one C with both sides', () => {
    const fleet = fleetOf(16);
    const run = fleet.remove([6, 7], true);
    expect(kinds(run.messages)).toEqual(['A', 'C']);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('colluders at both ends of a subgroup: its middle members get B unicasts', () => {
    const fleet = fleetOf(16);
    expect(kinds(fleet.remove([5, 8], true).messages)).toEqual(['B>6', 'B>7', 'C']);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('colluders in the oldest and youngest subgroups: the subgroups between get D, no C', () => {
    const fleet = fleetOf(16);
    expect(kinds(fleet.remove([2, 14], true).messages)).toEqual(['A', 'A', 'D', 'D']);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('a record entry in a deleted subgroup sends its older side D messages; departed anchors turn sides into unicasts', () => {
    const fleet = fleetOf(16);
    fleet.remove([5, 6, 7, 8], true);
    const plan = fleet.km.planRemove([10]);
    expect(plan.recordAdds).toEqual({ broadcasts: 1, unicasts: 0, bytes: expect.any(Number), entries: 4 });
    const run = fleet.remove([10], false);
    // S2 is gone; Sa = S2 (deleted) so S1 gets a D; Sb = S3 holds 10: 9 older, 11 and 12 younger.
    expect(kinds(run.messages)).toEqual(['A', 'C', 'D']);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('a departed record position inside a subgroup turns both sides into unicasts', () => {
    const fleet = fleetOf(12);
    fleet.remove([6], true);
    expect(kinds(fleet.remove([2], false).messages)).toEqual(['A', 'B>5', 'B>7', 'B>8', 'C']);
    expect(fleet.mismatches()).toEqual([]);
    expect(fleet.rejected()).toEqual([]);
  });
});

describe('bad input changes nothing', () => {
  test('unknown member, duplicate join, empty set, removing everyone, a bad node key', () => {
    const fleet = fleetOf(5);
    const before = { epoch: fleet.km.epoch, layout: layout(fleet), kg: fleet.km.groupKey() };
    expectGrepError(() => fleet.km.remove([99], { suspected: false }, fleet.random), 'UNKNOWN_MEMBER');
    expectGrepError(() => fleet.km.join({ id: 3, nodeKey: new Uint8Array(16) }, fleet.random), 'DUPLICATE_MEMBER');
    expectGrepError(() => fleet.km.remove([], { suspected: true }, fleet.random), 'EMPTY_SET');
    expectGrepError(() => fleet.km.remove([1, 2, 3, 4, 5], { suspected: true }, fleet.random), 'GROUP_WOULD_BE_EMPTY');
    expectGrepError(() => fleet.km.remove([1, 1], { suspected: true }, fleet.random), 'BAD_ARGUMENT');
    expectGrepError(() => fleet.km.join({ id: 50, nodeKey: new Uint8Array(15) }, fleet.random), 'BAD_KEY');
    expectGrepError(() => fleet.km.join({ id: -1, nodeKey: new Uint8Array(16) }, fleet.random), 'BAD_ARGUMENT');
    expectGrepError(() => fleet.km.resync(42), 'UNKNOWN_MEMBER');
    expect({ epoch: fleet.km.epoch, layout: layout(fleet), kg: fleet.km.groupKey() }).toEqual(before);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('an insider forging a broadcast with valid AEAD under KG is rejected by every member (invariant 6)', () => {
    const fleet = fleetOf(9);
    const insider = fleet.members.get(4)!.secrets!;
    const forged = encodeMessage(
      nobleCrypto,
      { type: 'PERIODIC', groupId: fleet.km.groupId, epoch: fleet.km.epoch + 1, subject: 0 },
      [{ slot: 0, owner: 0, key: insider.kg, plaintext: new Uint8Array(16).fill(7) }],
      seededRandom(99)(32),
    );
    for (const member of fleet.members.values()) {
      expect(member.receive(forged)).toMatchObject({ status: 'rejected', code: 'BAD_SIGNATURE' });
    }
    expect(fleet.mismatches()).toEqual([]);
  });

  test('replayed and corrupted messages change nothing', () => {
    const fleet = fleetOf(9);
    const old = fleet.remove([2], false);
    fleet.periodic();
    const recovery = fleet.remove([5, 8], true);
    for (const message of [...old.messages, ...recovery.messages]) {
      for (const member of fleet.members.values()) expect(member.receive(message.bytes).status).not.toBe('applied');
    }
    for (const message of recovery.messages) {
      for (let index = 0; index < message.bytes.length; index += 7) {
        const corrupt = message.bytes.slice();
        corrupt[index]! ^= 0x20;
        for (const member of fleet.members.values()) expect(member.receive(corrupt).status).not.toBe('applied');
      }
    }
    expect(fleet.mismatches()).toEqual([]);
  });

  test('a member that missed an epoch sees the gap, then converges by RESYNC', () => {
    const fleet = fleetOf(9);
    const missed = fleet.km.remove([3], { suspected: false }, fleet.random);
    const lagging = fleet.members.get(1)!;
    for (const message of missed.messages) for (const member of fleet.members.values()) if (member !== lagging) member.receive(message.bytes);
    const next = fleet.km.periodicRekey(fleet.random);
    expect(lagging.receive(next.messages[0]!.bytes)).toEqual({ status: 'gap', epoch: fleet.km.epoch });
    for (const member of fleet.members.values()) if (member !== lagging) member.receive(next.messages[0]!.bytes);
    fleet.deliver(fleet.km.resync(1));
    expect(fleet.mismatches()).toEqual([]);
    expect(lagging.report().epoch).toBe(fleet.km.epoch);
  });
});

describe('re-seed (§7)', () => {
  test('rebalances subgroups, clears the record and reaches every member by RESYNC', () => {
    const fleet = fleetOf(10);
    fleet.remove([2, 7], true);
    expect(fleet.km.suspicion).toHaveLength(2);
    const plan = fleet.km.planReseed([]);
    const run = fleet.km.reseed([], fleet.random);
    const messages = [...fleet.km.reseedMessages()];
    fleet.deliver({ ...run, messages });
    expect(fleet.km.suspicion).toEqual([]);
    expect(layout(fleet).map(([, members]) => members)).toEqual([[1, 3, 4, 5], [6, 8, 9, 10]]);
    expect(plan.bytes).toBe(messages.reduce((sum, m) => sum + m.bytes.length, 0));
    expect(fleet.mismatches()).toEqual([]);
    expect(kinds(fleet.remove([4], false).messages)).toEqual(['M1', 'M2']);
  });
});
