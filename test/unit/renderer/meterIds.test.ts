import { describe, expect, test } from 'vitest';
import { MAX_METERS_TYPED, parseMeterIds } from '../../../renderer/src/logic/meterIds.js';

const serials = new Map([
  ['SN-4711', 42],
  ['SN-0001', 1],
  ['2024-0007', 7],
]);

describe('meter id lists', () => {
  test('commas, semicolons, spaces and newlines all separate', () => {
    expect(parseMeterIds(' 12, 7;9\n100\t3 ')).toMatchObject({ ids: [12, 7, 9, 100, 3], problems: [] });
  });

  test('empty input is an empty list without problems or summary', () => {
    expect(parseMeterIds('  , ,')).toEqual({ ids: [], problems: [], summary: '' });
  });

  test('non-numbers, negatives, zero, decimals and ids above 2^32-1 are reported, valid ones kept', () => {
    const parsed = parseMeterIds('1 abc -4 0 2.5 4294967296 4294967295 9007199254740993');
    expect(parsed.ids).toEqual([1, 4294967295]);
    expect(parsed.problems).toEqual([
      '"abc" is not a meter id or a range (serials are resolved once the group is loaded)',
      '"-4" is negative: meter ids are 1…4294967295',
      '"0" is out of range: meter ids are 1…4294967295',
      '"2.5" is not a meter id or a range (serials are resolved once the group is loaded)',
      '"4294967296" is out of range: meter ids are 1…4294967295',
      '"9007199254740993" is out of range: meter ids are 1…4294967295',
    ]);
  });

  test('duplicates are reported once each and kept once', () => {
    const parsed = parseMeterIds('5 5 6 5');
    expect(parsed.ids).toEqual([5, 6]);
    expect(parsed.problems).toEqual(['5 is listed twice', '5 is listed twice']);
  });

  test('ids outside the known members are refused', () => {
    const parsed = parseMeterIds('1 2 3', { known: new Set([1, 3]) });
    expect(parsed.ids).toEqual([1, 3]);
    expect(parsed.problems).toEqual(['2 is not a member of the group']);
  });

  test('a list that may name other meters (departed ones) says why an id is refused', () => {
    expect(parseMeterIds('4 9', { known: new Set([4]), unknown: 'did not leave the group by a plain leave' }).problems).toEqual(['9 did not leave the group by a plain leave']);
  });
});

