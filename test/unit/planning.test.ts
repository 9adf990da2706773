import { describe, expect, it } from 'vitest';
import { toHex } from '../../main/grep/index.js';
import { baselineRounds, compareCosts, parseCommissioningCsv } from '../../main/ops/planning.js';

const KEY = toHex(new Uint8Array(16).fill(0xab));

describe('operator plans: commissioning CSV and scheme costs', () => {
  it('reads valid rows and reports every bad line by number without echoing a node key', async () => {
    const csv = [
      'id,serial,model,nodeKey',
      `1,S-1,GX-110,${KEY}`,
      '',
      `2,S-2,GX-310,${KEY.slice(2)}`,
      `x3,S-3,GX-310,${KEY}`,
      `4,S-4,GX-310`,
      `1,S-1b,GX-110,${KEY}`,
      `5, S-5 ,GX-90 prepayment,${KEY.toUpperCase()}\r`,
      `0,S-0,GX-110,${KEY}`,
    ].join('\n');
    const { rows, rejected } = await parseCommissioningCsv(csv);
    expect(rows.map((row) => [row.line, row.id, row.serial, row.model])).toEqual([
      [2, 1, 'S-1', 'GX-110'],
      [8, 5, 'S-5', 'GX-90 prepayment'],
    ]);
    expect(rows[1]!.nodeKey).toEqual(new Uint8Array(16).fill(0xab));
    expect(rejected.map((row) => row.line)).toEqual([4, 5, 6, 7, 9]);
    expect(rejected[0]!.reason).toMatch(/^nodeKey: node key must be 32 hex digits/);
    expect(rejected[1]!.reason).toMatch(/^id:/);
    expect(rejected[2]!.reason).toMatch(/expected 4 fields/);
    expect(rejected[3]!.reason).toBe('meter 1 is already on line 2');
    for (const row of rejected) expect(row.reason.toLowerCase()).not.toContain(KEY.slice(2, 20));
  });

  it('reads CRLF line ends as LF ones, numbering the lines alike', async () => {
    const lines = ['id,serial,model,nodeKey', `1,S-1,GX-110,${KEY}`, '', '2,S-2,GX-310', `3,S-3,GX-310,${KEY}`];
    const lf = await parseCommissioningCsv(lines.join('\n'));
    expect(await parseCommissioningCsv(`${lines.join('\r\n')}\r\n`)).toEqual(lf);
    expect([lf.rows.map((row) => row.line), lf.rejected.map((row) => row.line)]).toEqual([[2, 5], [4]]);
  });

  it('says when a file is separated by semicolons or tabs rather than only that its lines have one field', async () => {
    const { rows, rejected } = await parseCommissioningCsv(`id;serial;model;nodeKey\n1;S-1;GX-110;${KEY}\n2\tS-2\tGX-110\t${KEY}\n3,S-3\n`);
    expect(rows).toEqual([]);
    expect(rejected.map((row) => [row.line, row.reason.replace(/found \d+/, 'found n')])).toEqual([
      [1, 'expected 4 fields (id,serial,model,nodeKey), found n; the fields seem separated by semicolons: save the file with commas'],
      [2, 'expected 4 fields (id,serial,model,nodeKey), found n; the fields seem separated by semicolons: save the file with commas'],
      [3, 'expected 4 fields (id,serial,model,nodeKey), found n; the fields seem separated by tabs: save the file with commas'],
      [4, 'expected 4 fields (id,serial,model,nodeKey), found n'],
    ]);
  });

  it('accepts a CSV without a header', async () => {
    expect((await parseCommissioningCsv(`7,S-7,GX-110,${KEY}\n`)).rows.map((row) => row.id)).toEqual([7]);
  });

  it('prices the baselines: basic n − |C| unicasts of 48 B, LKH one broadcast of ~2·ceil(log2 n) wrapped keys per removed leaf', () => {
    const grep = { operation: 'leave', epoch: 3, messages: [], broadcasts: 2, unicasts: 1, bytes: 500 } as const;
    const costs = compareCosts([grep], [baselineRounds.remove(1000, 3)]);
    expect(costs.grep).toEqual({ broadcasts: 2, unicasts: 1, bytes: 500 });
    expect(costs.basic).toEqual({ broadcasts: 0, unicasts: 997, bytes: 997 * 48 });
    expect(costs.lkh).toEqual({ broadcasts: 1, unicasts: 0, bytes: 2 * 10 * 3 * 38 + 80 });
    expect(compareCosts([], [baselineRounds.join(8), baselineRounds.join(9)]).lkh).toEqual({ broadcasts: 2, unicasts: 0, bytes: (6 + 8) * 38 + 2 * 80 });
    expect(compareCosts([], [baselineRounds.periodic(50)]).basic.unicasts).toBe(50);
  });
});
