import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeMessage, type Executed, GrepError, nobleCrypto, seededRandom } from '../../main/grep/index.js';
import { Adversary } from '../support/adversary.js';
import { Fleet } from '../support/fleet.js';

/*
 * GREP.md §4 batch join, §6 departed suspects, §7 compact re-seed by hash chains: members derive
 * exactly what the Key Manager holds (invariants 1 and 2), the air they cost, and the adversary of §12.3
 * against groups seeded by chains.
 */

const joined = (count: number, cap: number, seed: number) => {
  const fleet = new Fleet({ cap, seed, history: true });
  for (let id = 1; id <= count; id++) fleet.join(id);
  return fleet;
};

const bytesOf = (runs: readonly Executed[]) => runs.flatMap((run) => run.messages).reduce((sum, message) => sum + message.bytes.length, 0);

const leakedAfter = (fleet: Fleet, corrupted: number[], from: number) => {
  const spy = new Adversary(nobleCrypto, fleet.history, new Set(corrupted), fleet.nodeKeys);
  const leaked: number[] = [];
  for (let epoch = from; epoch <= fleet.km.epoch; epoch++) if (spy.knowsGroupKey(epoch)) leaked.push(epoch);
  return leaked;
};

describe('compact re-seed (§7)', () => {
  test('commissions a whole group with one roster and one constant-size SEED per meter; every member holds exactly the KM\'s secrets', () => {
    const fleet = new Fleet({ cap: 32, seed: 3 });
    const executed = fleet.bootstrap(1_000);
    const messages = [...fleet.km.reseedMessages()];
    expect(messages.map((m) => m.type).filter((type) => type !== 'SEED')).toEqual(['ROSTER']);
    const seeds = messages.filter((m) => m.type === 'SEED');
    expect(seeds).toHaveLength(1_000);
    expect(Math.max(...seeds.map((m) => m.bytes.length))).toBeLessThanOrEqual(133);
    const air = messages.reduce((sum, m) => sum + m.bytes.length, 0);
    expect(air).toBe(executed.plan.bytes);
    // the floor: ~140 B a SEED plus ~4 B a member of roster
    expect(air).toBeLessThan(140_000);
    expect(fleet.mismatches()).toEqual([]);
    expect(fleet.rejected()).toEqual([]);
  });

  test('a re-seed empties the suspicion record: after a recovery a leave costs 320 bytes again', () => {
    const fleet = joined(40, 6, 5);
    fleet.remove([3, 17, 29], true);
    // a member with older and younger neighbours, in a subgroup with older and younger subgroups: M1 and M2 then carry two items each
    const middle = () => [...fleet.km.subgroups()].slice(1, -1).find((s) => s.members.length >= 3)!.members[1]!;
    const burdened = fleet.km.planRemove([middle()]);
    expect(burdened.recordAdds?.entries).toBe(3);
    expect(burdened.bytes).toBeGreaterThan(320);
    fleet.reseed();
    expect(fleet.km.suspicion).toEqual([]);
    expect(fleet.mismatches()).toEqual([]);
    const plain = fleet.km.planRemove([middle()]);
    expect([plain.bytes, plain.broadcasts, plain.recordAdds]).toEqual([320, 2, undefined]);
    fleet.remove([middle()], false);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('the pieces arrive in any order: a SEED without its roster is held, a forged or foreign piece changes nothing', () => {
    const fleet = joined(12, 4, 7);
    const lagging = fleet.members.get(5)!;
    const before = lagging.secrets;
    fleet.km.reseed([], fleet.random);
    const messages = [...fleet.km.reseedMessages()];
    const roster = messages.find((m) => m.type === 'ROSTER')!;
    const own = messages.find((m) => m.type === 'SEED' && m.to === 5)!;
    const other = messages.find((m) => m.type === 'SEED' && m.to === 6)!;
    expect(lagging.receive(other.bytes)).toMatchObject({ status: 'ignored', reason: 'not-addressed' });
    expect(lagging.receive(own.bytes)).toEqual({ status: 'held', epoch: fleet.km.epoch });
    expect(lagging.secrets).toBe(before);
    const forged = roster.bytes.slice();
    forged[forged.length - 70]! ^= 1;
    expect(lagging.receive(forged)).toMatchObject({ status: 'rejected' });
    expect(lagging.secrets).toBe(before);
    expect(lagging.receive(roster.bytes)).toEqual({ status: 'applied', epoch: fleet.km.epoch });
    expect(lagging.secrets!.kg).toEqual(fleet.km.groupKey());
  });

  test('a roster that does not place the member where its SEED does is refused whole', () => {
    const fleet = joined(8, 4, 9);
    fleet.km.reseed([], fleet.random);
    const messages = [...fleet.km.reseedMessages()];
    const roster = decodeMessage(messages.find((m) => m.type === 'ROSTER')!.bytes);
    expect(roster.roster!.subgroups.flat()).toHaveLength(8);
    // a member given another member's SEED bytes cannot open them; its own SEED with a roster from another re-seed fails its signature
    const member = fleet.members.get(2)!;
    expect(member.receive(messages.find((m) => m.type === 'SEED' && m.to === 3)!.bytes).status).toBe('ignored');
  });
});

describe('batch join (§4)', () => {
  test('100 meters join a 1,000-member group in one epoch for under 40 % of the air of 100 single joins', () => {
    const single = new Fleet({ cap: 32, seed: 11 });
    single.bootstrap(1_000);
    const singles = Array.from({ length: 100 }, (_, index) => single.join(2_001 + index));
    const batch = new Fleet({ cap: 32, seed: 11 });
    batch.bootstrap(1_000);
    const epoch = batch.km.epoch;
    const runs = batch.batchJoin(Array.from({ length: 100 }, (_, index) => 2_001 + index));
    expect(runs).toHaveLength(1);
    expect(batch.km.epoch).toBe(epoch + 1);
    expect(runs[0]!.messages.filter((m) => m.to === 'all').map((m) => m.type)).toEqual(['J2', 'BUNDLE']);
    expect(bytesOf(runs)).toBe(runs[0]!.plan.bytes);
    expect(bytesOf(runs) / bytesOf(singles)).toBeLessThan(0.4);
    expect(batch.mismatches()).toEqual([]);
    expect(batch.rejected()).toEqual([]);
  });

  test('a batch smaller than half a subgroup joins one meter at a time; a refused batch changes nothing', () => {
    const fleet = joined(20, 8, 13);
    expect(fleet.km.planBatchJoin([101, 102, 103]).map((plan) => plan.operation)).toEqual(['join', 'join', 'join']);
    const epoch = fleet.km.epoch;
    expect(() => fleet.km.batchJoin([{ id: 101, nodeKey: fleet.random(16) }, { id: 5, nodeKey: fleet.random(16) }], fleet.random)).toThrow(GrepError);
    expect(() => fleet.km.batchJoin(Array.from({ length: 6 }, (_, index) => ({ id: index === 5 ? 3 : 200 + index, nodeKey: fleet.random(16) })), fleet.random)).toThrow(/already a member/);
    expect(fleet.km.epoch).toBe(epoch);
    fleet.batchJoin([101, 102, 103]);
    expect(fleet.km.epoch).toBe(epoch + 3);
    expect(fleet.mismatches()).toEqual([]);
  });
});

describe('departed meters suspected later (§6)', () => {
  /** plain leave of a, periodic rekey, recovery of b (with a suspected as departed, or not) */
  function scenario(seed: number, withRecord: boolean): number[] {
    const random = seededRandom(seed);
    const fleet = joined(16, 4, seed);
    const pick = (from: number[]) => from[random(1)[0]! % from.length]!;
    const a = pick([...fleet.members.keys()]);
    fleet.remove([a], false);
    fleet.periodic();
    const b = pick([...fleet.km.subgroups()].flatMap((s) => [...s.members]));
    const recovery = fleet.remove([b], true, withRecord ? [a] : []).epoch;
    fleet.periodic();
    expect(fleet.mismatches()).toEqual([]);
    return leakedAfter(fleet, [a, b], recovery);
  }

  test('without the record entry the coalition of a departed meter and a later suspect opens the new group key; with it, never', () => {
    const leakyRuns = Array.from({ length: 30 }, (_, index) => scenario(index + 1, false)).filter((leaked) => leaked.length > 0).length;
    expect(leakyRuns).toBeGreaterThan(0);
    for (let seed = 1; seed <= 30; seed++) expect([seed, scenario(seed, true)]).toEqual([seed, []]);
  });

  test('suspecting a departed meter adds its place to the record with no message; present or unknown meters are refused by name', () => {
    const fleet = joined(12, 4, 21);
    fleet.remove([5], false);
    expect(fleet.km.hasDeparted(5)).toBe(true);
    const epoch = fleet.km.epoch;
    expect(() => fleet.km.suspect([6])).toThrow(/is a member/);
    expect(() => fleet.km.suspect([99])).toThrow(/never left/);
    expect(fleet.km.suspect([5])).toEqual([expect.objectContaining({ member: 5 })]);
    expect([fleet.km.epoch, fleet.km.suspicion.map((entry) => entry.member)]).toEqual([epoch, [5]]);
    expect(() => fleet.km.suspect([5])).toThrow(/already in the suspicion record/);
    expect(fleet.km.planRemove([7]).recordAdds?.entries).toBe(1);
  });
});

describe('chain-seeded groups against the adversary (§12.3)', () => {
  type Step = { kind: 'leave' | 'recover' | 'join' | 'batch' | 'reseed' | 'periodic'; pick: number };
  const step = fc.record({ kind: fc.constantFrom<Step['kind']>('leave', 'recover', 'join', 'batch', 'reseed', 'periodic'), pick: fc.nat() });

  test('random sequences with re-seeds and batch joins: members hold exactly the KM\'s secrets, and no coalition of removed suspects opens a later group key', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 4, maxLength: 9 }), fc.nat(1000), (steps, seed) => {
        const fleet = new Fleet({ cap: 4, seed, history: true });
        fleet.bootstrap(10);
        let next = 100;
        const suspects: number[] = [];
        let lastRemoval = 0;
        for (const { kind, pick } of steps) {
          const members = [...fleet.km.subgroups()].flatMap((s) => [...s.members]);
          if (kind === 'leave' && members.length > 2) fleet.remove([members[pick % members.length]!], false);
          if (kind === 'recover' && members.length > 3) {
            const chosen = [...new Set([members[pick % members.length]!, members[(pick * 7 + 1) % members.length]!])];
            lastRemoval = fleet.remove(chosen, true).epoch;
            suspects.push(...chosen);
          }
          if (kind === 'join') fleet.join(next++);
          if (kind === 'batch') fleet.batchJoin(Array.from({ length: 2 + (pick % 5) }, () => next++));
          if (kind === 'reseed') fleet.reseed();
          if (kind === 'periodic') fleet.periodic();
          expect(fleet.mismatches()).toEqual([]);
        }
        if (suspects.length > 0) expect(leakedAfter(fleet, suspects, lastRemoval)).toEqual([]);
        expect(fleet.rejected()).toEqual([]);
      }),
      { numRuns: 25, seed: 42 },
    );
  });
});
