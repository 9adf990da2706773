import { describe, expect, test } from 'vitest';
import { parseMeterIds } from '../../../renderer/src/logic/meterIds.js';

describe('meter id lists', () => {
  test('commas, semicolons, spaces and newlines all separate', () => {
    expect(parseMeterIds(' 12, 7;9\n100\t3 ')).toEqual({ ids: [12, 7, 9, 100, 3], problems: [] });
  });

  test('empty input is an empty list without problems', () => {
    expect(parseMeterIds('  , ,')).toEqual({ ids: [], problems: [] });
  });

  test('non-numbers, negatives, decimals and out-of-range ids are reported, valid ones kept', () => {
    const parsed = parseMeterIds('1 abc -4 2.5 4294967296 4294967295');
    expect(parsed.ids).toEqual([1, 4294967295]);
    expect(parsed.problems).toHaveLength(4);
    expect(parsed.problems[0]).toContain('abc');
    expect(parsed.problems[3]).toContain('out of range');
  });

  test('duplicates are reported once each and kept once', () => {
    const parsed = parseMeterIds('5 5 6 5');
    expect(parsed.ids).toEqual([5, 6]);
    expect(parsed.problems).toEqual(['5 is listed twice', '5 is listed twice']);
  });

  test('ids outside the known members are refused', () => {
    const parsed = parseMeterIds('1 2 3', new Set([1, 3]));
    expect(parsed.ids).toEqual([1, 3]);
    expect(parsed.problems).toEqual(['2 is not a member of the group']);
  });

  test('a list that may name other meters (departed ones) says why an id is refused', () => {
    expect(parseMeterIds('4 9', new Set([4]), 'did not leave the group by a plain leave').problems).toEqual(['9 did not leave the group by a plain leave']);
  });
});
