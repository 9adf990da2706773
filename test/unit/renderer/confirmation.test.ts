import { describe, expect, test } from 'vitest';
import type { LeaveCostView } from '../../../preload/api.js';
import { commandGate, confirmationMatches, executeGate, suspectConfirmation, suspectGate } from '../../../renderer/src/logic/confirmation.js';

describe('typed confirmation', () => {
  test('must equal the expected text exactly', () => {
    expect(confirmationMatches('1042', '1042')).toBe(true);
    expect(confirmationMatches('1042', '104')).toBe(false);
    expect(confirmationMatches('1042', ' 1042')).toBe(false);
    expect(confirmationMatches('1042', '1042 ')).toBe(false);
    expect(confirmationMatches('Substation-7', 'substation-7')).toBe(false);
    expect(confirmationMatches('1 2 3', '1  2 3')).toBe(false);
  });

  test('no confirmation asked: a click is enough', () => {
    expect(confirmationMatches(undefined, '')).toBe(true);
  });

  const plan = { operation: 'recover' as const, confirmation: 'north', rejected: [], affected: [1, 2, 3] };

  test('Execute stays disabled until the text matches', () => {
    expect(executeGate(plan, '', false).enabled).toBe(false);
    expect(executeGate(plan, 'nort', false).reason).toContain('type north');
    expect(executeGate(plan, 'north', false)).toEqual({ enabled: true, reason: undefined });
  });

  test('rejected lines need the explicit opt-in, before and regardless of the text', () => {
    const withRejected = { operation: 'commission' as const, confirmation: undefined, rejected: [{ line: 4, reason: 'bad key' }], affected: [1] };
    expect(executeGate(withRejected, '', false).enabled).toBe(false);
    expect(executeGate(withRejected, '', true).enabled).toBe(true);
  });

  test('a plan affecting no meter cannot run', () => {
    expect(executeGate({ operation: 'leave', confirmation: undefined, rejected: [], affected: [] }, '', true).enabled).toBe(false);
  });

  test('a re-seed names no meter (it rekeys every member) and runs once the group name is typed exactly', () => {
    const reseed = { operation: 'reseed' as const, confirmation: 'substation-1', rejected: [], affected: [] };
    for (const typed of ['', 'substation', 'Substation-1', 'substation-1 ']) expect(executeGate(reseed, typed, false), JSON.stringify(typed)).toEqual({ enabled: false, reason: 'type substation-1 exactly to confirm' });
    expect(executeGate(reseed, 'substation-1', false)).toEqual({ enabled: true, reason: undefined });
  });
});

describe('the Commands page', () => {
  const everyMember = { operation: 'command' as const, confirmation: 'substation-1', rejected: [], affected: [3, 5, 8, 13] };
  const selection = { operation: 'command' as const, confirmation: undefined, rejected: [], affected: [5, 8] };

  test('a command to every member stays disabled until the group name is typed exactly; a tick is no substitute', () => {
    for (const typed of ['', 'substation', 'Substation-1', 'substation-1 ', ' substation-1']) {
      expect(commandGate(everyMember, typed, true), JSON.stringify(typed)).toEqual({ enabled: false, reason: 'type substation-1 exactly to confirm' });
    }
    expect(commandGate(everyMember, 'substation-1', false)).toEqual({ enabled: true, reason: undefined });
  });

  test('a command to listed meters waits for the tick', () => {
    expect(commandGate(selection, '', false)).toEqual({ enabled: false, reason: 'tick the box to confirm' });
    expect(commandGate(selection, '', true)).toEqual({ enabled: true, reason: undefined });
  });

  test('a plan that names no meter cannot run, ticked or typed', () => {
    expect(commandGate({ ...everyMember, affected: [] }, 'substation-1', true).enabled).toBe(false);
    expect(commandGate({ ...selection, affected: [] }, '', true).enabled).toBe(false);
  });
});

describe('suspecting departed meters', () => {
  const cost: LeaveCostView = {
    meter: 57,
    record: 3,
    plain: { broadcasts: 2, unicasts: 0, bytes: 320 },
    now: { broadcasts: 3, unicasts: 8, bytes: 1234 },
    withSuspects: { broadcasts: 4, unicasts: 12, bytes: 1800 },
  };

  test('the ids are typed as listed, joined by single spaces, as for a leave', () => {
    expect(suspectConfirmation([41, 7])).toBe('41 7');
  });

  test('the button waits for the cost of a leave shown for exactly these meters, then for the ids typed exactly', () => {
    expect(suspectGate([], [], undefined, '')).toEqual({ enabled: false, reason: 'name at least one departed meter' });
    expect(suspectGate([41], ['9 did not leave the group by a plain leave'], { meters: [41], cost }, '41').enabled).toBe(false);
    expect(suspectGate([41, 7], [], undefined, '41 7')).toEqual({ enabled: false, reason: 'show what a leave will cost first' });
    // a preview made for another list does not count: the ids changed after it
    expect(suspectGate([41, 7], [], { meters: [41], cost }, '41 7')).toEqual({ enabled: false, reason: 'show what a leave will cost first' });
    for (const typed of ['', '41', '7 41', '41  7', '41 7 ', '41,7']) {
      expect(suspectGate([41, 7], [], { meters: [41, 7], cost }, typed), JSON.stringify(typed)).toEqual({ enabled: false, reason: 'type 41 7 exactly to confirm' });
    }
    expect(suspectGate([41, 7], [], { meters: [41, 7], cost }, '41 7')).toEqual({ enabled: true, reason: undefined });
  });

  test('a group too small to size a leave still lets the operator go on once asked', () => {
    expect(suspectGate([41], [], { meters: [41], cost: undefined }, '41')).toEqual({ enabled: true, reason: undefined });
  });
});
