import { describe, expect, test } from 'vitest';
import type { LeaveCostView, PlanView } from '../../../preload/api.js';
import { airtimeText, exactBytes, formatBitRate, methodComparison, methodRows, recordAddsSentence, recordChartNote, recordSentence, suspectSentence } from '../../../renderer/src/logic/costText.js';

const plain = { broadcasts: 2, unicasts: 0, bytes: 320 };
const leave = (record: number, now = plain, withSuspects = now): LeaveCostView => ({ meter: 57, record, plain, now, withSuspects });

describe('what the suspicion record costs, in words', () => {
  test('bytes are exact, with thousands separators', () => {
    expect(exactBytes(320)).toBe('320 B');
    expect(exactBytes(61_230)).toBe('61,230 B');
    expect(exactBytes(1_400_000)).toBe('1,400,000 B');
  });

  test('a leave with the record against the same leave after a re-seed, and how many meters the record holds', () => {
    expect(recordSentence(leave(3, { broadcasts: 3, unicasts: 8, bytes: 1234 }))).toBe('a leave now costs 1,234 B (11 messages) instead of 320 B (2): the suspicion record holds 3 meters');
    expect(recordSentence(leave(1, { broadcasts: 3, unicasts: 0, bytes: 400 }))).toBe('a leave now costs 400 B (3 messages) instead of 320 B (2): the suspicion record holds 1 meter');
    expect(recordSentence(leave(0))).toBe('the suspicion record is empty: a leave costs 320 B (2 messages)');
  });

  test("the cost chart names the suspicion record as the cause of GREP's dearer removals, only while it holds meters", () => {
    expect(recordChartNote(leave(12, { broadcasts: 14, unicasts: 36, bytes: 3712 }))).toBe(
      "GREP's leave and recovery include the suspicion record, which holds 12 meters: a leave of meter 57 costs 3,712 B (50 messages) with it and 320 B (2 messages) once a re-seed has emptied it.",
    );
    expect(recordChartNote(leave(0))).toBeUndefined();
  });

  test('before departed meters are suspected: every later leave with them against now', () => {
    expect(suspectSentence(leave(0, plain, { broadcasts: 4, unicasts: 5, bytes: 1070 }))).toBe('each later leave will cost 1,070 B (9 messages) instead of 320 B (2) now');
    // a departed meter whose subgroup is gone may add nothing: said so, not "instead of" the same number
    expect(suspectSentence(leave(2, { broadcasts: 3, unicasts: 1, bytes: 500 }))).toBe('each later leave costs 500 B (4 messages), as now');
  });

  test('a removal plan says what the record adds to it, from the plan alone', () => {
    const plan = { operation: 'leave' as const, broadcasts: 3, unicasts: 8, bytes: 1234, recordAdds: { broadcasts: 1, unicasts: 8, bytes: 914, entries: 3 } };
    expect(recordAddsSentence(plan)).toBe('this leave costs 1,234 B (11 messages) instead of 320 B (2): the suspicion record counts 3 meters');
    expect(recordAddsSentence({ ...plan, operation: 'recover' })).toMatch(/^this recovery costs/);
    expect(recordAddsSentence({ ...plan, recordAdds: undefined })).toBeUndefined();
  });
});

describe('airtime', () => {
  test('bytes at the medium bit rate', () => {
    expect(airtimeText(28_750, 100_000)).toBe('about 2.30 s of airtime at 100 kbit/s');
    expect(airtimeText(140_000, 9600)).toBe('about 1 min 57 s of airtime at 9.6 kbit/s');
    expect(airtimeText(100_000, 1_000_000)).toBe('about 0.80 s of airtime at 1 Mbit/s');
    expect(airtimeText(5_000, 2_400)).toBe('about 16.7 s of airtime at 2.4 kbit/s');
  });

  test('never guessed: a DC that reports no rate gets "unknown"', () => {
    expect(airtimeText(28_750, undefined)).toMatch(/^airtime unknown/);
    expect(airtimeText(28_750, 0)).toMatch(/^airtime unknown/);
  });

  test('bit rates in their unit', () => {
    expect(formatBitRate(300)).toBe('300 bit/s');
    expect(formatBitRate(115_200)).toBe('115 kbit/s');
    expect(formatBitRate(2_500_000)).toBe('2.5 Mbit/s');
  });
});

describe('the commissioning method against the others', () => {
  const commissioning: NonNullable<PlanView['commissioning']> = {
    method: 'reseed',
    options: [
      { method: 'reseed', broadcasts: 1, unicasts: 50, bytes: 7412 },
      { method: 'batch', broadcasts: 2, unicasts: 50, bytes: 9800 },
      { method: 'joins', broadcasts: 100, unicasts: 50, bytes: 61_230 },
    ],
  };

  test('chosen method first, each other one with how many times more it costs', () => {
    expect(methodComparison(commissioning)).toBe('compact re-seed: 7,412 B — batch join: 9,800 B (1.3x more) — one join each: 61,230 B (8.3x more)');
    expect(methodRows(commissioning).map((row) => [row.method, row.chosen])).toEqual([
      ['reseed', true],
      ['batch', false],
      ['joins', false],
    ]);
  });

  test('a single method sized is shown alone', () => {
    expect(methodComparison({ method: 'joins', options: [{ method: 'joins', broadcasts: 2, unicasts: 1, bytes: 900 }] })).toBe('one join each: 900 B');
  });
});
