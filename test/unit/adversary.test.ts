import { describe, expect, test } from 'vitest';
import { nobleCrypto } from '../../main/grep/index.js';
import { Adversary } from '../support/adversary.js';
import { Fleet } from '../support/fleet.js';

function fleetOf(count: number, cap = 4, seed = 1): Fleet {
  const fleet = new Fleet({ cap, seed, history: true });
  for (let id = 1; id <= count; id++) fleet.join(id);
  return fleet;
}

function adversary(fleet: Fleet, corrupted: number[]): Adversary {
  return new Adversary(nobleCrypto, fleet.history, new Set(corrupted), fleet.nodeKeys);
}

/** Group keys of epochs >= from that the adversary holds. */
function leakedFrom(fleet: Fleet, spy: Adversary, from: number): number[] {
  const leaked: number[] = [];
  for (let epoch = from; epoch <= fleet.km.epoch; epoch++) if (spy.knowsGroupKey(epoch)) leaked.push(epoch);
  return leaked;
}

function currentSecrets(fleet: Fleet): Set<string> {
  fleet.km.settle();
  const values = new Set<string>();
  for (const { members } of fleet.km.subgroups()) {
    for (const id of members) {
      const state = fleet.km.memberState(id);
      for (const value of [state.kg, state.ks, ...[state.nodeBackward, state.nodeForward, state.subgroupBackward, state.subgroupForward].flat().map((e) => e.value)]) {
        values.add(Buffer.from(value).toString('hex'));
      }
    }
  }
  return values;
}

describe('the adversary model has teeth', () => {
  test('colluders removed one by one with plain leaves, one staying inside meanwhile, learn a later group key', () => {
    const fleet = fleetOf(8);
    fleet.remove([2], false);
    fleet.periodic();
    const lastLeave = fleet.remove([3], false).epoch;
    fleet.periodic();
    const spy = adversary(fleet, [2, 3]);
    expect(leakedFrom(fleet, spy, lastLeave)).toEqual([lastLeave, lastLeave + 1]);
    expect([...spy.values()].some((value) => currentSecrets(fleet).has(value))).toBe(true);
  });

  test('it learns exactly what one honest member legitimately holds while that member is in the group', () => {
    const fleet = fleetOf(8);
    const spy = adversary(fleet, [5]);
    for (let epoch = 5; epoch <= fleet.km.epoch; epoch++) expect(spy.knowsGroupKey(epoch)).toBe(true);
    expect(spy.knowsGroupKey(4)).toBe(false);
  });
});

describe('collusion recovery (GREP.md §6, invariant 3)', () => {
  test('the same colluders removed as suspects, one at a time, learn nothing after the second removal', () => {
    const fleet = fleetOf(8);
    fleet.remove([2], true);
    fleet.periodic();
    const lastRemoval = fleet.remove([3], true).epoch;
    fleet.periodic();
    fleet.join(9);
    const spy = adversary(fleet, [2, 3]);
    expect(leakedFrom(fleet, spy, lastRemoval)).toEqual([]);
    expect([...spy.values()].filter((value) => currentSecrets(fleet).has(value))).toEqual([]);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('a suspect in the record makes a later plain leave of its accomplice safe', () => {
    const fleet = fleetOf(8);
    fleet.remove([2], true);
    const leave = fleet.remove([3], false).epoch;
    const spy = adversary(fleet, [2, 3]);
    expect(leakedFrom(fleet, spy, leave)).toEqual([]);
  });

  test('a coalition spread over time: one meter removed, another compromised and removed many operations later', () => {
    const fleet = fleetOf(16, 4, 3);
    fleet.remove([6], true);
    for (let id = 17; id <= 22; id++) fleet.join(id);
    fleet.remove([1], false);
    fleet.periodic();
    fleet.remove([12, 19], false);
    const late = fleet.remove([7], true).epoch;
    fleet.join(23);
    fleet.remove([20], false);
    const spy = adversary(fleet, [6, 7]);
    expect(leakedFrom(fleet, spy, late)).toEqual([]);
    expect([...spy.values()].filter((value) => currentSecrets(fleet).has(value))).toEqual([]);
    expect(fleet.mismatches()).toEqual([]);
  });

  test('a coalition across subgroups removed at once learns nothing afterwards', () => {
    const fleet = fleetOf(20, 4, 5);
    const removal = fleet.remove([3, 10, 18], true).epoch;
    fleet.periodic();
    fleet.join(21);
    const spy = adversary(fleet, [3, 10, 18]);
    expect(leakedFrom(fleet, spy, removal)).toEqual([]);
    expect(fleet.mismatches()).toEqual([]);
  });
});

describe('backward secrecy (invariant 4)', () => {
  test.each([
    ['into an existing subgroup', 6],
    ['opening a new subgroup', 8],
  ])('a joiner %s cannot open any message from before its join', (_, before) => {
    const fleet = fleetOf(before);
    fleet.remove([2], false);
    fleet.periodic();
    const joinEpoch = fleet.join(100).epoch;
    fleet.remove([3], false);
    const spy = adversary(fleet, [100]);
    for (let epoch = 1; epoch < joinEpoch; epoch++) expect(spy.knowsGroupKey(epoch)).toBe(false);
    expect(spy.knowsGroupKey(joinEpoch)).toBe(true);
    expect(spy.knowsGroupKey(fleet.km.epoch)).toBe(true);
  });
});
