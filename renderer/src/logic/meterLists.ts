/**
 * Meter lists inside record texts. The back end writes the meters an operation touched as a run of
 * ids, bare in History results ("unreachable: 4 9 12 …") and as JSON arrays in audit details
 * ("meters":[4,9,12,…]); at 2,000 meters one cell held hundreds of ids. A long run is shown as a
 * count with its ids, compressed into ranges, on demand.
 */

/** Runs shorter than this stay inline: "unreachable: 4 9 12" reads better than "3 meters". */
export const COLLAPSE_AT = 6;

/** A piece of a record text: plain text, or a run of meter ids long enough to collapse. */
export type MeterTextPart = { readonly text: string } | { readonly meters: readonly number[] };

/*
 * A run of at least COLLAPSE_AT whole numbers separated by commas or spaces. The look-arounds keep
 * decimals, hex digests and words with digits out: "2.5", "ab12", "v2" never start or end a run.
 */
const RUN = new RegExp(`(?<![\\w.])\\d+(?:[ ,]+\\d+){${COLLAPSE_AT - 1},}(?![\\w.])`, 'g');

export function splitMeterLists(text: string): MeterTextPart[] {
  const parts: MeterTextPart[] = [];
  let at = 0;
  for (const match of text.matchAll(RUN)) {
    if (match.index > at) parts.push({ text: text.slice(at, match.index) });
    parts.push({ meters: match[0].split(/[ ,]+/).map(Number) });
    at = match.index + match[0].length;
  }
  if (at < text.length || parts.length === 0) parts.push({ text: text.slice(at) });
  return parts;
}

/** [1,2,3,…,180,200,205,…,210] -> "1-180, 200, 205-210": sorted, each id once. */
export function compressRanges(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(', ');
}

/** "412 meters", "1 meter": distinct ids, as compressRanges lists them. */
export function meterCount(ids: readonly number[]): string {
  const count = new Set(ids).size;
  return `${count.toLocaleString('en-US')} meter${count === 1 ? '' : 's'}`;
}

/** The text with each long run replaced by its count: what a collapsed cell reads as. */
export function collapsedText(text: string): string {
  return splitMeterLists(text)
    .map((part) => ('text' in part ? part.text : meterCount(part.meters)))
    .join('');
}