describe('ranges', () => {
  test('a range names every id from its first to its last, spaces around the dash or not', () => {
    expect(parseMeterIds('100-104, 7 - 8').ids).toEqual([100, 101, 102, 103, 104, 7, 8]);
    expect(parseMeterIds('9-9')).toMatchObject({ ids: [9], summary: '1 meter: 9' });
  });

  test('a reversed range is refused with the way to write it', () => {
    expect(parseMeterIds('180-100')).toMatchObject({ ids: [], problems: ['180-100 runs backwards: write 100-180'] });
  });

  test('a range over the bound is refused without building it', () => {
    const started = performance.now();
    const parsed = parseMeterIds('1-4294967295');
    expect(parsed.ids).toEqual([]);
    expect(parsed.problems).toEqual(['1-4294967295 names 4,294,967,295 meters: at most 100,000 meters in one range']);
    expect(performance.now() - started).toBeLessThan(500);
  });

  test('a range at the bound is taken, and the list as a whole is bounded too', () => {
    expect(parseMeterIds(`1-${MAX_METERS_TYPED}`).ids).toHaveLength(MAX_METERS_TYPED);
    const parsed = parseMeterIds(`1-${MAX_METERS_TYPED} 200001-200002 300000`);
    expect(parsed.ids).toHaveLength(MAX_METERS_TYPED);
    expect(parsed.problems).toEqual(['the list may name at most 100,000 meters: 2 entries from 200001-200002 on would pass it; plan them separately']);
  });

  test('many huge ranges stay bounded in time', () => {
    const started = performance.now();
    const parsed = parseMeterIds(Array.from({ length: 2000 }, (_, i) => `${i * 100_000 + 1}-${(i + 1) * 100_000}`).join(' '));
    expect(parsed.ids).toHaveLength(MAX_METERS_TYPED);
    expect(parsed.problems).toEqual(['the list may name at most 100,000 meters: 1999 entries from 100001-200000 on would pass it; plan them separately']);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test('range endpoints out of range or negative are refused', () => {
    expect(parseMeterIds('4294967290-4294967300').problems).toEqual(['"4294967290-4294967300" is out of range: meter ids are 1…4294967295']);
    expect(parseMeterIds('0-5').problems).toEqual(['"0-5" is out of range: meter ids are 1…4294967295']);
    expect(parseMeterIds('-5-10').ids).toEqual([]);
  });

  test('ids of a range already listed, or not members, are named and counted, not dumped', () => {
    const parsed = parseMeterIds('3 1-10 20-30', { known: new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) });
    expect(parsed.ids).toEqual([3, 1, 2, 4, 5, 6, 7, 8, 9, 10]);
    expect(parsed.problems).toEqual(['1-10: 3 listed already', '20-30: 20, 21, 22, 23, 24 and 6 more — each is not a member of the group']);
  });
});

describe('serials', () => {
  test('a serial resolves to its meter, and the summary says which', () => {
    const parsed = parseMeterIds('100-108, SN-4711 7', { serials });
    expect(parsed).toEqual({ ids: [100, 101, 102, 103, 104, 105, 106, 107, 108, 42, 7], problems: [], summary: '11 meters: 100-108, SN-4711 (meter 42), 7' });
  });

  test('a serial shaped like a range is the serial; digits alone are always an id', () => {
    expect(parseMeterIds('2024-0007', { serials }).ids).toEqual([7]);
    expect(parseMeterIds('2024-0008', { serials }).problems).toEqual(['2024-0008 runs backwards: write 8-2024']);
  });

  test('an unknown serial is named; serials are matched exactly', () => {
    expect(parseMeterIds('SN-9999 sn-4711', { serials }).problems).toEqual([
      '"SN-9999" is not a meter id, a range such as 100-180, or the serial of a meter of the group',
      '"sn-4711" is not a meter id, a range such as 100-180, or the serial of a meter of the group',
    ]);
  });

  test('a serial naming an id already listed is a duplicate, and a non-member serial is refused', () => {
    const parsed = parseMeterIds('42 SN-4711 SN-0001', { serials, known: new Set([42]) });
    expect(parsed.ids).toEqual([42]);
    expect(parsed.problems).toEqual(['SN-4711 (meter 42) is listed twice', 'SN-0001 (meter 1) is not a member of the group']);
  });

  test('the summary names the first entries and counts the rest', () => {
    const parsed = parseMeterIds('1 2 3 4 5 6 7 8 9 10 11');
    expect(parsed.summary).toBe('11 meters: 1, 2, 3, 4, 5, 6, 7, 8, … and 3 more entries');
  });
});

describe('hostile input', () => {
  test('control characters are shown escaped, never raw, and nothing is taken', () => {
    const parsed = parseMeterIds('\u001b[31m 4\u0000 \u0007', { serials });
    expect(parsed.ids).toEqual([]);
    expect(parsed.problems).toEqual([
      '"\\x1b[31m" is not a meter id, a range such as 100-180, or the serial of a meter of the group',
      '"4\\x00" is not a meter id, a range such as 100-180, or the serial of a meter of the group',
      '"\\x07" is not a meter id, a range such as 100-180, or the serial of a meter of the group',
    ]);
    for (const problem of parsed.problems) expect(problem).not.toMatch(/[\u0000-\u001f]/);
  });

  test('a long token is cut in its problem', () => {
    const [problem] = parseMeterIds('x'.repeat(10_000)).problems;
    expect(problem!.length).toBeLessThan(120);
  });

  test('a megabyte of ids is parsed in bounded time', () => {
    const text = Array.from({ length: 150_000 }, (_, i) => String(i + 1)).join(',');
    const started = performance.now();
    const parsed = parseMeterIds(text);
    expect(parsed.ids).toHaveLength(MAX_METERS_TYPED);
    expect(parsed.problems).toEqual(['the list may name at most 100,000 meters: 50000 entries from 100001 on would pass it; plan them separately']);
    expect(performance.now() - started).toBeLessThan(8000);
  });
});
