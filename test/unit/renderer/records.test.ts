import { describe, expect, test } from 'vitest';
import type { AuditView, HistoryView } from '../../../preload/api.js';
import { formatTime } from '../../../renderer/src/logic/format.js';
import { collapsedText, compressRanges, meterCount, splitMeterLists } from '../../../renderer/src/logic/meterLists.js';
import { auditCsv, auditDetailFields, auditSearchCells, historyCsv, historySearchCells } from '../../../renderer/src/logic/records.js';
import { choices, searchIndex, searchRows, searchTerms } from '../../../renderer/src/logic/rowSearch.js';
import { movedRow } from '../../../renderer/src/logic/rowNavigation.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('meter lists in record texts', () => {
  test('ranges: sorted, each id once, runs of consecutive ids joined', () => {
    expect(compressRanges([...range(1, 180), 200, ...range(205, 210)])).toBe('1-180, 200, 205-210');
    expect(compressRanges([9, 3, 4, 3, 5, 1])).toBe('1, 3-5, 9');
    expect(compressRanges([7])).toBe('7');
    expect(compressRanges([])).toBe('');
    expect(compressRanges([4294967294, 4294967295, 0])).toBe('0, 4294967294-4294967295');
  });

  test('a long run of bare ids (a History result) becomes one list; short ones stay text', () => {
    const ids = [...range(1000, 1411)];
    expect(splitMeterLists(`unreachable: ${ids.join(' ')}`)).toEqual([{ text: 'unreachable: ' }, { meters: ids }]);
    expect(splitMeterLists('unreachable: 4 9 12')).toEqual([{ text: 'unreachable: 4 9 12' }]);
    expect(splitMeterLists('converged')).toEqual([{ text: 'converged' }]);
    expect(splitMeterLists('')).toEqual([{ text: '' }]);
  });

  test('JSON arrays of ids (an audit detail) are found, with the text around them kept', () => {
    const detail = JSON.stringify({ plan: 'p-7', meters: range(1, 8), epochTo: 12, unreachable: [3, 9] });
    expect(splitMeterLists(detail)).toEqual([{ text: '{"plan":"p-7","meters":[' }, { meters: range(1, 8) }, { text: '],"epochTo":12,"unreachable":[3,9]}' }]);
    expect(collapsedText(detail)).toBe('{"plan":"p-7","meters":[8 meters],"epochTo":12,"unreachable":[3,9]}');
  });

  test('decimals, hex digests and words with digits never make a list', () => {
    expect(splitMeterLists('1.5 2.5 3.5 4.5 5.5 6.5 7.5')).toHaveLength(1);
    // only five whole numbers between "ab12" and "34cd": short of a list
    expect(splitMeterLists('ab12 34 56 78 90 12 34cd')).toEqual([{ text: 'ab12 34 56 78 90 12 34cd' }]);
    expect(splitMeterLists('v1 2 3 4 5 6 7')).toEqual([{ text: 'v1 ' }, { meters: [2, 3, 4, 5, 6, 7] }]);
  });

  test('the count names distinct meters, singular for one', () => {
    expect(meterCount(range(1, 412))).toBe('412 meters');
    expect(meterCount([5, 5])).toBe('1 meter');
    expect(meterCount(range(1, 2000))).toBe('2,000 meters');
  });

  test('scanning a 2,000-meter result is linear: 100 of them well under a second', () => {
    const text = `unreachable: ${range(1, 2000).join(' ')}`;
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(splitMeterLists(text)).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

const history = (id: number, over: Partial<HistoryView> = {}): HistoryView => ({
  id,
  planId: `plan-${id}`,
  operation: 'leave',
  epochFrom: id,
  epochTo: id + 1,
  messages: { rekey: 2 },
  bytes: 1234,
  actor: 'operator',
  startedAt: '2026-11-25T03:00:00.000Z',
  finishedAt: '2026-11-25T03:00:01.500Z',
  durationMs: 1500,
  result: 'converged',
  ...over,
});
const audit = (id: number, over: Partial<AuditView> = {}): AuditView => ({ id, at: '2026-11-25T03:00:00.000Z', actor: 'operator', action: 'execute', detail: '{"plan":"p"}', hash: 'ab'.repeat(32), ...over });

describe('searching records', () => {
  test('terms are lowered and split on white space', () => {
    expect(searchTerms('  Leave\t42  ')).toEqual(['leave', '42']);
    expect(searchTerms('   ')).toEqual([]);
  });

  test('every term must match, each in any column; the screen filter applies too', () => {
    const rows = [history(1, { operation: 'commission', result: `unreachable: ${range(100, 140).join(' ')}` }), history(2, { operation: 'leave' }), history(3, { operation: 'recover', actor: 'alice' })];
    const index = searchIndex(rows, historySearchCells);
    expect(searchRows(index, '').map((h) => h.id)).toEqual([1, 2, 3]);
    expect(searchRows(index, 'LEAVE').map((h) => h.id)).toEqual([2]);
    // an id inside a collapsed list is found, and so is the count the cell shows
    expect(searchRows(index, 'unreachable 137').map((h) => h.id)).toEqual([1]);
    expect(searchRows(index, '41 meters').map((h) => h.id)).toEqual([1]);
    expect(searchRows(index, 'alice recover').map((h) => h.id)).toEqual([3]);
    expect(searchRows(index, 'alice leave')).toEqual([]);
    // shown values and stored ones: "1.2 kB", the plan, the local time
    expect(searchRows(index, '1.2 kB').map((h) => h.id)).toEqual([1, 2, 3]);
    expect(searchRows(index, 'plan-2').map((h) => h.id)).toEqual([2]);
    expect(searchRows(index, formatTime('2026-11-25T03:00:01.500Z')).length).toBe(3);
    expect(searchRows(index, '', (h) => h.operation !== 'leave').map((h) => h.id)).toEqual([1, 3]);
  });

  test('a term never matches across two columns', () => {
    const index = searchIndex([audit(1, { actor: 'op', action: 'erator' })], auditSearchCells);
    expect(searchRows(index, 'operator')).toEqual([]);
    expect(searchRows(index, 'op erator')).toHaveLength(1);
  });

  test('3,000 audit rows with 2,000-meter details: indexed once, then each keystroke is a linear scan', () => {
    const detail = JSON.stringify({ plan: 'p', meters: range(1, 2000) });
    const rows = Array.from({ length: 3000 }, (_, i) => audit(i + 1, i % 10 === 0 ? { action: 'execute', detail } : { action: 'result', detail: `{"plan":"p-${i}"}` }));
    let started = performance.now();
    const index = searchIndex(rows, auditSearchCells);
    const indexMs = performance.now() - started;
    started = performance.now();
    for (const query of ['e', 'ex', 'exe', 'exec', 'execu', 'execut', 'execute', 'execute 1999']) searchRows(index, query);
    const perKeystroke = (performance.now() - started) / 8;
    expect(searchRows(index, 'execute 1999')).toHaveLength(300);
    expect(indexMs).toBeLessThan(1500);
    expect(perKeystroke).toBeLessThan(100);
  });

  test('the choices of a drop-down: distinct, sorted', () => {
    expect(choices([audit(1, { actor: 'bob' }), audit(2, { actor: 'alice' }), audit(3, { actor: 'bob' })], (a) => a.actor)).toEqual(['alice', 'bob']);
  });
});

describe('keyboard selection', () => {
  test('arrows move one row, clamped at the ends; pages move by the rows in view', () => {
    expect(movedRow('ArrowDown', 3, 10, 5)).toBe(4);
    expect(movedRow('ArrowDown', 9, 10, 5)).toBe(9);
    expect(movedRow('ArrowUp', 0, 10, 5)).toBe(0);
    expect(movedRow('ArrowUp', 3, 10, 5)).toBe(2);
    expect(movedRow('PageDown', 3, 10, 5)).toBe(8);
    expect(movedRow('PageDown', 8, 10, 5)).toBe(9);
    expect(movedRow('PageUp', 3, 10, 5)).toBe(0);
    expect(movedRow('PageDown', 3, 10, 0)).toBe(4);
    expect(movedRow('Home', 5, 10, 5)).toBe(0);
    expect(movedRow('End', 5, 10, 5)).toBe(9);
  });

  test('with nothing selected (or the selection filtered away) a move lands on the first row, End on the last', () => {
    for (const current of [undefined, -1, 12]) {
      expect(movedRow('ArrowDown', current, 10, 5)).toBe(0);
      expect(movedRow('ArrowUp', current, 10, 5)).toBe(0);
      expect(movedRow('End', current, 10, 5)).toBe(9);
    }
  });

  test('other keys and empty tables are no move', () => {
    expect(movedRow('Enter', 3, 10, 5)).toBeUndefined();
    expect(movedRow('a', 3, 10, 5)).toBeUndefined();
    expect(movedRow('ArrowDown', undefined, 0, 5)).toBeUndefined();
  });
});

describe('exporting records', () => {
  test('History: stored values in full, meter lists uncollapsed, formula text defused', () => {
    const ids = range(1, 412);
    const csv = historyCsv([history(7, { result: `unreachable: ${ids.join(' ')}`, actor: '=HYPERLINK("http://x")', messages: { rekey: 2, welcome: 3 } })]);
    const [header, line, end] = csv.split('\r\n');
    expect(header).toBe('#,Operation,Epoch from,Epoch to,Messages,Bytes,Duration (ms),Result,Actor,Started,Finished,Plan');
    expect(line).toBe(`7,leave,7,8,"rekey ×2, welcome ×3",1234,1500,unreachable: ${ids.join(' ')},"'=HYPERLINK(""http://x"")",2026-11-25T03:00:00.000Z,2026-11-25T03:00:01.500Z,plan-7`);
    expect(end).toBe('');
  });

  test('History: a running operation has empty Finished and Duration', () => {
    expect(historyCsv([history(1, { finishedAt: null, durationMs: null, result: 'committed' })]).split('\r\n')[1]).toBe('1,leave,1,2,rekey ×2,1234,,committed,operator,2026-11-25T03:00:00.000Z,,plan-1');
  });

  test('Audit: the JSON detail quoted with its quotes doubled, control characters escaped', () => {
    const csv = auditCsv([audit(3, { action: '@SUM(A1)', detail: '{"serial":"SN\\u001b","note":"a\u0007b"}' })]);
    expect(csv.split('\r\n')[1]).toBe(`3,2026-11-25T03:00:00.000Z,operator,'@SUM(A1),"{""serial"":""SN\\u001b"",""note"":""a\\u0007b""}",${'ab'.repeat(32)}`);
  });
});

describe('audit detail fields', () => {
  test('a JSON object becomes label/value lines, non-strings as JSON', () => {
    expect(auditDetailFields('{"plan":"p-1","meters":[1,2,3],"converged":true,"at":null}')).toEqual([
      { label: 'plan', value: 'p-1' },
      { label: 'meters', value: '[1,2,3]' },
      { label: 'converged', value: 'true' },
      { label: 'at', value: 'null' },
    ]);
  });

  test('anything else is shown as written', () => {
    expect(auditDetailFields('not json')).toBeUndefined();
    expect(auditDetailFields('[1,2]')).toBeUndefined();
    expect(auditDetailFields('42')).toBeUndefined();
    expect(auditDetailFields('null')).toBeUndefined();
  });
});

describe('times', () => {
  test('one shared formatter prints what toLocaleString did', () => {
    for (const iso of ['2026-11-25T03:00:00Z', '2026-01-05T23:59:59.999Z', '2026-06-30T00:00:01Z']) expect(formatTime(iso)).toBe(new Date(iso).toLocaleString(undefined, { hour12: false }));
    expect(formatTime(null)).toBe('—');
    expect(formatTime('not a time')).toBe('not a time');
  });
});
