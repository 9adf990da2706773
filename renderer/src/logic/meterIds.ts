/**
 * Meters typed by an operator: ids, ranges (`100-180`) and serials, separated by commas, semicolons or
 * white space. A serial is resolved against the group's meters; a token of digits is always an id, and
 * digits-dash-digits a range unless it is a known serial.
 */
export const MAX_METER_ID = 0xffff_ffff;
/** meters one entry or the whole list may name: a typo such as `1-4000000000` must not freeze the page */
export const MAX_METERS_TYPED = 100_000;
/** entries named in the summary before the rest are counted */
const SUMMARY_ENTRIES = 8;
/** ids named in one problem before the rest are counted */
const LISTED_IDS = 5;

export interface ParsedMeterIds {
  /** valid ids in the order typed, duplicates dropped */
  readonly ids: readonly number[];
  /** one line per problem; the list is usable only when this is empty */
  readonly problems: readonly string[];
  /** what was understood, before anything is planned: "12 meters: 100-108, SN-4711 (meter 42), 7"; empty when nothing was */
  readonly summary: string;
}

export interface MeterIdOptions {
  /** the ids that may be named, once loaded */
  readonly known?: ReadonlySet<number> | undefined;
  /** why an id outside `known` may not be named, after the id: "is not a member of the group" */
  readonly unknown?: string;
  /** serial -> meter id of the group's meters, once loaded */
  readonly serials?: ReadonlyMap<string, number> | undefined;
}

const count = (n: number) => `${n.toLocaleString('en')} meter${n === 1 ? '' : 's'}`;

/** A token as a problem quotes it: control characters made visible, and at most 24 characters. */
function quoted(token: string): string {
  const visible = token.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `"${visible.length > 24 ? `${visible.slice(0, 24)}…` : visible}"`;
}

function listed(ids: readonly number[]): string {
  const shown = ids.slice(0, LISTED_IDS).join(', ');
  return ids.length > LISTED_IDS ? `${shown} and ${ids.length - LISTED_IDS} more` : shown;
}

/** One typed entry resolved to the ids first…last, or the reason it could not be; built only once it fits. */
type Entry = { readonly label: string; readonly first: number; readonly last: number } | { readonly problem: string };

function readId(digits: string): number | undefined {
  const id = Number(digits);
  return Number.isSafeInteger(id) && id >= 1 && id <= MAX_METER_ID ? id : undefined;
}

function resolve(token: string, serials: ReadonlyMap<string, number> | undefined): Entry {
  const bySerial = serials?.get(token);
  if (/^\d+$/.test(token)) {
    const id = readId(token);
    return id === undefined ? { problem: `${quoted(token)} is out of range: meter ids are 1…${MAX_METER_ID}` } : { label: String(id), first: id, last: id };
  }
  if (bySerial !== undefined) return { label: `${token} (meter ${bySerial})`, first: bySerial, last: bySerial };
  const range = /^(\d+)-(\d+)$/.exec(token);
  if (range !== null) {
    const [from, to] = [readId(range[1]!), readId(range[2]!)];
    if (from === undefined || to === undefined) return { problem: `${quoted(token)} is out of range: meter ids are 1…${MAX_METER_ID}` };
    if (from > to) return { problem: `${token} runs backwards: write ${to}-${from}` };
    if (to - from + 1 > MAX_METERS_TYPED) return { problem: `${token} names ${count(to - from + 1)}: at most ${count(MAX_METERS_TYPED)} in one range` };
    return { label: from === to ? String(from) : token, first: from, last: to };
  }
  if (/^-\d+$/.test(token)) return { problem: `${quoted(token)} is negative: meter ids are 1…${MAX_METER_ID}` };
  if (serials === undefined) return { problem: `${quoted(token)} is not a meter id or a range (serials are resolved once the group is loaded)` };
  return { problem: `${quoted(token)} is not a meter id, a range such as 100-180, or the serial of a meter of the group` };
}

export function parseMeterIds(text: string, options: MeterIdOptions = {}): ParsedMeterIds {
  const { known, serials, unknown = 'is not a member of the group' } = options;
  const ids: number[] = [];
  const problems: string[] = [];
  const labels: string[] = [];
  const seen = new Set<number>();
  /** entries past the bound: one problem names the first and counts them */
  const overflow: string[] = [];
  // "100 - 180" is one range, not three entries
  const tokens = text.replace(/(\d)[ \t]*-[ \t]*(?=\d)/g, '$1-').split(/[\s,;]+/);
  for (const token of tokens) {
    if (token === '') continue;
    const entry = resolve(token, serials);
    if ('problem' in entry) {
      problems.push(entry.problem);
      continue;
    }
    const single = entry.first === entry.last;
    if (ids.length + entry.last - entry.first + 1 > MAX_METERS_TYPED) {
      overflow.push(entry.label);
      continue;
    }
    const repeated: number[] = [];
    const refused: number[] = [];
    const taken = ids.length;
    for (let id = entry.first; id <= entry.last; id++) {
      if (seen.has(id)) repeated.push(id);
      else if (known !== undefined && !known.has(id)) refused.push(id);
      else {
        seen.add(id);
        ids.push(id);
      }
    }
    if (repeated.length > 0) problems.push(single ? `${entry.label} is listed twice` : `${entry.label}: ${listed(repeated)} listed already`);
    if (refused.length > 0) problems.push(single ? `${entry.label} ${unknown}` : `${entry.label}: ${listed(refused)} — each ${unknown}`);
    if (ids.length > taken) labels.push(entry.label);
  }
  if (overflow.length > 0) {
    const entries = `${overflow.length} entr${overflow.length === 1 ? 'y' : 'ies'}`;
    problems.push(`the list may name at most ${count(MAX_METERS_TYPED)}: ${entries} from ${overflow[0]} on would pass it; plan them separately`);
  }
  const shown = labels.slice(0, SUMMARY_ENTRIES).join(', ');
  const more = labels.length > SUMMARY_ENTRIES ? `, … and ${labels.length - SUMMARY_ENTRIES} more entries` : '';
  return { ids, problems, summary: ids.length === 0 ? '' : `${count(ids.length)}: ${shown}${more}` };
}
