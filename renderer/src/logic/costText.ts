import type { CommissionMethod, CommissionOptionView, LeaveCostView, PlanView, SchemeCostView } from '../../../preload/api.js';

/**
 * What an operation costs on the DC's medium, in the words the operator weighs a re-seed with:
 * exact bytes, message counts, airtime at the medium's bit rate (never guessed when the DC does not
 * say it), and the chosen commissioning method against the others.
 */

/** 61230 -> "61,230 B": exact, as the plans count them */
export function exactBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} B`;
}

export function messageCount(cost: SchemeCostView): number {
  return cost.broadcasts + cost.unicasts;
}

const plural = (count: number, what: string) => `${count.toLocaleString('en-US')} ${what}${count === 1 ? '' : 's'}`;

/** "1,234 B (11 messages)" */
function costText(cost: SchemeCostView): string {
  return `${exactBytes(cost.bytes)} (${plural(messageCount(cost), 'message')})`;
}

/**
 * The Actions and History screens' line on the suspicion record (GREP.md §6): what it makes a plain
 * leave cost, against the same leave once a re-seed has emptied it.
 */
export function recordSentence(cost: LeaveCostView): string {
  if (cost.record === 0) return `the suspicion record is empty: a leave costs ${costText(cost.plain)}`;
  return `a leave now costs ${costText(cost.now)} instead of ${exactBytes(cost.plain.bytes)} (${messageCount(cost.plain)}): the suspicion record holds ${plural(cost.record, 'meter')}`;
}

/**
 * The cost chart's note while the record is not empty: GREP's leave and recovery bars include it, so
 * they can stand far above LKH's with no other cause on the chart. Undefined when the record is empty.
 */
export function recordChartNote(cost: LeaveCostView): string | undefined {
  if (cost.record === 0) return undefined;
  return `GREP's leave and recovery include the suspicion record, which holds ${plural(cost.record, 'meter')}: a leave of meter ${cost.meter} costs ${costText(cost.now)} with it and ${costText(cost.plain)} once a re-seed has emptied it.`;
}

/** Before departed meters are suspected: what every later leave will cost with them in the record. */
export function suspectSentence(cost: LeaveCostView): string {
  if (cost.withSuspects.bytes === cost.now.bytes && messageCount(cost.withSuspects) === messageCount(cost.now)) {
    return `each later leave costs ${costText(cost.now)}, as now`;
  }
  return `each later leave will cost ${costText(cost.withSuspects)} instead of ${exactBytes(cost.now.bytes)} (${messageCount(cost.now)}) now`;
}

/** A removal planned while the record is not empty: what the record adds to it, from the plan itself. */
export function recordAddsSentence(plan: Pick<PlanView, 'operation' | 'broadcasts' | 'unicasts' | 'bytes' | 'recordAdds'>): string | undefined {
  const adds = plan.recordAdds;
  if (adds === undefined) return undefined;
  const without = { broadcasts: plan.broadcasts - adds.broadcasts, unicasts: plan.unicasts - adds.unicasts, bytes: plan.bytes - adds.bytes };
  const what = plan.operation === 'leave' ? 'leave' : 'recovery';
  return `this ${what} costs ${costText(plan)} instead of ${exactBytes(without.bytes)} (${messageCount(without)}): the suspicion record counts ${plural(adds.entries, 'meter')}`;
}

/** 100000 -> "100 kbit/s" */
export function formatBitRate(bitRate: number): string {
  const [value, unit] = bitRate >= 1e6 ? [bitRate / 1e6, 'Mbit/s'] : bitRate >= 1e3 ? [bitRate / 1e3, 'kbit/s'] : [bitRate, 'bit/s'];
  return `${Number(value.toFixed(value >= 100 ? 0 : 1))} ${unit}`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** Time on the medium for `bytes`; the rate is the DC link's (LinkView.bitRate), undefined when the DC does not report one. */
export function airtimeText(bytes: number, bitRate: number | undefined): string {
  if (bitRate === undefined || !(bitRate > 0)) return "airtime unknown: this DC does not report its medium's bit rate";
  return `about ${formatSeconds((bytes * 8) / bitRate)} of airtime at ${formatBitRate(bitRate)}`;
}

export const METHOD_LABEL: Readonly<Record<CommissionMethod, string>> = { joins: 'one join each', batch: 'batch join', reseed: 'compact re-seed' };

export interface MethodRow extends CommissionOptionView {
  readonly label: string;
  readonly chosen: boolean;
  /** bytes against the chosen method's: 1 for the chosen one */
  readonly ratio: number;
}

/** The methods sized for a commissioning, as the plan lists them (cheapest first, the chosen one), each with its bytes against the chosen one's. */
export function methodRows(commissioning: NonNullable<PlanView['commissioning']>): MethodRow[] {
  const base = commissioning.options.find((option) => option.method === commissioning.method)?.bytes ?? 0;
  return commissioning.options.map((option) => ({ ...option, label: METHOD_LABEL[option.method], chosen: option.method === commissioning.method, ratio: base > 0 ? option.bytes / base : 1 }));
}

/** "compact re-seed: 7,412 B — one join each: 61,230 B (8.3x more)" */
export function methodComparison(commissioning: NonNullable<PlanView['commissioning']>): string {
  return methodRows(commissioning)
    .map((row) => `${row.label}: ${exactBytes(row.bytes)}${row.chosen ? '' : ` (${row.ratio.toFixed(1)}x more)`}`)
    .join(' — ');
}
