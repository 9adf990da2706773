import { z } from 'zod';
import { fromHex, KEY_BYTES, type Plan } from '../grep/index.js';
import { escapeControl } from '../text/escape.js';
import { ServiceError } from './errors.js';
import { inSlices } from './slices.js';

/*
 * What the operator sees before confirming (ARCHITECTURE.md: plan -> confirm -> execute): the inputs
 * checked at the service boundary, the commissioning CSV read line by line, and the cost of the
 * operation under GREP set against the two schemes an operator would otherwise run.
 */

const meterId = z.number().int().min(1).max(0xffffffff);
const text = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((value) => !/[,\n\r]/.test(value), 'must not contain commas or line breaks')
  // a serial or model is shown on terminals and in logs: an ESC, C1 or bidi control there would act on them
  .refine((value) => escapeControl(value) === value, 'must not contain control characters (ESC, C1, bidi controls)');
const nodeKeyHex = z.string().regex(new RegExp(`^[0-9a-fA-F]{${KEY_BYTES * 2}}$`), `node key must be ${KEY_BYTES * 2} hex digits`);

export const CommissionInput = z.object({ id: meterId, serial: text, model: text, nodeKey: nodeKeyHex }).strict();
export type CommissionInput = z.infer<typeof CommissionInput>;
export const MeterIds = z.array(meterId).max(1_000_000);
export const PlanId = z.string().uuid();

/** Parses with `schema` or throws BAD_INPUT naming the offending field. */
export function validate<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  throw new ServiceError('BAD_INPUT', `${what}: ${issues.join('; ')}`);
}

export interface CommissionRow {
  readonly line: number;
  readonly id: number;
  readonly serial: string;
  readonly model: string;
  readonly nodeKey: Uint8Array;
}

export interface RejectedRow {
  readonly line: number;
  readonly reason: string;
}

const MiB = 1024 * 1024;

/**
 * The most one commissioning plan takes, whichever door it comes through (console, API, grepctl): a CSV
 * of at most `csvMeters` lines besides a header line (blank lines count) and `csvBytes` bytes, or a list
 * of at most `listMeters` meters (the console's form, scripts). Larger input is refused with TOO_LARGE
 * before any of it is read; a larger fleet is commissioned from several files, one plan each. Planning is
 * linear and yields to the event loop, so the bounds keep a plan reviewable and its memory in check.
 */
export const COMMISSION_LIMIT = { csvMeters: 100_000, csvBytes: 16 * MiB, listMeters: 10_000 } as const;

const split = 'split the file and commission the parts one after the other';
const HEADER = /^\s*id\s*,/i;

/**
 * Refuses a CSV over COMMISSION_LIMIT with TOO_LARGE. Cheap whatever the input: the line count stops at
 * the first line over the limit, so the console and grepctl call it before doing any other work.
 */
export function checkCommissioningCsv(csv: string): void {
  const bytes = Buffer.byteLength(csv, 'utf8');
  if (bytes > COMMISSION_LIMIT.csvBytes) {
    throw new ServiceError('TOO_LARGE', `the CSV is ${bytes} bytes, over the limit of ${COMMISSION_LIMIT.csvBytes / MiB} MiB per commissioning plan: ${split}`);
  }
  const firstBreak = csv.indexOf('\n');
  const allowed = COMMISSION_LIMIT.csvMeters + (HEADER.test(firstBreak === -1 ? csv : csv.slice(0, firstBreak)) ? 1 : 0);
  let lines = 0;
  for (let at = 0; at < csv.length && lines <= allowed; lines++) {
    const end = csv.indexOf('\n', at);
    at = end === -1 ? csv.length : end + 1;
  }
  if (lines > allowed) {
    throw new ServiceError('TOO_LARGE', `the CSV has more than ${COMMISSION_LIMIT.csvMeters} lines besides its header, the limit per commissioning plan: ${split}`);
  }
}

/** Refuses a list of meters over COMMISSION_LIMIT with TOO_LARGE. */
export function checkCommissionList(meters: readonly unknown[]): void {
  if (meters.length > COMMISSION_LIMIT.listMeters) {
    throw new ServiceError('TOO_LARGE', `${meters.length} meters are over the limit of ${COMMISSION_LIMIT.listMeters} per listed commissioning: give a larger fleet as a CSV`);
  }
}

/** The lines of `csv` as split(/\r?\n/) would give them, one at a time rather than 10^5 strings at once. */
function* csvLines(csv: string): Generator<string> {
  for (let at = 0; ; ) {
    const end = csv.indexOf('\n', at);
    if (end === -1) {
      yield csv.slice(at);
      return;
    }
    yield csv.slice(at, csv[end - 1] === '\r' ? end - 1 : end);
    at = end + 1;
  }
}

/** A spreadsheet saved with semicolons or tabs: say so, rather than only that a line has one field. */
function separatorHint(raw: string): string {
  const used = [';', '\t'].find((separator) => raw.split(separator).length === 4);
  return used ? `; the fields seem separated by ${used === ';' ? 'semicolons' : 'tabs'}: save the file with commas` : '';
}

/**
 * `id,serial,model,nodeKey` with an optional header line, refused whole over COMMISSION_LIMIT. Every line
 * is judged on its own, so the operator gets all the bad lines at once; a reason names the line and
 * field but never echoes a node key. Read a slice at a time, so a large file never holds up the event loop.
 */
