import { describe, expect, test } from 'vitest';
import { buildCsv, csvField } from '../../../renderer/src/logic/csv.js';
import { countCsvLines, firstCsvLines } from '../../../renderer/src/logic/csvLimit.js';

describe('CSV export', () => {
  test('plain fields stay bare, null and undefined are empty', () => {
    expect(buildCsv(['a', 'b', 'c'], [[1, 'x', null], [2, undefined, true]])).toBe('a,b,c\r\n1,x,\r\n2,,true\r\n');
  });

  test('commas, quotes and line breaks are quoted, quotes doubled', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(buildCsv(['serial', 'model'], [['S-1,2', 'GX "110"']])).toBe('serial,model\r\n"S-1,2","GX ""110"""\r\n');
  });

  test('a header needing quotes is quoted too', () => {
    expect(buildCsv(['id, meter'], [])).toBe('"id, meter"\r\n');
  });

  test('text that a spreadsheet would run as a formula is defused, numbers are not', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1+1')).toBe("'+1+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-5)).toBe('-5');
    expect(csvField('-5')).toBe('-5');
    expect(csvField('-x')).toBe("'-x");
  });

  test('control characters are written as \\uXXXX, before the formula check; tab and line breaks stay (quoted)', () => {
    expect(csvField('S\u001b[31mN')).toBe('S\\u001b[31mN');
    expect(csvField('a\u0000b\u0007c\u007fd\u0085e')).toBe('a\\u0000b\\u0007c\\u007fd\\u0085e');
    // a right-to-left override would show "SN-1234" for a serial stored reversed
    expect(csvField('SN-\u202e4321')).toBe('SN-\\u202e4321');
    expect(csvField('a\u2028b')).toBe('a\\u2028b');
    expect(csvField('\u0000=1+1')).toBe('\\u0000=1+1');
    expect(csvField('\t=1+1')).toBe("'\t=1+1");
    expect(csvField('\r=1+1')).toBe(`"'\r=1+1"`);
    expect(csvField('a\tb')).toBe('a\tb');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('meter 42 — réseau')).toBe('meter 42 — réseau');
  });

  test('the export parses back to the same cells', () => {
    const rows = [['a,"b"', 'c\nd', 'plain']];
    const csv = buildCsv(['x', 'y', 'z'], rows);
    expect(parseCsv(csv)).toEqual([['x', 'y', 'z'], ...rows]);
  });
});

describe('commissioning CSV limits', () => {
  const csv = 'id,serial,model,nodeKey\n1,S1,M,00\n2,S2,M,00\r\n3,S3,M,00\n\n';
  test('keeps the header and the first N lines', () => {
    expect(firstCsvLines(csv, 2)).toBe('id,serial,model,nodeKey\n1,S1,M,00\n2,S2,M,00\n');
    expect(countCsvLines(csv)).toBe(3);
  });
  test('works without a header', () => {
    expect(firstCsvLines('1,a\n2,b\n', 1)).toBe('1,a\n');
    expect(countCsvLines('1,a\n2,b\n')).toBe(2);
  });
});

/** A minimal RFC 4180 reader, only to prove the writer round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}
