import { describe, expect, test } from 'vitest';
import { confirmationMatches, executeGate } from '../../../renderer/src/logic/confirmation.js';

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

  const plan = { confirmation: 'north', rejected: [], affected: [1, 2, 3] };

  test('Execute stays disabled until the text matches', () => {
    expect(executeGate(plan, '', false).enabled).toBe(false);
    expect(executeGate(plan, 'nort', false).reason).toContain('type north');
    expect(executeGate(plan, 'north', false)).toEqual({ enabled: true, reason: undefined });
  });

  test('rejected lines need the explicit opt-in, before and regardless of the text', () => {
    const withRejected = { confirmation: undefined, rejected: [{ line: 4, reason: 'bad key' }], affected: [1] };
    expect(executeGate(withRejected, '', false).enabled).toBe(false);
    expect(executeGate(withRejected, '', true).enabled).toBe(true);
  });

  test('a plan affecting no meter cannot run', () => {
    expect(executeGate({ confirmation: undefined, rejected: [], affected: [] }, '', true).enabled).toBe(false);
  });
});