export async function parseCommissioningCsv(csv: string): Promise<{ rows: CommissionRow[]; rejected: RejectedRow[] }> {
  checkCommissioningCsv(csv);
  const rows: CommissionRow[] = [];
  const rejected: RejectedRow[] = [];
  const firstLine = new Map<number, number>();
  await inSlices(csvLines(csv), (raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || (index === 0 && HEADER.test(raw))) return;
    const fields = raw.split(',');
    if (fields.length !== 4) return rejected.push({ line, reason: `expected 4 fields (id,serial,model,nodeKey), found ${fields.length}${separatorHint(raw)}` });
    const [id, serial, model, nodeKey] = fields.map((field) => field.trim()) as [string, string, string, string];
    const parsed = CommissionInput.safeParse({ id: /^\d+$/.test(id) ? Number(id) : Number.NaN, serial, model, nodeKey });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return rejected.push({ line, reason: `${String(issue.path[0] ?? 'line')}: ${issue.path[0] === 'id' ? 'must be an integer in 1..2^32-1' : issue.message}` });
    }
    const earlier = firstLine.get(parsed.data.id);
    if (earlier !== undefined) return rejected.push({ line, reason: `meter ${parsed.data.id} is already on line ${earlier}` });
    firstLine.set(parsed.data.id, line);
    rows.push({ line, id: parsed.data.id, serial: parsed.data.serial, model: parsed.data.model, nodeKey: fromHex(parsed.data.nodeKey) });
  });
  return { rows, rejected };
}

/** Sizes of the comparison schemes (main/grep/baselines): basic sends each member KG in one 48-byte unicast. */
const BASIC_UNICAST_BYTES = 48;
const LKH_WRAPPED_KEY_BYTES = 38;
const LKH_BROADCAST_OVERHEAD = 80;

export interface SchemeCost {
  readonly broadcasts: number;
  readonly unicasts: number;
  readonly bytes: number;
}

export interface CostComparison {
  readonly grep: SchemeCost;
  /** one unicast of KG per member that must learn it */
  readonly basic: SchemeCost;
  /** an estimate: one broadcast per rekey carrying its wrapped keys */
  readonly lkh: SchemeCost;
}

/** What one rekey (or resync) of the operation costs the baselines, in their own units. */
export interface BaselineRound {
  readonly basicUnicasts: number;
  readonly lkhWrappedKeys: number;
}

/** Depth of a binary LKH tree over `size` leaves. */
const lkhDepth = (size: number) => Math.max(1, Math.ceil(Math.log2(Math.max(2, size))));

export const baselineRounds = {
  /** the joiner's path is new: ~2·ceil(log2 n) wrapped keys; basic sends the new KG to all n */
  join: (sizeAfter: number): BaselineRound => ({ basicUnicasts: sizeAfter, lkhWrappedKeys: 2 * lkhDepth(sizeAfter) }),
  /** every removed leaf's path changes; basic sends the new KG to the n − |C| that stay */
  remove: (sizeBefore: number, removed: number): BaselineRound => ({
    basicUnicasts: sizeBefore - removed,
    lkhWrappedKeys: Math.min(2 * lkhDepth(sizeBefore) * removed, 2 * sizeBefore),
  }),
  /** only the group key changes: LKH wraps it once under the old one */
  periodic: (size: number): BaselineRound => ({ basicUnicasts: size, lkhWrappedKeys: 1 }),
  /** a member's whole path, or its KG */
  resync: (size: number): BaselineRound => ({ basicUnicasts: 1, lkhWrappedKeys: lkhDepth(size) + 1 }),
  /** fresh everything: basic sends each member a new KG, LKH rebuilds its tree (every node wrapped for its two children) */
  reseed: (size: number): BaselineRound => ({ basicUnicasts: size, lkhWrappedKeys: 2 * size }),
};

export function compareCosts(grep: readonly Plan[], rounds: readonly BaselineRound[]): CostComparison {
  const total = (pick: (plan: Plan) => number) => grep.reduce((sum, plan) => sum + pick(plan), 0);
  const basicUnicasts = rounds.reduce((sum, round) => sum + round.basicUnicasts, 0);
  const wrappedKeys = rounds.reduce((sum, round) => sum + round.lkhWrappedKeys, 0);
  return {
    grep: { broadcasts: total((plan) => plan.broadcasts), unicasts: total((plan) => plan.unicasts), bytes: total((plan) => plan.bytes) },
    basic: { broadcasts: 0, unicasts: basicUnicasts, bytes: basicUnicasts * BASIC_UNICAST_BYTES },
    lkh: { broadcasts: rounds.length, unicasts: 0, bytes: wrappedKeys * LKH_WRAPPED_KEY_BYTES + rounds.length * LKH_BROADCAST_OVERHEAD },
  };
}

/** Message counts by kind, the DC's KG copy included, for plans and the history table. */
export function countByKind(plans: readonly Plan[]): Record<string, number> {
  const counts: Record<string, number> = { keyUpdate: 1 };
  for (const plan of plans) for (const message of plan.messages) counts[message.type] = (counts[message.type] ?? 0) + 1;
  return counts;
}
