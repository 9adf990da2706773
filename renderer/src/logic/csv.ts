/**
 * CSV export (RFC 4180): fields holding a comma, a quote or a line break are quoted, quotes doubled.
 * A text cell starting with = + - @ (or a tab/CR) is prefixed with ' so a spreadsheet opening the
 * export does not run it as a formula: serials and models come from imported files.
 * Other control characters (C0 but tab and line breaks, DEL, C1), the Unicode line separators and
 * the bidirectional overrides are written as \uXXXX, as the audit's JSON details already show them:
 * an ESC sequence must not reach a terminal that prints the file, nor a reversed run disguise a
 * serial in a viewer.
 */
export type CsvCell = string | number | boolean | null | undefined;

const NUMBER = /^-?\d+(\.\d+)?$/;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function csvField(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  let text = String(cell).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof cell === 'string' && /^[=+\-@\t\r]/.test(text) && !NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function buildCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
